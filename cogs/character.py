"""/character: Ideogram Character — the same character in new scenes, with optional inpainting."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import check_declared_size
from bot.errors import InvalidInputError
from bot.jobs.models import Command
from bot.library import texts as library_texts
from bot.library.models import SavedCharacter, SavedStyle, name_key
from bot.options import default_layers, resolve
from bot.scenario import (
    CHARACTER_ASPECT_RATIOS,
    CHARACTER_RESOLUTIONS,
    IDEOGRAM_CHARACTER,
    PROMPT_MAX_LENGTH,
    IdeogramCharacterInput,
)
from cogs._autocomplete import CHARACTER_STYLES, character_choices, style_choices
from cogs._common import (
    CONTEXTS,
    INSTALLS,
    SEED_MAX,
    check_prompt,
    check_range,
    check_request,
    choices,
    pick,
    start_job,
    validated_body,
)
from cogs._uploads import upload_attachment, upload_from_url
from cogs.imagine import final_prompt

if TYPE_CHECKING:
    from bot.app import ScenarioBot

STYLES = CHARACTER_STYLES
SPEEDS = {"turbo": "Turbo", "balanced": "Default", "quality": "Quality"}
SPEED_NAMES = {
    "turbo": "Turbo — fastest, cheapest",
    "balanced": "Balanced (default)",
    "quality": "Quality — sharpest",
}
RATIO_NAMES = {ratio: ratio + (" (default)" if ratio == "4:3" else "") for ratio in CHARACTER_ASPECT_RATIOS}
RESOLUTION_NAMES = {
    value: ("None — use the aspect ratio" if value == "None" else value.replace("x", "×"))
    for value in CHARACTER_RESOLUTIONS
}
PLACEHOLDER_ASSET = "asset_placeholder"


class Character(commands.Cog):
    """Ideogram Character: a reference image and a prompt."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot

    @app_commands.command(name="character", description="Put the character from a reference image into a new scene")
    @app_commands.describe(
        prompt="The new scene for your character",
        reference="An image of the character (PNG, JPEG or WebP); or pick a saved `character` instead",
        style="Auto, Fiction or Realistic (default Auto), or one of your saved styles",
        aspect_ratio="Shape of the result (default 4:3); ignored when a resolution or inpainting image is given",
        resolution="Exact size; overrides the aspect ratio (default None)",
        speed="Quality versus speed (default Balanced)",
        image="Inpainting: the image to edit (needs a mask too)",
        mask="Inpainting: black pixels are repainted, white pixels kept (needs an image too)",
        seed="Reuse a seed to reproduce a result; leave empty for a new one",
        character="A character you saved with /characters save (or one shared with this server)",
    )
    @app_commands.choices(
        aspect_ratio=choices(RATIO_NAMES),
        resolution=choices(RESOLUTION_NAMES),
        speed=choices(SPEED_NAMES),
    )
    @app_commands.allowed_installs(**INSTALLS)
    @app_commands.allowed_contexts(**CONTEXTS)
    async def character(
        self,
        interaction: discord.Interaction[ScenarioBot],
        prompt: app_commands.Range[str, 1, PROMPT_MAX_LENGTH],
        reference: discord.Attachment | None = None,
        style: str | None = None,
        aspect_ratio: str | None = None,
        resolution: str | None = None,
        speed: str | None = None,
        image: discord.Attachment | None = None,
        mask: discord.Attachment | None = None,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
        character: str | None = None,
    ) -> None:
        """Check everything cheap first, then fetch, verify and upload the images, then queue the job.

        The character is either an attached `reference` (uploaded) or a saved `character` (its asset id is
        sent as it is: nothing uploaded). The speed left out takes the requester's `/prefer`, then the server's.
        """
        user, guild = interaction.user.id, interaction.guild_id
        if (reference is None) == (character is None):
            raise InvalidInputError(library_texts.reference_or_character(reference is not None))
        if (image is None) != (mask is None):
            given, missing = ("image", "mask") if mask is None else ("mask", "image")
            raise InvalidInputError(
                f"Inpainting needs both `image` and `mask`: you gave `{given}` without `{missing}`."
            )
        prompt = check_prompt(prompt)
        saved: SavedCharacter | None = None
        if character is not None:
            saved = await self.bot.library.find_character(user, guild, character)
        style_type, saved_style = await self._style(user, guild, style)
        resolved = resolve({"speed": speed}, await default_layers(self.bot.store, user, guild))
        options = {
            "prompt": final_prompt(saved_style, prompt),
            "style_type": style_type,
            "aspect_ratio": pick("aspect_ratio", aspect_ratio, {key: key for key in CHARACTER_ASPECT_RATIOS}),
            "resolution": pick("resolution", resolution, {key: key for key in CHARACTER_RESOLUTIONS}),
            "rendering_speed": pick("speed", resolved.values["speed"], SPEEDS),
            "seed": check_range("seed", seed, 0, SEED_MAX),
        }
        attachments = {"reference": reference, "image": image, "mask": mask}
        attachments = {role: file for role, file in attachments.items() if file is not None}
        placeholders = {"image": PLACEHOLDER_ASSET, "mask": PLACEHOLDER_ASSET} if image else {}
        validated_body(IdeogramCharacterInput, character_reference_image=PLACEHOLDER_ASSET, **placeholders, **options)
        for file in attachments.values():
            check_declared_size(file.filename, file.size, self.bot.settings.max_attachment_bytes)
        draft = {"prompt": options["prompt"]}  # what admission looks at, before anything is uploaded
        await check_request(interaction, command=Command.CHARACTER, model_id=IDEOGRAM_CHARACTER, inputs=draft)

        await interaction.response.defer(thinking=True)
        uploaded = {role: (await upload_attachment(self.bot, file)).asset_id for role, file in attachments.items()}
        body = validated_body(
            IdeogramCharacterInput,
            character_reference_image=saved.asset_id if saved else uploaded["reference"],
            image=uploaded.get("image"),
            mask=uploaded.get("mask"),
            **options,
        )
        await start_job(
            interaction,
            command=Command.CHARACTER,
            model_id=IDEOGRAM_CHARACTER,
            inputs=body,
            uploaded=uploaded,
            style_name=saved_style.name if saved_style else None,
            character_name=saved.name if saved else None,
            option_sources={"renderingSpeed": resolved.sources["speed"]} if "speed" in resolved.sources else None,
        )

    async def _style(self, user: int, guild: int | None, style: str | None) -> tuple[str | None, SavedStyle | None]:
        """`style` names a built-in character style (Auto, Fiction, Realistic) or a saved style."""
        if style is None:
            return None, None
        built_in = {name_key(value): value for value in STYLES}
        if name_key(style) in built_in:
            return built_in[name_key(style)], None
        return None, await self.bot.library.find_style(user, guild, style)

    @character.autocomplete("character")
    async def _characters(
        self, interaction: discord.Interaction[ScenarioBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await character_choices(interaction, current)

    @character.autocomplete("style")
    async def _styles(
        self, interaction: discord.Interaction[ScenarioBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await style_choices(interaction, current, built_in=True)


async def upload_reference(bot: ScenarioBot, *, url: str, filename: str) -> str:
    """Fetch from Discord's CDN (capped), verify it is a still image, fit Scenario's limit, upload; the asset id.

    Shared by /character and a session's ideas with a reference image."""
    return (await upload_from_url(bot, url=url, filename=filename)).asset_id


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Character(bot))
