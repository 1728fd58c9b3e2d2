"""The typed Ideogram inputs: allowed values, camelCase bodies with only what was set, readable errors."""

from __future__ import annotations

import pytest

from bot.scenario import (
    ACCELERATIONS,
    CHARACTER_ASPECT_RATIOS,
    CHARACTER_RENDERING_SPEEDS,
    CHARACTER_RESOLUTIONS,
    CHARACTER_STYLES,
    IDEOGRAM_CHARACTER,
    IDEOGRAM_V4,
    PROMPT_MAX_LENGTH,
    V4_IMAGE_SIZES,
    V4_RENDERING_SPEEDS,
    IdeogramCharacterInput,
    IdeogramV4Input,
    InputError,
    ScenarioError,
)


def test_allowed_values_match_the_reference() -> None:
    assert V4_IMAGE_SIZES == (
        "square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9",
    )  # fmt: skip
    assert V4_RENDERING_SPEEDS == ("TURBO", "BALANCED", "QUALITY")
    assert ACCELERATIONS == ("none", "low", "regular", "high")
    assert CHARACTER_STYLES == ("Auto", "Fiction", "Realistic")
    assert CHARACTER_RENDERING_SPEEDS == ("Default", "Turbo", "Quality")
    assert len(CHARACTER_ASPECT_RATIOS) == 15 and "10:16" in CHARACTER_ASPECT_RATIOS
    assert len(CHARACTER_RESOLUTIONS) == 13 and CHARACTER_RESOLUTIONS[0] == "None"
    assert IdeogramV4Input.model_id == IDEOGRAM_V4
    assert IdeogramCharacterInput.model_id == IDEOGRAM_CHARACTER


def test_v4_body_is_camel_case_with_only_fields_set() -> None:
    assert IdeogramV4Input(prompt="a neon sign").to_body() == {"prompt": "a neon sign"}
    body = IdeogramV4Input(
        prompt="  a neon sign  ",
        image_size="portrait_16_9",
        rendering_speed="TURBO",
        enable_prompt_expansion=False,
        acceleration="high",
        num_outputs=4,
        seed=0,
    ).to_body()
    assert body == {
        "prompt": "a neon sign",
        "imageSize": "portrait_16_9",
        "renderingSpeed": "TURBO",
        "enablePromptExpansion": False,
        "acceleration": "high",
        "numOutputs": 4,
        "seed": 0,
    }


def test_camel_case_names_are_accepted_and_round_trip() -> None:
    body = {"prompt": "x", "renderingSpeed": "QUALITY", "numOutputs": 2}
    assert IdeogramV4Input.from_body(body).to_body() == body
    assert IdeogramV4Input(prompt="x", seed=None).to_body() == {"prompt": "x"}


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"prompt": "x", "rendering_speed": "fast"}, "renderingSpeed",
         "renderingSpeed must be one of TURBO, BALANCED, QUALITY"),
        ({"prompt": "x", "image_size": "huge"}, "imageSize", "imageSize must be one of square_hd, square,"),
        ({"prompt": "x", "acceleration": "max"}, "acceleration", "acceleration must be one of none, low"),
        ({}, "prompt", "prompt is required"),
        ({"prompt": "   "}, "prompt", "prompt must not be blank"),
        ({"prompt": "x" * (PROMPT_MAX_LENGTH + 1)}, "prompt", f"at most {PROMPT_MAX_LENGTH} characters"),
        ({"prompt": "x", "num_outputs": 5}, "numOutputs", "numOutputs must be between 1 and 4"),
        ({"prompt": "x", "num_outputs": 0}, "numOutputs", "numOutputs must be between 1 and 4"),
        ({"prompt": "x", "seed": 2_147_483_648}, "seed", "seed must be between 0 and 2147483647"),
        ({"prompt": "x", "seed": 1.5}, "seed", "seed must be a whole number"),
        ({"prompt": "x", "enable_prompt_expansion": "perhaps"}, "enablePromptExpansion", "true or false"),
        ({"prompt": "x", "style_type": "Auto"}, "styleType", "styleType is not an input of model_ideogram-v4"),
    ],
)  # fmt: skip
def test_v4_errors_name_the_field_and_the_values_allowed(kwargs: dict, field: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        IdeogramV4Input(**kwargs)
    assert caught.value.field == field
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ScenarioError)


def test_v4_prompt_at_the_limit_is_fine() -> None:
    assert len(IdeogramV4Input(prompt="x" * PROMPT_MAX_LENGTH).to_body()["prompt"]) == PROMPT_MAX_LENGTH


def test_character_body() -> None:
    body = IdeogramCharacterInput(
        prompt="a knight",
        character_reference_image="asset_ref",
        style_type="Fiction",
        aspect_ratio="16:9",
        resolution="None",
        rendering_speed="Turbo",
        seed=42,
    ).to_body()
    assert body == {
        "prompt": "a knight",
        "characterReferenceImage": "asset_ref",
        "styleType": "Fiction",
        "aspectRatio": "16:9",
        "resolution": "None",
        "renderingSpeed": "Turbo",
        "seed": 42,
    }
    inpaint = IdeogramCharacterInput(prompt="x", character_reference_image="a", image="b", mask="c")
    assert inpaint.to_body() == {"prompt": "x", "characterReferenceImage": "a", "image": "b", "mask": "c"}


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"prompt": "x"}, "characterReferenceImage", "characterReferenceImage is required"),
        ({"prompt": "x", "character_reference_image": " "}, "characterReferenceImage", "not blank"),
        ({"prompt": "x", "character_reference_image": "a", "image": "b"}, "mask",
         "image and mask must be given together"),
        ({"prompt": "x", "character_reference_image": "a", "mask": "b"}, "image",
         "image and mask must be given together"),
        ({"prompt": "x", "character_reference_image": "a", "rendering_speed": "TURBO"}, "renderingSpeed",
         "renderingSpeed must be one of Default, Turbo, Quality"),
        ({"prompt": "x", "character_reference_image": "a", "aspect_ratio": "7:3"}, "aspectRatio",
         "aspectRatio must be one of 1:3, 1:2,"),
        ({"prompt": "x", "character_reference_image": "a", "resolution": "640x480"}, "resolution",
         "resolution must be one of None, 1536x512,"),
        ({"prompt": "x", "character_reference_image": "a", "style_type": "Anime"}, "styleType",
         "styleType must be one of Auto, Fiction, Realistic"),
        ({"prompt": "x", "character_reference_image": "a", "num_outputs": 2}, "numOutputs",
         "numOutputs is not an input of model_ideogram-character"),
    ],
)  # fmt: skip
def test_character_errors(kwargs: dict, field: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        IdeogramCharacterInput(**kwargs)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_several_problems_are_all_reported() -> None:
    with pytest.raises(InputError) as caught:
        IdeogramV4Input(prompt="", rendering_speed="fast", num_outputs=9)
    assert set(caught.value.problems) == {"prompt", "renderingSpeed", "numOutputs"}
