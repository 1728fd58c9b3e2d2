"""Per-model input validation, output sizing and cost for the two Ideogram models (scenario-api.md §7).

The fake rejects prompts longer than `MAX_PROMPT_LENGTH` characters: the real limit is not
documented, only that an over-long prompt is rejected rather than trimmed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes.scenario._state import FakeAsset

V4 = "model_ideogram-v4"
CHARACTER = "model_ideogram-character"
MODELS = (V4, CHARACTER)
MAX_PROMPT_LENGTH = 2000
MAX_SEED = 2147483647

V4_IMAGE_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
V4_SPEEDS = ("TURBO", "BALANCED", "QUALITY")
V4_ACCELERATIONS = ("none", "low", "regular", "high")
CHARACTER_SPEEDS = ("Default", "Turbo", "Quality")
CHARACTER_STYLES = ("Auto", "Fiction", "Realistic")
# fmt: off
CHARACTER_ASPECT_RATIOS = (
    "1:3", "1:2", "2:3", "3:4", "4:5", "9:16", "10:16", "1:1", "3:2", "4:3", "5:4", "16:10",
    "16:9", "2:1", "3:1",
)
CHARACTER_RESOLUTIONS = (
    "None", "1536x512", "1472x576", "1408x528", "1408x704", "1280x720", "1280x768", "1024x768",
    "1024x1024", "768x1024", "832x1472", "704x1408", "512x1536",
)
# fmt: on
# CU per output image; the real prices are not public, these only need to be plausible.
_V4_COST = {"TURBO": 3, "BALANCED": 6, "QUALITY": 9}
_CHARACTER_COST = {"Turbo": 5, "Default": 10, "Quality": 15}

_V4_FIELDS = {
    "prompt",
    "imageSize",
    "renderingSpeed",
    "enablePromptExpansion",
    "acceleration",
    "numOutputs",
    "seed",
}
_CHARACTER_FIELDS = {
    "prompt",
    "characterReferenceImage",
    "renderingSpeed",
    "styleType",
    "aspectRatio",
    "resolution",
    "image",
    "mask",
    "seed",
}


class InputError(ValueError):
    """An input the real API would reject with 400; the message names the field."""


@dataclass
class Plan:
    """What a valid request will produce: one (width, height, seed) per output, and its price."""

    prompt: str
    source: str
    outputs: list[tuple[int, int, int]]
    cost: int


AssetLookup = Callable[[str], FakeAsset | None]


def validate(model_id: str, body: dict[str, Any], find_asset: AssetLookup, rng: random.Random) -> Plan:
    """Check `body` against the model's inputs and plan its outputs; raises InputError."""
    allowed = _V4_FIELDS if model_id == V4 else _CHARACTER_FIELDS
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InputError(f'Unknown input "{unknown[0]}" for {model_id}; allowed inputs: {", ".join(sorted(allowed))}')
    prompt = _prompt(body)
    seed = _seed(body, rng)
    if model_id == V4:
        size = V4_IMAGE_SIZES[_choice(body, "imageSize", tuple(V4_IMAGE_SIZES), "square_hd")]
        speed = _choice(body, "renderingSpeed", V4_SPEEDS, "BALANCED")
        _choice(body, "acceleration", V4_ACCELERATIONS, "none")
        if "enablePromptExpansion" in body and not isinstance(body["enablePromptExpansion"], bool):
            raise InputError('Invalid input "enablePromptExpansion": must be a boolean')
        count = _integer(body, "numOutputs", 1, 4, default=1)
        outputs = [(*size, (seed + index) % (MAX_SEED + 1)) for index in range(count)]
        return Plan(prompt, "txt2img", outputs, _V4_COST[speed] * count)

    speed = _choice(body, "renderingSpeed", CHARACTER_SPEEDS, "Default")
    _choice(body, "styleType", CHARACTER_STYLES, "Auto")
    ratio = _choice(body, "aspectRatio", CHARACTER_ASPECT_RATIOS, "4:3")
    resolution = _choice(body, "resolution", CHARACTER_RESOLUTIONS, "None")
    _asset(body, "characterReferenceImage", find_asset, required=True)
    image = _asset(body, "image", find_asset, required=False)
    mask = _asset(body, "mask", find_asset, required=False)
    if (image is None) != (mask is None):
        present, missing = ("image", "mask") if mask is None else ("mask", "image")
        raise InputError(f'Invalid input "{missing}": "{present}" requires "{missing}" (inpainting uses both)')
    if image is not None:
        size = (image.width, image.height)
    elif resolution != "None":
        width, height = resolution.split("x")
        size = (int(width), int(height))
    else:
        size = _ratio_size(ratio)
    return Plan(prompt, "img2img", [(*size, seed)], _CHARACTER_COST[speed])


def _prompt(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if "prompt" not in body:
        raise InputError('Missing required input "prompt"')
    if not isinstance(prompt, str):
        raise InputError('Invalid input "prompt": must be a string')
    if not prompt.strip():
        raise InputError('Invalid input "prompt": must not be empty')
    if len(prompt) > MAX_PROMPT_LENGTH:
        raise InputError(f'Invalid input "prompt": must be at most {MAX_PROMPT_LENGTH} characters (got {len(prompt)})')
    return prompt


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or value not in allowed:
        raise InputError(f'Invalid input "{name}": must be one of {", ".join(allowed)} (got {value!r})')
    return value


def _integer(body: dict[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = body.get(name, default)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or value != int(value) or not low <= value <= high:
        raise InputError(f'Invalid input "{name}": must be an integer from {low} to {high} (got {value!r})')
    return int(value)


def _seed(body: dict[str, Any], rng: random.Random) -> int:
    if "seed" not in body:
        return rng.randint(0, MAX_SEED)
    return _integer(body, "seed", 0, MAX_SEED, default=0)


def _asset(body: dict[str, Any], name: str, find_asset: AssetLookup, *, required: bool) -> FakeAsset | None:
    if name not in body:
        if required:
            raise InputError(f'Missing required input "{name}" (an asset id)')
        return None
    value = body[name]
    if not isinstance(value, str) or not value:
        raise InputError(f'Invalid input "{name}": must be an asset id')
    asset = find_asset(value)
    if asset is None:
        raise InputError(f'Invalid input "{name}": asset {value} not found')
    return asset


def _ratio_size(ratio: str) -> tuple[int, int]:
    """Width and height for an aspect ratio with a long side of 1024."""
    a, b = (int(part) for part in ratio.split(":"))
    if a >= b:
        return 1024, round(1024 * b / a)
    return round(1024 * a / b), 1024
