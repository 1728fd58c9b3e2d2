"""Typed, validated inputs for the two Ideogram models, serialised to the API's camelCase body.

The allowed values are those of Scenario's model references (scenario-api.md §7); each list is exported
as a tuple so the cogs can build their slash-command choices from the same source. `to_body()` leaves
out every field that was not set, so Scenario's own defaults apply. Invalid values raise `InputError`
(a `ValueError`) with a message naming the field and what it accepts, e.g.
"renderingSpeed must be one of TURBO, BALANCED, QUALITY".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from bot.scenario.errors import InputError

__all__ = [
    "ACCELERATIONS",
    "CHARACTER_ASPECT_RATIOS",
    "CHARACTER_RENDERING_SPEEDS",
    "CHARACTER_RESOLUTIONS",
    "CHARACTER_STYLES",
    "IDEOGRAM_CHARACTER",
    "IDEOGRAM_V4",
    "PROMPT_MAX_LENGTH",
    "SEED_MAX",
    "V4_IMAGE_SIZES",
    "V4_MAX_OUTPUTS",
    "V4_RENDERING_SPEEDS",
    "IdeogramCharacterInput",
    "IdeogramV4Input",
]

IDEOGRAM_V4 = "model_ideogram-v4"
IDEOGRAM_CHARACTER = "model_ideogram-character"

PROMPT_MAX_LENGTH = 2000
"""Scenario refuses (does not trim) over-long prompts; this is the bot's own ceiling."""
SEED_MAX = 2_147_483_647
V4_MAX_OUTPUTS = 4

V4ImageSize = Literal["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"]
V4RenderingSpeed = Literal["TURBO", "BALANCED", "QUALITY"]
Acceleration = Literal["none", "low", "regular", "high"]
CharacterStyle = Literal["Auto", "Fiction", "Realistic"]
CharacterAspectRatio = Literal[
    "1:3", "1:2", "2:3", "3:4", "4:5", "9:16", "10:16", "1:1",
    "3:2", "4:3", "5:4", "16:10", "16:9", "2:1", "3:1",
]  # fmt: skip
CharacterResolution = Literal[
    "None", "1536x512", "1472x576", "1408x528", "1408x704", "1280x720", "1280x768",
    "1024x768", "1024x1024", "768x1024", "832x1472", "704x1408", "512x1536",
]  # fmt: skip
CharacterRenderingSpeed = Literal["Default", "Turbo", "Quality"]

V4_IMAGE_SIZES: tuple[str, ...] = get_args(V4ImageSize)
V4_RENDERING_SPEEDS: tuple[str, ...] = get_args(V4RenderingSpeed)
ACCELERATIONS: tuple[str, ...] = get_args(Acceleration)
CHARACTER_STYLES: tuple[str, ...] = get_args(CharacterStyle)
CHARACTER_ASPECT_RATIOS: tuple[str, ...] = get_args(CharacterAspectRatio)
CHARACTER_RESOLUTIONS: tuple[str, ...] = get_args(CharacterResolution)
CHARACTER_RENDERING_SPEEDS: tuple[str, ...] = get_args(CharacterRenderingSpeed)


class _ModelInput(BaseModel):
    """Shared behaviour: camelCase aliases, unknown fields refused, errors made readable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    model_id: ClassVar[str]

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InputError(_problems(type(self), exc)) from exc
        if problems := self._cross_check():
            raise InputError(problems)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        """Validate a camelCase (or snake_case) body, e.g. one read back from storage."""
        return cls(**dict(body))

    def to_body(self) -> dict[str, Any]:
        """The camelCase request body, with only the fields that were set."""
        return self.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)

    def _cross_check(self) -> dict[str, str]:
        return {}

    @field_validator("prompt", mode="after", check_fields=False)
    @classmethod
    def _prompt(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("prompt must not be blank")
        if len(value) > PROMPT_MAX_LENGTH:
            raise ValueError(f"prompt must be at most {PROMPT_MAX_LENGTH} characters (it has {len(value)})")
        return value


class IdeogramV4Input(_ModelInput):
    """Inputs of model_ideogram-v4 (text to image)."""

    model_id: ClassVar[str] = IDEOGRAM_V4

    prompt: str
    image_size: V4ImageSize | None = None
    rendering_speed: V4RenderingSpeed | None = None
    enable_prompt_expansion: bool | None = None
    acceleration: Acceleration | None = None
    num_outputs: int | None = Field(default=None, ge=1, le=V4_MAX_OUTPUTS)
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)


class IdeogramCharacterInput(_ModelInput):
    """Inputs of model_ideogram-character (a character reference image plus a prompt; optional inpainting)."""

    model_id: ClassVar[str] = IDEOGRAM_CHARACTER

    prompt: str
    character_reference_image: str
    style_type: CharacterStyle | None = None
    aspect_ratio: CharacterAspectRatio | None = None
    resolution: CharacterResolution | None = None
    rendering_speed: CharacterRenderingSpeed | None = None
    image: str | None = None
    mask: str | None = None
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)

    @field_validator("character_reference_image", "image", "mask")
    @classmethod
    def _asset_id(cls, value: str | None, info: Any) -> str | None:
        if value is not None and not value.strip():
            raise ValueError(f"{to_camel(info.field_name)} must be an asset id, not blank")
        return value.strip() if value is not None else None

    def _cross_check(self) -> dict[str, str]:
        if (self.image is None) != (self.mask is None):
            missing = "mask" if self.mask is None else "image"
            return {missing: "image and mask must be given together (inpainting needs both)"}
        return {}


def _allowed_values(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    for arg in get_args(annotation):
        if values := _allowed_values(arg):
            return values
    return ()


def _bounds(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    low = high = None
    for item in model.model_fields[name].metadata:
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Le):
            high = item.le
    return low, high


def _problems(model: type[BaseModel], exc: ValidationError) -> dict[str, str]:
    """One readable sentence per invalid field, keyed by the field's camelCase name."""
    problems: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        raw = str(error["loc"][0]) if error["loc"] else "input"
        name = to_camel(raw) if "_" in raw else raw
        kind = error["type"]
        if kind == "literal_error" and raw in model.model_fields:
            allowed = ", ".join(str(v) for v in _allowed_values(model.model_fields[raw].annotation))
            text = f"{name} must be one of {allowed}"
        elif kind == "missing":
            text = f"{name} is required"
        elif kind == "extra_forbidden":
            text = f"{name} is not an input of {getattr(model, 'model_id', 'this model')}"
        elif kind in {"greater_than_equal", "less_than_equal"}:
            low, high = _bounds(model, raw)
            text = f"{name} must be between {low} and {high}"
        elif kind in {"int_type", "int_parsing", "int_from_float"}:
            text = f"{name} must be a whole number"
        elif kind in {"bool_type", "bool_parsing"}:
            text = f"{name} must be true or false"
        elif kind == "string_type":
            text = f"{name} must be text"
        elif kind == "value_error":
            text = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
        else:
            text = f"{name}: {error['msg']}"
        problems.setdefault(name, text)
    return problems
