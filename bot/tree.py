"""The command tree: one error path that turns known errors into short, private replies."""

from __future__ import annotations

import contextlib
import logging

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.images import ImageError
from bot.jobs import texts
from bot.scenario import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    ScenarioError,
    ServerError,
)

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on the bot's side. The error was logged for the admin; please try again."


def message_for(error: BaseException) -> str | None:
    """The reply for an error the requester should hear about, or None if it is a bug to log."""
    if isinstance(error, UserFacingError | ImageError):
        return str(error)
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        log.error("Scenario refused the bot: %s", error)
        return texts.MISCONFIGURED
    if isinstance(error, BadRequestError):
        return f"Scenario refused the request: {error.reason}"
    if isinstance(error, ServerError | APIConnectionError):
        return f"Scenario is not answering properly right now ({error}). Nothing was charged; try again soon."
    if isinstance(error, ScenarioError):
        return f"Scenario answered with an error: {error}"
    if isinstance(error, app_commands.TransformerError):
        return f"`{error.value}` is not a valid value for that option."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    return None


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    """Reply so only the requester sees it, whatever state the interaction is in."""
    none = discord.AllowedMentions.none()
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=none)
        return
    if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        # The public "thinking…" placeholder would otherwise carry the error for everyone to see.
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=none)


class BotTree(app_commands.CommandTree):
    """A `CommandTree` whose `on_error` answers the requester and logs what is not their doing."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        text = message_for(original)
        if text is None:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("Unhandled error in /%s", command, exc_info=original)
            text = UNEXPECTED
        try:
            await reply_privately(interaction, text)
        except discord.HTTPException as exc:
            log.warning("Could not send an error reply: %s", exc)
