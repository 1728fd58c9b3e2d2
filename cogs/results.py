"""Buttons under every result: reroll, same seed with an edited prompt, use as character, enhance, save as a
character, delete.

They work for days and across restarts: each is a `DynamicItem` whose `custom_id` carries the job id, and
everything else comes from the job store. Modals are answered through `on_interaction` rather than a stored
`Modal` object, so a form opened before a restart still works after it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.attachments import fetch_attachment
from bot.enhance import can_enhance, enhanced_inputs
from bot.errors import InvalidInputError, NotAllowedError
from bot.jobs.models import Command, JobRecord
from bot.library import texts as library_texts
from bot.library.models import NAME_MAX_LENGTH
from bot.library.pictures import make_thumbnail
from bot.posting import buttons
from bot.scenario import IDEOGRAM_CHARACTER, PROMPT_MAX_LENGTH, SEED_MAX
from bot.tree import UNEXPECTED, message_for, reply_privately
from cogs._common import check_prompt, start_job

if TYPE_CHECKING:
    from bot.app import ScenarioBot

log = logging.getLogger(__name__)

EDIT_MODAL = re.compile(rf"^res:edit-form:{buttons.JOB}$")
CHARACTER_MODAL = re.compile(rf"^res:char-form:{buttons.JOB}:(?P<index>[0-9])$")
SAVE_MODAL = re.compile(rf"^res:save-form:{buttons.JOB}$")
THUMBNAIL_SOURCE_BYTES = 25 * 1024 * 1024


async def load_job(interaction: discord.Interaction[ScenarioBot], job_id: str) -> JobRecord:
    """The job behind a button or form, if the person clicking may use it here (`JobRecord.visible_to`)."""
    return await interaction.client.engine.find_visible(job_id, interaction.user.id, interaction.guild_id)


async def answer_errors(interaction: discord.Interaction[ScenarioBot], error: Exception) -> None:
    """Buttons and forms share the slash commands' error replies."""
    text = message_for(error)
    if text is None:
        log.error("Unhandled error in a result button", exc_info=error)
        text = UNEXPECTED
    try:
        await reply_privately(interaction, text)
    except discord.HTTPException as exc:
        log.warning("Could not send an error reply: %s", exc)


