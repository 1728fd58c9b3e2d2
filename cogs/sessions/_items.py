"""The session buttons that work for days and across restarts: **Add idea** (opens the idea form) and
**👍 vote** (one per person per result; a second click takes it back; the count is on the button).

Both are `DynamicItem`s: everything they need is in their custom id and the job store.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord

from bot.errors import NotAllowedError, UserFacingError
from bot.posting import buttons
from bot.sessions import SessionRecord
from bot.sessions.admission import check_open
from bot.tree import UNEXPECTED, message_for, reply_privately
from cogs.sessions import _ideas

if TYPE_CHECKING:
    from bot.app import ScenarioBot

log = logging.getLogger(__name__)

IDEA_TEMPLATE = r"^ses:idea:(?P<thread>[0-9]{1,20})$"


async def open_session(interaction: discord.Interaction[ScenarioBot], thread_id: int) -> SessionRecord:
    """The session of a thread, if it still takes ideas (not ended, within its budget); else the reply why not."""
    session = await interaction.client.store.get_session(thread_id)
    if session is None:
        raise NotAllowedError("This is not a brainstorm session's thread. Start one with `/session start`.")
    await check_open(interaction.client.store, session)
    return session


async def answer_errors(interaction: discord.Interaction[ScenarioBot], error: Exception) -> None:
    """Buttons and forms share the slash commands' private error replies."""
    text = message_for(error)
    if text is None:
        log.error("Unhandled error in a session button or form", exc_info=error)
        text = UNEXPECTED
    try:
        await reply_privately(interaction, text)
    except discord.HTTPException as exc:
        log.warning("Could not send an error reply: %s", exc)


def add_idea_button(thread_id: int) -> discord.ui.Button:
    return discord.ui.Button(
        label="Add idea", emoji="💡", style=discord.ButtonStyle.success, custom_id=f"ses:idea:{thread_id}"
    )


class AddIdeaButton(discord.ui.DynamicItem[discord.ui.Button], template=IDEA_TEMPLATE):
    """Opens the idea form for the session of the thread in its custom id."""

    def __init__(self, thread_id: int) -> None:
        super().__init__(add_idea_button(thread_id))
        self.thread_id = thread_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[ScenarioBot], item: discord.ui.Button, match: re.Match[str], /
    ) -> AddIdeaButton:
        return cls(int(match["thread"]))

    async def callback(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        try:
            await open_session(interaction, self.thread_id)
            await interaction.response.send_modal(_ideas.form(self.thread_id))
        except Exception as exc:
            await answer_errors(interaction, exc)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=buttons.VOTE_TEMPLATE):
    """👍 under a session's result: toggles the clicker's vote and shows the new count on the button."""

    def __init__(self, job_id: str) -> None:
        super().__init__(buttons.vote_button(job_id))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[ScenarioBot], item: discord.ui.Button, match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["job"])

    async def callback(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        try:
            await self._vote(interaction)
        except Exception as exc:
            await answer_errors(interaction, exc)

    async def _vote(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        store = interaction.client.store
        job = await store.get(self.job_id)
        if job is None or job.session_id is None:
            raise NotAllowedError("This result is not part of a session any more.")
        session = await store.get_session(job.session_id)
        if session is None or session.ended:
            raise UserFacingError("🔒 This session has ended: its votes are final.")
        _, count = await store.toggle_vote(job.id, interaction.user.id)
        view = discord.ui.View.from_message(interaction.message, timeout=None) if interaction.message else None
        if view is None:
            await interaction.response.defer()
            return
        for item in view.children:
            if isinstance(item, discord.ui.Button) and item.custom_id == self.custom_id:
                item.label = buttons.vote_label(count)
        view.stop()  # the registered DynamicItems answer clicks; no copy of the view is kept per message
        await interaction.response.edit_message(view=view)
