"""Run / Cancel under "This will cost about N CU": a request above `CONFIRM_ABOVE_CU` starts only on Run.

The buttons are `DynamicItem`s whose custom_id carries the job id (`bot.posting.buttons.CONFIRM_TEMPLATE`) and
the waiting request is in the job store, so both work after a restart. Run answers with a public "thinking…"
message that becomes the job's progress and result, exactly like a result button's new job.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.jobs import texts
from bot.posting import buttons
from cogs._common import requester_context
from cogs.results import answer_errors

if TYPE_CHECKING:
    from bot.app import ScenarioBot


class _ConfirmButton(discord.ui.DynamicItem[discord.ui.Button], template=buttons.CONFIRM_TEMPLATE):
    """Run or Cancel for one waiting request."""

    def __init__(self, action: str, job_id: str) -> None:
        super().__init__(buttons.confirm_button(action, job_id))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[ScenarioBot], item: discord.ui.Button, match: re.Match[str], /
    ) -> _ConfirmButton:
        return cls(match["action"], match["job"])

    async def callback(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        engine = interaction.client.engine
        try:
            if self.action == "cancel":
                await engine.cancel_confirmation(self.job_id, interaction.user.id)
                await interaction.response.edit_message(content=texts.CONFIRM_CANCELED, view=None)
                return
            # The job's public message: its progress, then its result (the ephemeral prompt stays private).
            await interaction.response.defer(thinking=True)
            await engine.run_confirmed(self.job_id, requester_context(interaction))
        except Exception as exc:
            await answer_errors(interaction, exc)


class Confirm(commands.Cog):
    """Registers the Run and Cancel buttons."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(_ConfirmButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(_ConfirmButton)


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Confirm(bot))
