"""/character: Ideogram Character — the same character in new scenes, with optional inpainting."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import check_declared_size, fetch_attachment
from bot.errors import InvalidInputError
from bot.images import prepare_reference
from bot.jobs.models import Command
from bot.options import resolve
from bot.scenario import (
    CHARACTER_ASPECT_RATIOS,
    CHARACTER_RESOLUTIONS,
    IDEOGRAM_CHARACTER,
    MAX_UPLOAD_BYTES,
    PROMPT_MAX_LENGTH,
    IdeogramCharacterInput,
)
from cogs._common import (
    CONTEXTS,
    INSTALLS,
    SEED_MAX,
    check_prompt,
    check_range,
    check_request,
    choices,
    pick,
    server_defaults,
    start_job,
    validated_body,
)

if TYPE_CHECKING:
    from bot.app import ScenarioBot

STYLES = {"Auto": "Auto (default)", "Fiction": "Fiction", "Realistic": "Realistic"}
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
        reference="An image of the character (PNG, JPEG or WebP)",
        style="Character style (default Auto)",
        aspect_ratio="Shape of the result (default 4:3); ignored when a resolution or inpainting image is given",
        resolution="Exact size; overrides the aspect ratio (default None)",
        speed="Quality versus speed (default Balanced)",
        image="Inpainting: the image to edit (needs a mask too)",
        mask="Inpainting: black pixels are repainted, white pixels kept (needs an image too)",
        seed="Reuse a seed to reproduce a result; leave empty for a new one",
    )
    @app_commands.choices(
        style=choices(STYLES),
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
        reference: discord.Attachment,
        style: str | None = None,
        aspect_ratio: str | None = None,
        resolution: str | None = None,
        speed: str | None = None,
        image: discord.Attachment | None = None,
        mask: discord.Attachment | None = None,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
    ) -> None:
        """Check everything cheap first, then fetch, verify and upload the images, then queue the job."""
        if (image is None) != (mask is None):
            given, missing = ("image", "mask") if mask is None else ("mask", "image")
            raise InvalidInputError(
                f"Inpainting needs both `image` and `mask`: you gave `{given}` without `{missing}`."
            )
        speed = resolve({"speed": speed}, await server_defaults(interaction))["speed"]  # the requester's wins
        options = {
            "prompt": check_prompt(prompt),
            "style_type": pick("style", style, {key: key for key in STYLES}),
            "aspect_ratio": pick("aspect_ratio", aspect_ratio, {key: key for key in CHARACTER_ASPECT_RATIOS}),
            "resolution": pick("resolution", resolution, {key: key for key in CHARACTER_RESOLUTIONS}),
            "rendering_speed": pick("speed", speed, SPEEDS),
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
        uploaded = {role: await self._upload(file) for role, file in attachments.items()}
        body = validated_body(
            IdeogramCharacterInput,
            character_reference_image=uploaded["reference"],
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
        )

    async def _upload(self, file: discord.Attachment) -> str:
        return await upload_reference(self.bot, url=file.url, filename=file.filename)


async def upload_reference(bot: ScenarioBot, *, url: str, filename: str) -> str:
    """Fetch from Discord's CDN (capped), verify it is a still image, fit Scenario's limit, upload; the asset id.

    Shared by /character and a session's ideas with a reference image."""
    data = await fetch_attachment(
        bot.session,
        url,
        filename=filename,
        max_bytes=bot.settings.max_attachment_bytes,
        allowed_hosts=bot.attachment_hosts,
    )
    prepared = await asyncio.to_thread(prepare_reference, data, filename=filename, max_bytes=MAX_UPLOAD_BYTES)
    stem = filename.rsplit(".", 1)[0] or "reference"
    return await bot.scenario.upload_image(
        prepared.data, name=f"{stem}.{prepared.extension}", mime_type=prepared.mime_type
    )


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Character(bot))
