"""What a result message looks like: an embed with every parameter, and the images as files."""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import discord

from bot.images import FittedFile, fit_for_upload
from bot.jobs.delivery import OutputImage
from bot.jobs.models import JobRecord

MODEL_NAMES = {
    "model_ideogram-v4": "Ideogram V4",
    "model_ideogram-character": "Ideogram Character",
}
EMBED_DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024
# Inputs that are shown elsewhere (prompt) or are asset ids (shown as the attachment they came from).
HIDDEN_INPUTS = {"prompt", "characterReferenceImage", "image", "mask"}
INPUT_LABELS = {
    "imageSize": "Size",
    "renderingSpeed": "Speed",
    "enablePromptExpansion": "Prompt expansion",
    "acceleration": "Acceleration",
    "numOutputs": "Images",
    "styleType": "Style",
    "aspectRatio": "Aspect ratio",
    "resolution": "Resolution",
}


@dataclass(frozen=True)
class RenderedResult:
    """A result ready to post: the embed, the files, and any note about resized files."""

    embed: discord.Embed
    files: list[discord.File]
    notes: list[str]


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_inputs(job: JobRecord) -> list[tuple[str, str]]:
    """The parameters used, as (label, value) pairs, in a stable order; seeds included when known."""
    pairs = [("Model", MODEL_NAMES.get(job.model_id, job.model_id))]
    for key, value in job.inputs.items():
        if key in HIDDEN_INPUTS or key == "seed":
            continue
        shown = ("on" if value else "off") if isinstance(value, bool) else str(value)
        pairs.append((INPUT_LABELS.get(key, key), shown))
    if "image" in job.inputs:
        pairs.append(("Inpainting", "image + mask"))
    seeds = [seed for seed in job.seeds if seed is not None]
    if seeds:
        pairs.append(("Seed" if len(set(seeds)) == 1 else "Seeds", ", ".join(str(s) for s in dict.fromkeys(seeds))))
    elif "seed" in job.inputs:
        pairs.append(("Seed", str(job.inputs["seed"])))
    if job.cost is not None:
        pairs.append(("Cost", f"{job.cost:g} CU"))
    return pairs


def render_result(
    job: JobRecord, images: Sequence[OutputImage], *, limit: int, spoilers: Collection[str] = ()
) -> RenderedResult:
    """Build the embed and files; each file is fitted under `limit` bytes (CPU-bound: run in a thread)."""
    embed = discord.Embed(
        title=(f"#{job.session_number} · " if job.session_number is not None else "") + f"/{job.command.value}",
        description=truncate(discord.utils.escape_markdown(job.prompt), EMBED_DESCRIPTION_LIMIT),
        colour=discord.Colour.blurple(),
    )
    for label, value in describe_inputs(job):
        embed.add_field(name=label, value=truncate(value, FIELD_VALUE_LIMIT), inline=True)
    if job.parent_message_url:
        embed.add_field(name="From", value=f"[this result]({job.parent_message_url})", inline=True)
    embed.set_footer(text=f"Job {job.id}" + (f" · Scenario {job.scenario_job_id}" if job.scenario_job_id else ""))
    files: list[discord.File] = []
    notes: list[str] = []
    for index, image in enumerate(images, start=1):
        fitted = fit_image(job, image, index, limit=limit)
        spoiler = image.asset_id in spoilers  # discord.py names the file SPOILER_…
        files.append(discord.File(io.BytesIO(fitted.data), filename=fitted.filename, spoiler=spoiler))
        if fitted.note:
            notes.append(f"Image {index}: {fitted.note}")
    if notes:
        embed.add_field(name="Note", value=truncate("\n".join(notes), FIELD_VALUE_LIMIT), inline=False)
    return RenderedResult(embed=embed, files=files, notes=notes)


def fit_image(job: JobRecord, image: OutputImage, index: int, *, limit: int) -> FittedFile:
    extension = {"image/jpeg": "jpg", "image/webp": "webp"}.get(image.mime_type, "png")
    return fit_for_upload(image.data, filename=f"{job.command.value}-{job.id}-{index}.{extension}", limit=limit)
