"""What a user does most, against the real `python -m bot` process: /imagine, /character, a button."""

from __future__ import annotations

from fakes.discord import FakeFile, FakeMessage
from tests.e2e.conftest import E2E, job_id_of, png_bytes

EVERY_OPTION = {
    "size": "landscape_16_9",
    "speed": "quality",
    "expand_prompt": False,
    "acceleration": "low",
    "count": 2,
    "seed": 1234,
}


def fields_of(message: FakeMessage) -> dict[str, str]:
    return {field["name"]: field["value"] for field in message.embeds[0]["fields"]}


async def test_imagine_with_every_option(e2e: E2E) -> None:
    interaction = await e2e.imagine('a neon sign that says "OPEN"', **EVERY_OPTION)
    message = await e2e.result_of(interaction)

    [call] = e2e.paid_generates()
    assert call.model_id == "model_ideogram-v4"
    assert call.body == {
        "prompt": 'a neon sign that says "OPEN"',
        "imageSize": "landscape_16_9",
        "renderingSpeed": "QUALITY",
        "enablePromptExpansion": False,
        "acceleration": "low",
        "numOutputs": 2,
        "seed": 1234,
    }
    # Acknowledged at once with a public "thinking…", then that same message became the result.
    assert interaction.callbacks[0]["type"] == 5
    assert not message.ephemeral and not message.content
    served = [e2e.scenario.assets[asset_id].data for asset_id in e2e.scenario.jobs[call.job_id].asset_ids]
    assert [attachment.data for attachment in message.attachments] == served
    assert len(e2e.result_posts()) == 1
    fields = fields_of(message)
    assert fields["Model"] == "Ideogram V4" and fields["Size"] == "landscape_16_9" and fields["Images"] == "2"
    assert e2e.states() == {job_id_of(message): "delivered"}
    # The requester saw progress before the result.
    progress = [r.json.get("content", "") for r in e2e.discord.requests if r.method == "PATCH" and r.json]
    assert any(text.startswith(("⏳", "🎨")) for text in progress)


async def test_character_with_a_reference_attachment(e2e: E2E) -> None:
    reference = png_bytes((80, 60), "orange")
    interaction = await e2e.discord.send_command(
        "character",
        {"prompt": "the same fox, now an astronaut", "style": "Fiction", "aspect_ratio": "16:9", "seed": 7},
        attachments={"reference": FakeFile("fox.png", reference, "image/png")},
    )
    message = await e2e.result_of(interaction)

    [asset_id] = e2e.scenario.uploads
    assert e2e.scenario.assets[asset_id].data == reference  # fetched from Discord's CDN, sent byte for byte
    [call] = e2e.paid_generates()
    assert call.model_id == "model_ideogram-character"
    assert call.body == {
        "prompt": "the same fox, now an astronaut",
        "characterReferenceImage": asset_id,
        "styleType": "Fiction",
        "aspectRatio": "16:9",
        "seed": 7,
    }
    assert len(message.attachments) == 1
    assert fields_of(message)["Model"] == "Ideogram Character"
    assert len(e2e.result_posts()) == 1


async def test_character_with_inpainting_uploads_all_three_images(e2e: E2E) -> None:
    files = {
        "reference": FakeFile("ref.png", png_bytes((64, 64), "red"), "image/png"),
        "image": FakeFile("scene.jpg", png_bytes((96, 64), "green", fmt="JPEG"), "image/jpeg"),
        "mask": FakeFile("mask.png", png_bytes((96, 64), "black"), "image/png"),
    }
    interaction = await e2e.discord.send_command("character", {"prompt": "repaint the sky"}, attachments=files)
    await e2e.result_of(interaction)

    uploaded = {e2e.scenario.assets[asset_id].data: asset_id for asset_id in e2e.scenario.uploads}
    [call] = e2e.paid_generates()
    assert call.body == {
        "prompt": "repaint the sky",
        "characterReferenceImage": uploaded[files["reference"].data],
        "image": uploaded[files["image"].data],
        "mask": uploaded[files["mask"].data],
    }


async def test_reroll_button_runs_the_same_request_with_a_new_seed(e2e: E2E) -> None:
    first = await e2e.imagine("a red kite over the sea", size="portrait_4_3", seed=77)
    message = await e2e.result_of(first)
    parent_id = job_id_of(message)
    assert f"res:reroll:{parent_id}" in message.custom_ids()

    click = await e2e.discord.click(message.id, f"res:reroll:{parent_id}")
    child = await e2e.result_of(click)

    original, reroll = e2e.paid_generates()
    assert original.body == {"prompt": "a red kite over the sea", "imageSize": "portrait_4_3", "seed": 77}
    assert {k: v for k, v in reroll.body.items() if k != "seed"} == {
        "prompt": "a red kite over the sea",
        "imageSize": "portrait_4_3",
    }
    assert isinstance(reroll.body["seed"], int) and reroll.body["seed"] != 77
    # A new message for the reroll; the first result stays as it was.
    assert child.id != message.id and message.attachments and not message.deleted
    assert str(message.id) in fields_of(child)["From"]
    assert len(e2e.result_posts()) == 2
    assert sorted(e2e.states().values()) == ["delivered", "delivered"]
