"""/status: the bot's health at a glance, for whoever runs it — privately, in one message."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.jobs.status import EngineStatus
from bot.metrics import LastError
from cogs._common import CONTEXTS, INSTALLS

if TYPE_CHECKING:
    from bot.app import ScenarioBot


def seconds(value: float) -> str:
    """`8.4 s`, `2.5 min`: short enough for one line."""
    return f"{value:.1f} s" if value < 90 else f"{value / 60:.1f} min"


def last_error(error: LastError | None) -> str:
    """`<t:…:R> — `text`` (Discord shows the time as "3 minutes ago"), or that there was none."""
    if error is None:
        return "none since the bot started"
    text = error.message.replace("`", "'")
    return f"{discord.utils.format_dt(error.at, 'R')} — `{text}`"


def render(status: EngineStatus) -> str:
    """The one private message `/status` answers with."""
    if status.p95_wait is None:
        wait = "no request was answered in the last hour"
    else:
        wait = f"p95 **{seconds(status.p95_wait)}** over {status.answered_last_hour} job(s) in the last hour"
    if status.ceiling is None:
        ceiling = "a ceiling not learned yet (Scenario's first 429 sets it)"
    else:
        ceiling = f"**{status.ceiling}** at once"
    lines = [
        "**Bot status**",
        f"📥 Queue: **{status.waiting}** waiting · **{status.running}** running of {ceiling}",
        f"⏱️ Request → result: {wait}",
        f"💳 Spent today (UTC): **{status.spent_today:g} CU** over {status.finished_today} finished job(s)",
        f"🎨 Last Scenario error: {last_error(status.last_scenario_error)}",
        f"💬 Last Discord error: {last_error(status.last_discord_error)}",
    ]
    return "\n".join(lines)


class Status(commands.Cog):
    """What an operator asks the bot about itself."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot

    @app_commands.command(name="status", description="Queue, errors, waits and today's spend (for server managers)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.allowed_installs(**INSTALLS)
    @app_commands.allowed_contexts(**CONTEXTS)
    async def status(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        """The queue, jobs running and the ceiling, the last errors, the p95 wait and today's spend, privately.

        It names no user, prompt or job, so in DMs (where Discord applies no member permission) anyone may ask.
        """
        status = await self.bot.engine.status()
        await interaction.response.send_message(
            render(status)[:2000], ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Status(bot))
