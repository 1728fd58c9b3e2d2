"""What the generation cogs share: option validation, the requester's context, and starting a job."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.errors import InvalidInputError
from bot.jobs import texts
from bot.jobs.budgets import ConfirmationNeeded
from bot.jobs.models import Command, JobRecord
from bot.posting import buttons, channel_is_age_restricted
from bot.scenario import PROMPT_MAX_LENGTH
from bot.scenario import SEED_MAX as SEED_MAX  # the cogs' option ranges use the API's bound
from bot.scenario.errors import InputError

if TYPE_CHECKING:
    from bot.app import ScenarioBot

INSTALLS = {"guilds": True, "users": True}
CONTEXTS = {"guilds": True, "dms": True, "private_channels": True}


def choices(names: Mapping[str, str]) -> list[app_commands.Choice[str]]:
    """Slash-command choices from {value: friendly name}."""
    return [app_commands.Choice(name=name, value=value) for value, name in names.items()]


def pick(option: str, value: str | None, allowed: Mapping[str, str]) -> str | None:
    """Map a choice's option value to the API's value; a value a modified client made up is refused."""
    if value is None:
        return None
    if value not in allowed:
        raise InvalidInputError(f"`{option}` must be one of {', '.join(allowed)} — `{value}` is not one of them.")
    return allowed[value]


def check_range(option: str, value: int | None, low: int, high: int) -> int | None:
    if value is not None and not low <= value <= high:
        raise InvalidInputError(f"`{option}` must be between {low} and {high} — `{value}` is not.")
    return value


def check_prompt(prompt: str) -> str:
    if not prompt or not prompt.strip():
        raise InvalidInputError("The prompt is empty. Describe the image you want, e.g. `a neon sign that says OPEN`.")
    if len(prompt) > PROMPT_MAX_LENGTH:
        raise InvalidInputError(
            f"The prompt is {len(prompt)} characters long; the limit is {PROMPT_MAX_LENGTH}. Please shorten it."
        )
    if "\x00" in prompt:  # a modified client can send it; no store (PostgreSQL) or API should have to
        raise InvalidInputError("The prompt contains a NUL character, which cannot be sent. Remove it and try again.")
    return prompt


def validated_body(model: type, **fields: Any) -> dict[str, Any]:
    """Build the API body through the typed input model, leaving out every option that was not given."""
    try:
        return model(**{key: value for key, value in fields.items() if value is not None}).to_body()
    except InputError as exc:
        raise InvalidInputError(f"Invalid options: {exc}") from exc


def requester_context(interaction: discord.Interaction[ScenarioBot]) -> dict[str, Any]:
    """Who asked and where, including the interaction token that lets the bot edit its reply later."""
    return {
        "user_id": interaction.user.id,
        "user_name": interaction.user.display_name,
        "guild_id": interaction.guild_id,
        "channel_id": interaction.channel_id,
        # A thread counts as allowed when its parent channel is (`/config channels`).
        "channel_parent_id": getattr(interaction.channel, "parent_id", None),
        "channel_age_restricted": channel_is_age_restricted(interaction.channel),
        "application_id": interaction.application_id,
        "interaction_id": interaction.id,
        "interaction_token": interaction.token,
        "token_expires_at": interaction.expires_at,
        "filesize_limit": interaction.filesize_limit,
        # A user install used in a server that has not added the bot: only the interaction can reply there.
        # (`interaction.guild` is a stub there, never None: ask the bot's own cache of its servers.)
        "bot_in_guild": interaction.guild_id is not None
        and interaction.client.get_guild(interaction.guild_id) is not None,
    }


async def server_defaults(interaction: discord.Interaction[ScenarioBot]) -> dict[str, Any]:
    """This server's `/config defaults`, by option name (none in a DM); one layer of `bot.options.resolve`."""
    if interaction.guild_id is None:
        return {}
    return (await interaction.client.store.server_settings(interaction.guild_id)).defaults.as_options()


async def check_request(
    interaction: discord.Interaction[ScenarioBot], *, command: Command, model_id: str, inputs: dict[str, Any]
) -> None:
    """Refuse, before anything is spent (an upload, a deferral), what admission would refuse: the requester's
    capacity and the server's `/config` rules (channels, blocked words, limits)."""
    draft = JobRecord(command=command, model_id=model_id, inputs=inputs, **requester_context(interaction))
    await interaction.client.engine.check_request(draft)


async def defer(interaction: discord.Interaction[ScenarioBot]) -> None:
    """Acknowledge at once with a public "thinking…" message that becomes the progress and then the result."""
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)


async def start_job(
    interaction: discord.Interaction[ScenarioBot],
    *,
    command: Command,
    model_id: str,
    inputs: dict[str, Any],
    uploaded: dict[str, str] | None = None,
    parent: JobRecord | None = None,
    parent_message_url: str | None = None,
) -> JobRecord:
    """Defer if needed, then hand the job to the engine, which edits the reply from here on."""
    await defer(interaction)
    job = JobRecord(
        command=command,
        model_id=model_id,
        inputs=inputs,
        uploaded_asset_ids=uploaded or {},
        parent_job_id=parent.id if parent else None,
        parent_message_url=parent_message_url,
        **requester_context(interaction),
    )
    try:
        await interaction.client.engine.submit(job)
    except ConfirmationNeeded as waiting:
        await ask_to_confirm(interaction, waiting.job)
    return job


async def ask_to_confirm(interaction: discord.Interaction[ScenarioBot], job: JobRecord) -> None:
    """Privately: "This will cost about N CU", with Run and Cancel (the request is stored meanwhile)."""
    if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        with contextlib.suppress(discord.HTTPException):  # the public "thinking…" placeholder has nothing to show
            await interaction.delete_original_response()
    await interaction.followup.send(
        texts.confirm_price(job.estimate_cu or 0.0), view=buttons.confirm_view(job.id), ephemeral=True
    )