class _ResultButton(discord.ui.DynamicItem[discord.ui.Button], template=buttons.TEMPLATE):
    """One button of a result (built by `bot.posting.buttons`); the action and job id live in its custom_id."""

    def __init__(self, action: str, job_id: str, index: int | None = None) -> None:
        super().__init__(buttons.button(action, job_id, index))
        self.action = action
        self.job_id = job_id
        self.index = index

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[ScenarioBot], item: discord.ui.Button, match: re.Match[str], /
    ) -> _ResultButton:
        index = match["index"]
        return cls(match["action"], match["job"], int(index) if index is not None else None)

    async def callback(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        try:
            await ACTIONS[self.action](interaction, self.job_id, self.index)
        except Exception as exc:
            await answer_errors(interaction, exc)


# -- actions ---------------------------------------------------------------------------------------------
async def reroll(interaction: discord.Interaction[ScenarioBot], job_id: str, _index: int | None) -> None:
    parent = await load_job(interaction, job_id)
    interaction.client.engine.check_capacity(interaction.user.id)
    inputs = {**parent.inputs, "seed": random.randint(0, SEED_MAX)}
    await _child(interaction, parent, inputs)


async def open_edit_form(interaction: discord.Interaction[ScenarioBot], job_id: str, _index: int | None) -> None:
    parent = await load_job(interaction, job_id)
    await interaction.response.send_modal(_form(f"res:edit-form:{job_id}", "Same seed, new prompt", parent.prompt))


async def open_character_form(interaction: discord.Interaction[ScenarioBot], job_id: str, index: int | None) -> None:
    await load_job(interaction, job_id)
    await interaction.response.send_modal(
        _form(
            f"res:char-form:{job_id}:{index or 0}",
            "Use as character",
            "",
            placeholder="The new scene for this character",
        )
    )


async def delete(interaction: discord.Interaction[ScenarioBot], job_id: str, _index: int | None) -> None:
    job = await load_job(interaction, job_id)
    moderator = interaction.permissions.manage_messages if interaction.guild_id else False
    if interaction.user.id != job.user_id and not moderator:
        raise NotAllowedError(
            "Only the person who asked for this result, or someone with Manage Messages, can delete it."
        )
    await interaction.response.defer()
    # For a component interaction "@original" is the message carrying the button: this works even where the
    # bot is not a member (user installs).
    await interaction.delete_original_response()


async def enhance(interaction: discord.Interaction[ScenarioBot], job_id: str, index: int | None) -> None:
    """The same prompt, seed and size at Quality: a child job, admitted like any other."""
    parent = await load_job(interaction, job_id)
    if not can_enhance(parent):
        raise InvalidInputError("This result was already made at Quality speed.")
    if (index or 0) >= max(len(parent.output_asset_ids), 1):
        raise InvalidInputError("That image is not part of the result any more.")
    interaction.client.engine.check_capacity(interaction.user.id)
    await _child(interaction, parent, enhanced_inputs(parent, index or 0))


async def open_save_form(interaction: discord.Interaction[ScenarioBot], job_id: str, _index: int | None) -> None:
    """Ask for the name (and which image, when there are several) to save an output as a character."""
    job = await load_job(interaction, job_id)
    if not job.output_asset_ids:
        raise InvalidInputError("This result has no image to save.")
    modal = discord.ui.Modal(title="Save character", custom_id=f"res:save-form:{job_id}", timeout=None)
    modal.add_item(
        discord.ui.TextInput(
            label="Name", custom_id="name", placeholder="e.g. Luna", max_length=NAME_MAX_LENGTH, required=True
        )
    )
    count = len(job.output_asset_ids)
    if count > 1:
        modal.add_item(
            discord.ui.TextInput(
                label=f"Which image (1–{count})", custom_id="image", default="1", max_length=1, required=True
            )
        )
    modal.stop()  # answered by `Results.on_interaction`, so it works across restarts
    await interaction.response.send_modal(modal)


ACTIONS = {
    "reroll": reroll,
    "edit": open_edit_form,
    "char": open_character_form,
    "delete": delete,
    "enhance": enhance,
    "save": open_save_form,
}


def _form(custom_id: str, title: str, prompt: str, *, placeholder: str | None = None) -> discord.ui.Modal:
    modal = discord.ui.Modal(title=title, custom_id=custom_id, timeout=None)
    modal.add_item(
        discord.ui.TextInput(
            label="Prompt",
            custom_id="prompt",
            style=discord.TextStyle.paragraph,
            default=prompt or None,
            placeholder=placeholder,
            max_length=PROMPT_MAX_LENGTH,
            required=True,
        )
    )
    modal.stop()  # never stored in memory: the submission is handled by `Results.on_interaction`
    return modal


def _submitted_value(data: dict[str, Any], custom_id: str) -> str | None:
    for component in data.get("components", []):
        children = component.get("components") or ([component["component"]] if "component" in component else [])
        for child in children:
            if child.get("custom_id") == custom_id:
                return child.get("value")
    return None


async def _child(
    interaction: discord.Interaction[ScenarioBot],
    parent: JobRecord,
    inputs: dict[str, Any],
    *,
    command: Command | None = None,
    model_id: str | None = None,
    keep_style: bool = True,
) -> None:
    url = interaction.message.jump_url if interaction.message else parent.parent_message_url
    same = command is None  # the same model on the same inputs: what the parent showed of the library holds
    await start_job(
        interaction,
        command=command or parent.command,
        model_id=model_id or parent.model_id,
        inputs=inputs,
        uploaded=parent.uploaded_asset_ids if command is None else {},
        parent=parent,
        parent_message_url=url,
        style_name=parent.style_name if same and keep_style else None,
        character_name=parent.character_name if same else None,
        option_sources=parent.option_sources if same else None,
    )


class Results(commands.Cog):
    """Registers the result buttons and answers their forms."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(_ResultButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(_ResultButton)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
            return
        custom_id = str(interaction.data.get("custom_id", ""))
        try:
            if match := EDIT_MODAL.match(custom_id):
                await self._edited_prompt(interaction, match["job"])
            elif match := CHARACTER_MODAL.match(custom_id):
                await self._character_from(interaction, match["job"], int(match["index"]))
            elif match := SAVE_MODAL.match(custom_id):
                await self._save_character(interaction, match["job"])
        except Exception as exc:
            await answer_errors(interaction, exc)

    def _prompt_from(self, interaction: discord.Interaction[ScenarioBot]) -> str:
        return check_prompt(_submitted_value(interaction.data or {}, "prompt") or "")  # type: ignore[arg-type]

    async def _edited_prompt(self, interaction: discord.Interaction[ScenarioBot], job_id: str) -> None:
        parent = await load_job(interaction, job_id)
        prompt = self._prompt_from(interaction)
        self.bot.engine.check_capacity(interaction.user.id)
        seed = next((s for s in parent.seeds if s is not None), parent.inputs.get("seed"))
        inputs = {**parent.inputs, "prompt": prompt}
        if seed is not None:
            inputs["seed"] = seed
        await _child(interaction, parent, inputs, keep_style=False)

    async def _character_from(self, interaction: discord.Interaction[ScenarioBot], job_id: str, index: int) -> None:
        parent = await load_job(interaction, job_id)
        if index >= len(parent.output_asset_ids):
            raise InvalidInputError("That image is not part of the result any more.")
        prompt = self._prompt_from(interaction)
        self.bot.engine.check_capacity(interaction.user.id)
        inputs = {"prompt": prompt, "characterReferenceImage": parent.output_asset_ids[index]}
        await _child(interaction, parent, inputs, command=Command.CHARACTER, model_id=IDEOGRAM_CHARACTER)

    async def _save_character(self, interaction: discord.Interaction[ScenarioBot], job_id: str) -> None:
        """Keep the output's own Scenario asset under a name: nothing is uploaded again."""
        job = await load_job(interaction, job_id)
        data = interaction.data or {}
        name = _submitted_value(data, "name") or ""  # type: ignore[arg-type]
        chosen = (_submitted_value(data, "image") or "1").strip()  # type: ignore[arg-type]
        count = len(job.output_asset_ids)
        if not chosen.isdigit() or not 1 <= int(chosen) <= count:
            raise InvalidInputError(f"Pick the image by its number, 1 to {count} — `{chosen}` is not one of them.")
        index = int(chosen) - 1
        user, guild = interaction.user.id, interaction.guild_id
        name = await self.bot.library.check_new_character(user, guild, name, shared=False, may_manage=False)
        await interaction.response.defer(ephemeral=True, thinking=True)
        saved = await self.bot.library.save_character(
            user,
            guild,
            name,
            job.output_asset_ids[index],
            thumbnail=await self._thumbnail(interaction, index),
            source_job_id=job.id,
        )
        await interaction.followup.send(library_texts.saved_character(saved.name, shared=False), ephemeral=True,
                                        allowed_mentions=discord.AllowedMentions.none())  # fmt: skip

    async def _thumbnail(self, interaction: discord.Interaction[ScenarioBot], index: int) -> bytes | None:
        """A thumbnail from the image as the result message carries it (Discord's CDN; no Scenario call)."""
        attachments = interaction.message.attachments if interaction.message else []
        if index >= len(attachments):
            return None
        file = attachments[index]
        try:
            data = await fetch_attachment(
                self.bot.session, file.url, filename=file.filename, max_bytes=THUMBNAIL_SOURCE_BYTES,
                allowed_hosts=self.bot.attachment_hosts,
            )  # fmt: skip
        except InvalidInputError as exc:
            log.info("No thumbnail for a saved character: %s", exc)
            return None
        return await asyncio.to_thread(make_thumbnail, data, file.filename)


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Results(bot))
