"""Bad input: a clear, private reply to the sender, no generate request, and the bot keeps serving."""

from __future__ import annotations

import pytest

from fakes.discord import FakeFile
from tests.cogs.conftest import World
from tests.images import animated_gif, bomb_png, png_bytes


def reply_text(interaction) -> str:
    """Everything the sender was shown privately: an ephemeral reply or follow-up."""
    texts = [cb["data"].get("content", "") for cb in interaction.callbacks if cb["type"] == 4 and cb.get("data")]
    texts += [message.content for message in interaction.followups]
    return "\n".join(texts)


def was_private(interaction) -> bool:
    flags = [cb["data"].get("flags", 0) for cb in interaction.callbacks if cb["type"] == 4 and cb.get("data")]
    flags += [message.flags for message in interaction.followups]
    return bool(flags) and all(flag & 64 for flag in flags)


REFERENCE_CASES = {
    "text file": (FakeFile("notes.txt", b"just some words\n" * 20, "text/plain"), "not an image"),
    "pdf": (FakeFile("doc.pdf", b"%PDF-1.7\n" + b"0" * 500, "application/pdf"), "PDF"),
    "misleading extension": (FakeFile("photo.png", b"%PDF-1.4\n" + b"1" * 400, "image/png"), "PDF"),
    "corrupt image": (FakeFile("broken.png", png_bytes((200, 200))[:120], "image/png"), "damaged"),
    "zero bytes": (FakeFile("empty.png", b"", "image/png"), "empty"),
    "decompression bomb": (FakeFile("huge.png", bomb_png(), "image/png"), "pixels"),
    "animated gif": (FakeFile("dance.gif", animated_gif(), "image/gif"), "nimated"),
}


@pytest.mark.parametrize("case", sorted(REFERENCE_CASES))
async def test_a_bad_reference_is_refused_before_anything_is_spent(world: World, case: str) -> None:
    file, expected = REFERENCE_CASES[case]
    interaction = await world.discord.send_command("character", {"prompt": "a hero"}, attachments={"reference": file})
    await world.wait_for(lambda: reply_text(interaction))

    assert expected.lower() in reply_text(interaction).lower()
    assert was_private(interaction)
    assert not world.scenario.generate_calls
    assert not world.scenario.uploads
    await assert_still_serving(world)


async def test_an_attachment_over_the_cap_is_refused_without_downloading(make_world) -> None:
    world = await make_world(settings_overrides={"max_attachment_mb": 0.01})
    big = FakeFile("big.png", png_bytes((400, 400)) + b"\0" * 20_000, "image/png")
    interaction = await world.discord.send_command("character", {"prompt": "a hero"}, attachments={"reference": big})
    await world.wait_for(lambda: reply_text(interaction))

    assert "limit" in reply_text(interaction)
    assert not any("/attachments/" in request.path for request in world.discord.requests)
    assert not world.scenario.generate_calls


@pytest.mark.parametrize("given", ["image", "mask"])
async def test_inpainting_needs_both_image_and_mask(world: World, given: str) -> None:
    files = {
        "reference": FakeFile("ref.png", png_bytes(), "image/png"),
        given: FakeFile(f"{given}.png", png_bytes(), "image/png"),
    }
    interaction = await world.discord.send_command("character", {"prompt": "a hero"}, attachments=files)
    await world.wait_for(lambda: reply_text(interaction))
    text = reply_text(interaction)
    assert "image" in text and "mask" in text
    assert was_private(interaction)
    assert not world.scenario.generate_calls and not world.scenario.uploads


RAW_OPTION_CASES = {
    "whitespace prompt": ([{"name": "prompt", "type": 3, "value": "   "}], "empty"),
    "prompt over the limit": ([{"name": "prompt", "type": 3, "value": "x" * 2001}], "2000"),
    "NUL in the prompt": ([{"name": "prompt", "type": 3, "value": "a cat\x00"}], "NUL"),
    "seed out of range": (
        [{"name": "prompt", "type": 3, "value": "a cat"}, {"name": "seed", "type": 4, "value": 2_147_483_648}],
        "seed",
    ),
    "negative count": (
        [{"name": "prompt", "type": 3, "value": "a cat"}, {"name": "count", "type": 4, "value": 9}],
        "count",
    ),
    "unknown size": (
        [{"name": "prompt", "type": 3, "value": "a cat"}, {"name": "size", "type": 3, "value": "gigantic"}],
        "size",
    ),
    "unknown speed": (
        [{"name": "prompt", "type": 3, "value": "a cat"}, {"name": "speed", "type": 3, "value": "ludicrous"}],
        "speed",
    ),
}


@pytest.mark.parametrize("case", sorted(RAW_OPTION_CASES))
async def test_values_a_modified_client_sends_are_refused(world: World, case: str) -> None:
    options, expected = RAW_OPTION_CASES[case]
    interaction = await world.discord.send_command("imagine", {}, raw_options=options)
    await world.wait_for(lambda: reply_text(interaction))
    assert expected in reply_text(interaction)
    assert was_private(interaction)
    assert not world.scenario.generate_calls
    await assert_still_serving(world)


async def test_an_unknown_character_choice_is_refused(world: World) -> None:
    interaction = await world.discord.send_command(
        "character",
        {},
        raw_options=[
            {"name": "prompt", "type": 3, "value": "a hero"},
            {"name": "reference", "type": 11, "value": "REFERENCE"},
            {"name": "aspect_ratio", "type": 3, "value": "7:5"},
        ],
        attachments={"reference": FakeFile("ref.png", png_bytes(), "image/png")},
    )
    await world.wait_for(lambda: reply_text(interaction))
    assert "aspect_ratio" in reply_text(interaction)
    assert not world.scenario.generate_calls and not world.scenario.uploads


async def assert_still_serving(world: World) -> None:
    before = len(world.generate_calls())
    interaction = await world.discord.send_command("imagine", {"prompt": "still here"}, user_id=4242)
    await world.result_of(interaction)
    assert len(world.generate_calls()) == before + 1
