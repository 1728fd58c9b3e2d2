"""Enhance: a draft made at Turbo or Balanced speed made again at Quality, same prompt, seed and size.

Midjourney's draft-then-enhance, on Ideogram's speeds: try ideas cheaply, then pay for the chosen one.
The new job is a child of the draft's (like a reroll) and goes through the same admission as any job.
"""

from __future__ import annotations

from typing import Any

from bot.jobs.models import JobRecord
from bot.scenario import IDEOGRAM_CHARACTER, IDEOGRAM_V4

QUALITY = {IDEOGRAM_V4: "QUALITY", IDEOGRAM_CHARACTER: "Quality"}
"""Each model's spelling of its Quality speed."""
DRAFT_SPEEDS = {IDEOGRAM_V4: {"TURBO", "BALANCED"}, IDEOGRAM_CHARACTER: {"Turbo", "Default"}}
MODEL_DEFAULT_SPEED = {IDEOGRAM_V4: "BALANCED", IDEOGRAM_CHARACTER: "Default"}


def can_enhance(job: JobRecord) -> bool:
    """Whether the job ran below Quality (a speed left out is the model's default, Balanced)."""
    speed = job.inputs.get("renderingSpeed", MODEL_DEFAULT_SPEED.get(job.model_id))
    return speed in DRAFT_SPEEDS.get(job.model_id, set())


def enhanced_inputs(job: JobRecord, index: int) -> dict[str, Any]:
    """The request that makes image `index` of `job` again at Quality: its prompt, seed and size, one image."""
    inputs = {key: value for key, value in job.inputs.items() if key not in ("numOutputs", "seed")}
    inputs["renderingSpeed"] = QUALITY[job.model_id]
    seed = job.seeds[index] if index < len(job.seeds) else None
    if seed is None and index == 0:
        seed = job.inputs.get("seed")  # Scenario did not report it: the one asked for is the first image's
    if seed is not None:
        inputs["seed"] = seed
    return inputs
