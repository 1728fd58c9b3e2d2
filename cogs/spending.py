"""/usage and /budget: what was spent, what remains, and the server's own budgets, blocks and overrides."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NotAllowedError, UserFacingError
from bot.jobs import texts, usage
from bot.jobs.budgets import SERVER, Standing, resets_text
from bot.jobs.spend import Scope, month_window
from cogs._common import CONTEXTS, INSTALLS

if TYPE_CHECKING:
    from bot.app import ScenarioBot

NONE = discord.AllowedMentions.none()
LABELS = {
    Scope.USER: "Your daily budget",
    Scope.SERVER: "This server's monthly budget",
    Scope.TOTAL: "The bot's monthly budget",
}
MAX_CU = 10_000_000


def standing_line(standing: Standing) -> str:
    """`Your daily budget: 5 CU left of 25 CU · resets …`, or what was spent under an unlimited one."""
    label, limit = LABELS[standing.limit.scope], standing.limit
    if math.isinf(limit.limit_cu):
        return f"• {label}: unlimited ({texts.cu(standing.spent)} spent)"
    left = f"{texts.cu(standing.remaining)} left of {texts.cu(limit.limit_cu)}"
    return f"• {label}: {left} · resets {resets_text(limit.resets)}"


def personal_report(standings: list[Standing]) -> str:
    today = next(s.spent for s in standings if s.limit.scope is Scope.USER)
    lines = ["**Your usage**", f"💳 Spent today (UTC): {texts.cu(today)}", *map(standing_line, standings)]
    return "\n".join(lines)


def budget_or_default(value: float | None, default: float | None) -> str:
    if value is not None:
        return f"{texts.cu(value)} (set here)"
    return "unlimited (default)" if default is None else f"{texts.cu(default)} (default)"


class Spending(commands.Cog):
    """What was spent, and the server's budgets."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot

    # -- /usage ----------------------------------------------------------------------------------------
    @app_commands.command(name="usage", description="What you spent today and what remains of your budgets")
    @app_commands.describe(
        scope="me (default): your own usage; server: this month's usage in this server (Manage Server)"
    )
    @app_commands.choices(
        scope=[app_commands.Choice(name="me", value="me"), app_commands.Choice(name="server", value="server")]
    )
    @app_commands.allowed_installs(**INSTALLS)
    @app_commands.allowed_contexts(**CONTEXTS)
    async def usage(self, interaction: discord.Interaction[ScenarioBot], scope: str | None = None) -> None:
        """Privately: today's spend and every budget that applies here, or with `scope:server` the server's month."""
        if scope == "server":
            await self._server_usage(interaction)
            return
        in_server = interaction.guild_id is not None and self.bot.get_guild(interaction.guild_id) is not None
        standings = await self.bot.engine.budgets.standings(interaction.user.id, interaction.guild_id, in_server)
        await interaction.response.send_message(personal_report(standings), ephemeral=True, allowed_mentions=NONE)

    async def _server_usage(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        guild_id = interaction.guild_id
        if guild_id is None or self.bot.get_guild(guild_id) is None:
            raise UserFacingError("`scope:server` works in a server the bot is a member of.")
        if not interaction.permissions.manage_guild:
            raise NotAllowedError("`/usage scope:server` is for members with the Manage Server permission.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        engine = self.bot.engine
        month_start, next_month = month_window(engine.clock.now())
        charges = await engine.store.charges(month_start, guild_id=guild_id)
        standing = next(
            s
            for s in await engine.budgets.standings(interaction.user.id, guild_id, True)
            if s.limit.scope is Scope.SERVER
        )
        spent = usage.total(charges)
        lines = [
            f"**This server's usage — {month_start:%B %Y}** (UTC)",
            f"💳 Spent this month: {texts.cu(spent)} over {len(charges)} job(s)",
            standing_line(standing),
            "🏆 Top spenders:",
        ]
        spenders = usage.top_spenders(charges)
        lines += [f"{n}. <@{s.user_id}> — {texts.cu(s.spent)} ({s.jobs} job(s))" for n, s in enumerate(spenders, 1)]
        if not spenders:
            lines.append("nobody yet")
        per_day = usage.daily(charges, month_start, (next_month - month_start).days)
        files = [
            discord.File(io.BytesIO(usage.daily_chart(per_day)), filename="usage-daily.png"),
            discord.File(io.BytesIO(usage.jobs_csv(charges)), filename=f"usage-{month_start:%Y-%m}.csv"),
        ]
        await interaction.followup.send("\n".join(lines)[:2000], files=files, ephemeral=True, allowed_mentions=NONE)

    # -- /budget ---------------------------------------------------------------------------------------
    budget = app_commands.Group(
        name="budget",
        description="This server's spending limits, in Scenario creative units (CU)",
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
    )

    def _guild(self, interaction: discord.Interaction[ScenarioBot]) -> int:
        if interaction.guild_id is None or self.bot.get_guild(interaction.guild_id) is None:
            raise UserFacingError("Budgets are set in a server the bot is a member of.")
        return interaction.guild_id

    async def _answer(self, interaction: discord.Interaction[ScenarioBot], text: str) -> None:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)

    @budget.command(name="user", description="Set a member's daily budget in this server (leave daily_cu out: default)")
    @app_commands.describe(member="Whose budget", daily_cu="CU per UTC day; leave empty to go back to the default")
    async def budget_user(
        self,
        interaction: discord.Interaction[ScenarioBot],
        member: discord.User,
        daily_cu: app_commands.Range[float, 0, MAX_CU] | None = None,
    ) -> None:
        """A member's daily budget here."""
        await self.bot.engine.budgets.set_override(self._guild(interaction), member.id, daily_cu)
        shown = budget_or_default(daily_cu, self.bot.engine.config.budget_user_daily_cu)
        await self._answer(interaction, f"{member.mention}'s daily budget here: {shown}.")

    @budget.command(name="server", description="Set this server's monthly budget (leave monthly_cu out: default)")
    @app_commands.describe(monthly_cu="CU per calendar month (UTC); leave empty to go back to the default")
    async def budget_server(
        self,
        interaction: discord.Interaction[ScenarioBot],
        monthly_cu: app_commands.Range[float, 0, MAX_CU] | None = None,
    ) -> None:
        """This server's monthly budget."""
        await self.bot.engine.budgets.set_override(self._guild(interaction), SERVER, monthly_cu)
        shown = budget_or_default(monthly_cu, self.bot.engine.config.budget_server_monthly_cu)
        await self._answer(interaction, f"This server's monthly budget: {shown}.")

    @budget.command(name="block", description="Block a member from generating images in this server")
    @app_commands.describe(member="Who may no longer start jobs here")
    async def budget_block(self, interaction: discord.Interaction[ScenarioBot], member: discord.User) -> None:
        """Block a member here."""
        await self.bot.engine.budgets.set_blocked(self._guild(interaction), member.id, True)
        await self._answer(interaction, f"{member.mention} is blocked: their requests here are refused.")

    @budget.command(name="unblock", description="Let a blocked member generate images in this server again")
    @app_commands.describe(member="Who may start jobs here again")
    async def budget_unblock(self, interaction: discord.Interaction[ScenarioBot], member: discord.User) -> None:
        """Lift a block."""
        await self.bot.engine.budgets.set_blocked(self._guild(interaction), member.id, False)
        await self._answer(interaction, f"{member.mention} is no longer blocked here.")

    @budget.command(name="show", description="This server's budgets, overrides and blocked members")
    async def budget_show(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        """Every budget that applies here."""
        guild_id = self._guild(interaction)
        config = self.bot.engine.config
        confirm = config.confirm_above_cu
        overrides, blocked = await self.bot.engine.budgets.rules(guild_id)
        lines = [
            "**Budgets in this server**",
            f"• Each member per UTC day: {budget_or_default(None, config.budget_user_daily_cu)}",
            f"• This server per month: {budget_or_default(overrides.get(SERVER), config.budget_server_monthly_cu)}",
            f"• The whole bot per month: {budget_or_default(None, config.budget_total_monthly_cu)}",
            f"• Asks to confirm above: {'never' if confirm is None else texts.cu(confirm)}",
        ]
        members = {user: cu for user, cu in overrides.items() if user != SERVER}
        if members:
            lines.append("Members' daily budgets: " + ", ".join(f"<@{u}> {texts.cu(cu)}" for u, cu in members.items()))
        lines.append("Blocked: " + (", ".join(f"<@{u}>" for u in sorted(blocked)) or "nobody"))
        await self._answer(interaction, "\n".join(lines)[:2000])


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Spending(bot))
