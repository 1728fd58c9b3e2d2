"""/prefer: a person's own defaults for /imagine (and the speed of /character), kept across restarts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.library.models import Preferences
from cogs._common import CONTEXTS, INSTALLS, check_range, choices, pick
from cogs.imagine import SIZES, SPEED_NAMES

if TYPE_CHECKING:
    from bot.app import ScenarioBot

LABELS = {"speed": "Speed", "size": "Size", "count": "Images", "expand_prompt": "Prompt expansion"}


def describe(preferences: Preferences) -> str:
    """Each default the person has set, in words."""
    values = preferences.values()
    if not values:
        return "You have no personal defaults: every option you leave out takes the server's or the model's default."
    shown = {
        "speed": SPEED_NAMES.get(str(values.get("speed")), ""),
        "size": SIZES.get(str(values.get("size")), ""),
        "count": str(values.get("count")),
        "expand_prompt": "on" if values.get("expand_prompt") else "off",
    }
    lines = [f"• {LABELS[name]}: **{shown[name]}**" for name in Preferences.OPTIONS if name in values]
    return "Your defaults (an option you give a command always wins):\n" + "\n".join(lines)


class Prefer(commands.Cog):
    """Personal defaults: an option given to a command wins over them; they win over the server's defaults."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot

    @app_commands.command(name="prefer", description="Set your own defaults for /imagine; with no option, show them")
    @app_commands.describe(
        speed="Your default speed (also for /character)",
        size="Your default image size",
        count="Your default number of images, 1–4",
        expand_prompt="Whether the model enriches your prompt by default",
        reset="Forget all your defaults first",
    )
    @app_commands.choices(size=choices(SIZES), speed=choices(SPEED_NAMES))
    @app_commands.allowed_installs(**INSTALLS)
    @app_commands.allowed_contexts(**CONTEXTS)
    async def prefer(
        self,
        interaction: discord.Interaction[ScenarioBot],
        speed: str | None = None,
        size: str | None = None,
        count: app_commands.Range[int, 1, 4] | None = None,
        expand_prompt: bool | None = None,
        reset: bool = False,
    ) -> None:
        values = {
            "speed": pick("speed", speed, {key: key for key in SPEED_NAMES}),
            "size": pick("size", size, {key: key for key in SIZES}),
            "count": check_range("count", count, 1, 4),
            "expand_prompt": expand_prompt,
        }
        if reset or any(value is not None for value in values.values()):
            preferences = await self.bot.library.prefer(interaction.user.id, reset=reset, **values)
            prefix = "✅ Saved. " if not reset else "✅ Reset. "
        else:
            preferences = await self.bot.library.preferences(interaction.user.id)
            prefix = ""
        await interaction.response.send_message(prefix + describe(preferences), ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())  # fmt: skip


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Prefer(bot))
