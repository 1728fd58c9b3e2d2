"""An idea with the session's defaults, as a job: V4 from a prompt, Ideogram Character with a reference image.

Every idea goes through the same checks as `/imagine` and `/character` (the typed input models, the prompt
rules, the attachment cap and image verification) and then `JobEngine.submit`, so the queue, budgets and
moderation apply to it as to any command.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.attachments import check_declared_size
from bot.errors import InvalidInputError
from bot.jobs.models import Command, JobRecord
from bot.posting import channel_is_age_restricted
from bot.scenario import IDEOGRAM_CHARACTER, IDEOGRAM_V4, PROMPT_MAX_LENGTH, IdeogramCharacterInput, IdeogramV4Input
from bot.sessions import SessionDefaults, SessionRecord
from cogs import character, imagine
from cogs._common import check_prompt, validated_body

if TYPE_CHECKING:
    from bot.app import ScenarioBot

FORM = re.compile(r"^ses:idea-form:(?P<thread>[0-9]{1,20})$")
PROMPT_FIELD = "prompt"
REFERENCE_FIELD = "reference"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
# A session's size, as Ideogram Character's aspect ratio.
CHARACTER_RATIOS = {
    "square_hd": "1:1",
    "square": "1:1",
    "portrait_4_3": "3:4",
    "portrait_16_9": "9:16",
    "landscape_4_3": "4:3",
    "landscape_16_9": "16:9",
}


def full_prompt(prompt: str, defaults: SessionDefaults) -> str:
    """The idea's prompt with the session's style appended, checked like any prompt."""
    prompt = prompt.strip()
    if not prompt:
        raise InvalidInputError("The idea is empty. Describe the image you want, e.g. `a fox reading a map`.")
    text = f"{prompt}, {defaults.style}" if defaults.style else prompt
    if defaults.style and len(text) > PROMPT_MAX_LENGTH:
        raise InvalidInputError(
            f"With the session's style the prompt is {len(text)} characters long; the limit is {PROMPT_MAX_LENGTH}. "
            "Please shorten your idea."
        )
    return check_prompt(text)


def idea_inputs(prompt: str, defaults: SessionDefaults, reference: str | None) -> tuple[Command, str, dict[str, Any]]:
    """(command, model, validated body) of an idea; `reference` is the uploaded asset id (or a placeholder)."""
    text = full_prompt(prompt, defaults)
    if reference is None:
        body = validated_body(
            IdeogramV4Input,
            prompt=text,
            image_size=defaults.size,
            rendering_speed=imagine.SPEEDS.get(defaults.speed or ""),
            num_outputs=defaults.count,
        )
        return Command.IMAGINE, IDEOGRAM_V4, body
    body = validated_body(
        IdeogramCharacterInput,
        prompt=text,
        character_reference_image=reference,
        aspect_ratio=CHARACTER_RATIOS.get(defaults.size or ""),
        rendering_speed=character.SPEEDS.get(defaults.speed or ""),
    )
    return Command.CHARACTER, IDEOGRAM_CHARACTER, body


async def prepare(
    bot: ScenarioBot, session: SessionRecord, prompt: str, reference: dict[str, Any] | None
) -> tuple[Command, str, dict[str, Any], dict[str, str]]:
    """Check everything cheap, then upload the reference (if any): (command, model, body, uploaded assets).

    `reference` is an attachment as Discord describes it (`filename`, `size`, `url`)."""
    if reference is None:
        command, model, body = idea_inputs(prompt, session.defaults, None)
        return command, model, body, {}
    idea_inputs(prompt, session.defaults, character.PLACEHOLDER_ASSET)  # refuse a bad idea before any download
    filename = str(reference.get("filename") or "reference")
    check_declared_size(filename, int(reference.get("size") or 0), bot.settings.max_attachment_bytes)
    asset = await character.upload_reference(bot, url=str(reference.get("url") or ""), filename=filename)
    command, model, body = idea_inputs(prompt, session.defaults, asset)
    return command, model, body, {"reference": asset}


def form(thread_id: int) -> discord.ui.Modal:
    """The idea form: a prompt and an optional reference image (Discord's file upload in a modal, type 19).

    Never kept in memory: its submission is answered by `Sessions.on_interaction`, even after a restart."""
    modal = discord.ui.Modal(title="New idea", custom_id=f"ses:idea-form:{thread_id}", timeout=None)
    modal.add_item(
        discord.ui.Label(
            text="Prompt",
            description="What to draw; the session's style is added to it",
            component=discord.ui.TextInput(
                custom_id=PROMPT_FIELD,
                style=discord.TextStyle.paragraph,
                placeholder="a fox reading a treasure map",
                max_length=PROMPT_MAX_LENGTH,
                required=True,
            ),
        )
    )
    modal.add_item(
        discord.ui.Label(
            text="Reference image (optional)",
            description="With a character image the idea runs on Ideogram Character",
            component=discord.ui.FileUpload(custom_id=REFERENCE_FIELD, required=False, min_values=0, max_values=1),
        )
    )
    modal.stop()
    return modal


def submitted(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """The prompt and the uploaded reference (Discord's attachment object, from `resolved`) of a submitted form."""
    prompt, ids = "", []
    for top in data.get("components") or []:
        children = top.get("components") or ([top["component"]] if isinstance(top.get("component"), dict) else [])
        for child in children:
            if child.get("custom_id") == PROMPT_FIELD:
                prompt = str(child.get("value") or "")
            elif child.get("custom_id") == REFERENCE_FIELD:
                ids = [str(value) for value in child.get("values") or []]
    attachments = ((data.get("resolved") or {}).get("attachments")) or {}
    reference = attachments.get(ids[0]) if ids else None
    if ids and reference is None:
        raise InvalidInputError("The reference image did not come through. Please add it again.")
    return prompt, reference


def message_prompt(message: discord.Message, bot_id: int) -> str:
    """A message's text without the mention of the bot."""
    return re.sub(rf"<@!?{bot_id}>", " ", message.content).strip()


def first_image(message: discord.Message) -> dict[str, Any] | None:
    """The message's first image attachment, as Discord describes it; None if it has none."""
    for attachment in message.attachments:
        is_image = (attachment.content_type or "").startswith("image/")
        if is_image or attachment.filename.lower().endswith(IMAGE_EXTENSIONS):
            return {"filename": attachment.filename, "size": attachment.size, "url": attachment.url}
    return None


def message_job(
    message: discord.Message, command: Command, model: str, body: dict[str, Any], uploaded: dict[str, str]
) -> JobRecord:
    """The job of an idea posted as a message: no interaction, so its result is posted in the thread."""
    assert message.guild is not None
    return JobRecord(
        command=command,
        model_id=model,
        inputs=body,
        uploaded_asset_ids=uploaded,
        user_id=message.author.id,
        user_name=message.author.display_name,
        guild_id=message.guild.id,
        channel_id=message.channel.id,
        # The session's thread counts as allowed when its parent channel is (`/config channels`).
        channel_parent_id=getattr(message.channel, "parent_id", None),
        channel_age_restricted=channel_is_age_restricted(message.channel),
        bot_in_guild=True,
    )
