"""Buttons under every result: reroll, same seed with an edited prompt, use as character, delete.

They work for days and across restarts: each is a `DynamicItem` whose `custom_id` carries the job id, and
everything else comes from the job store. Modals are answered through `on_interaction` rather than a stored
`Modal` object, so a form opened before a restart still works after it.
"""

from __future__ import annotations

import logging
import random
import re
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.errors import InvalidInputError, NotAllowedError
from bot.jobs.models import Command, JobRecord
from bot.posting import buttons
from bot.scenario import IDEOGRAM_CHARACTER, PROMPT_MAX_LENGTH, SEED_MAX
from bot.tree import UNEXPECTED, message_for, reply_privately
from cogs._common import check_prompt, start_job

if TYPE_CHECKING:
    from bot.app import ScenarioBot

log = logging.getLogger(__name__)

EDIT_MODAL = re.compile(rf"^res:edit-form:{buttons.JOB}$")
CHARACTER_MODAL = re.compile(rf"^res:char-form:{buttons.JOB}:(?P<index>[0-9])$")


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


ACTIONS = {"reroll": reroll, "edit": open_edit_form, "char": open_character_form, "delete": delete}


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
) -> None:
    url = interaction.message.jump_url if interaction.message else parent.parent_message_url
    await start_job(
        interaction,
        command=command or parent.command,
        model_id=model_id or parent.model_id,
        inputs=inputs,
        uploaded=parent.uploaded_asset_ids if command is None else {},
        parent=parent,
        parent_message_url=url,
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
        await _child(interaction, parent, inputs)

    async def _character_from(self, interaction: discord.Interaction[ScenarioBot], job_id: str, index: int) -> None:
        parent = await load_job(interaction, job_id)
        if index >= len(parent.output_asset_ids):
            raise InvalidInputError("That image is not part of the result any more.")
        prompt = self._prompt_from(interaction)
        self.bot.engine.check_capacity(interaction.user.id)
        inputs = {"prompt": prompt, "characterReferenceImage": parent.output_asset_ids[index]}
        await _child(interaction, parent, inputs, command=Command.CHARACTER, model_id=IDEOGRAM_CHARACTER)


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Results(bot))
