"""/imagine: Ideogram V4 text-to-image."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.jobs.models import Command
from bot.options import resolve
from bot.scenario import IDEOGRAM_V4, PROMPT_MAX_LENGTH, IdeogramV4Input
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

SIZES = {
    "square_hd": "Square HD (1024×1024)",
    "square": "Square (512×512)",
    "portrait_4_3": "Portrait 3:4",
    "portrait_16_9": "Portrait 9:16",
    "landscape_4_3": "Landscape 4:3",
    "landscape_16_9": "Landscape 16:9",
}
SPEEDS = {"turbo": "TURBO", "balanced": "BALANCED", "quality": "QUALITY"}
SPEED_NAMES = {"turbo": "Turbo — fastest", "balanced": "Balanced (default)", "quality": "Quality — sharpest"}
ACCELERATIONS = {"none": "None (best quality)", "low": "Low", "regular": "Regular", "high": "High — fastest"}


class Imagine(commands.Cog):
    """Text-to-image with Ideogram V4."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot

    @app_commands.command(name="imagine", description="Generate images from a text prompt with Ideogram V4")
    @app_commands.describe(
        prompt="What to draw; V4 renders in-image text well when you spell out the words and where they go",
        size="Image size and shape (default Square HD)",
        speed="Quality versus speed (default Balanced)",
        expand_prompt="Let the model enrich your prompt (default on); turn off to keep your exact wording",
        acceleration="An extra speed boost that may cost a little quality (default None)",
        count="How many images, 1–4 (default 1); each one adds to the cost",
        seed="Reuse a seed to reproduce a result; leave empty for a new one",
    )
    @app_commands.choices(size=choices(SIZES), speed=choices(SPEED_NAMES), acceleration=choices(ACCELERATIONS))
    @app_commands.allowed_installs(**INSTALLS)
    @app_commands.allowed_contexts(**CONTEXTS)
    async def imagine(
        self,
        interaction: discord.Interaction[ScenarioBot],
        prompt: app_commands.Range[str, 1, PROMPT_MAX_LENGTH],
        size: str | None = None,
        speed: str | None = None,
        expand_prompt: bool | None = None,
        acceleration: str | None = None,
        count: app_commands.Range[int, 1, 4] | None = None,
        seed: app_commands.Range[int, 0, SEED_MAX] | None = None,
    ) -> None:
        """Validate everything, then queue the job; the engine edits the reply with progress and the result."""
        given = {"size": size, "speed": speed, "count": count, "expand_prompt": expand_prompt}
        chosen = resolve(given, await server_defaults(interaction))  # the requester's option wins
        body = validated_body(
            IdeogramV4Input,
            prompt=check_prompt(prompt),
            image_size=pick("size", chosen["size"], {key: key for key in SIZES}),
            rendering_speed=pick("speed", chosen["speed"], SPEEDS),
            enable_prompt_expansion=chosen["expand_prompt"],
            acceleration=pick("acceleration", acceleration, {key: key for key in ACCELERATIONS}),
            num_outputs=check_range("count", chosen["count"], 1, 4),
            seed=check_range("seed", seed, 0, SEED_MAX),
        )
        await check_request(interaction, command=Command.IMAGINE, model_id=IDEOGRAM_V4, inputs=body)
        await start_job(interaction, command=Command.IMAGINE, model_id=IDEOGRAM_V4, inputs=body)


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Imagine(bot))
