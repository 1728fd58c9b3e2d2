"""/character through real discord.py: the reference's exact bytes go to Scenario, and its asset id is sent."""

from __future__ import annotations

from fakes.discord import FakeFile
from tests.cogs.conftest import World, png_bytes


async def test_the_reference_is_uploaded_byte_exact_and_its_id_sent(world: World) -> None:
    reference = png_bytes((80, 60), "orange")
    interaction = await world.discord.send_command(
        "character",
        {"prompt": "the same fox, now an astronaut", "style": "Fiction", "aspect_ratio": "16:9", "speed": "turbo"},
        attachments={"reference": FakeFile("fox.png", reference, "image/png")},
    )
    message = await world.result_of(interaction)

    [asset_id] = world.scenario.uploads
    assert world.scenario.assets[asset_id].data == reference
    [call] = world.generate_calls()
    assert call.model_id == "model_ideogram-character"
    assert call.body == {
        "prompt": "the same fox, now an astronaut",
        "characterReferenceImage": asset_id,
        "styleType": "Fiction",
        "aspectRatio": "16:9",
        "renderingSpeed": "Turbo",
    }
    assert len(message.attachments) == 1


async def test_resolution_and_seed_are_mapped(world: World) -> None:
    interaction = await world.discord.send_command(
        "character",
        {"prompt": "a knight", "resolution": "1280x720", "speed": "balanced", "seed": 99},
        attachments={"reference": FakeFile("knight.jpg", png_bytes(fmt="JPEG"), "image/jpeg")},
    )
    await world.result_of(interaction)
    [call] = world.generate_calls()
    assert call.body["resolution"] == "1280x720"
    assert call.body["renderingSpeed"] == "Default"
    assert call.body["seed"] == 99


async def test_inpainting_sends_both_image_and_mask_ids(world: World) -> None:
    files = {
        "reference": FakeFile("ref.png", png_bytes((64, 64), "red"), "image/png"),
        "image": FakeFile("scene.png", png_bytes((96, 64), "green"), "image/png"),
        "mask": FakeFile("mask.png", png_bytes((96, 64), "black"), "image/png"),
    }
    interaction = await world.discord.send_command("character", {"prompt": "repaint the sky"}, attachments=files)
    await world.result_of(interaction)

    uploaded = {world.scenario.assets[asset_id].data: asset_id for asset_id in world.scenario.uploads}
    [call] = world.generate_calls()
    assert call.body["characterReferenceImage"] == uploaded[files["reference"].data]
    assert call.body["image"] == uploaded[files["image"].data]
    assert call.body["mask"] == uploaded[files["mask"].data]


async def test_a_bmp_reference_is_converted_to_png(world: World) -> None:
    interaction = await world.discord.send_command(
        "character",
        {"prompt": "a robot"},
        attachments={"reference": FakeFile("robot.bmp", png_bytes(fmt="BMP"), "image/bmp")},
    )
    await world.result_of(interaction)
    [asset_id] = world.scenario.uploads
    assert world.scenario.assets[asset_id].data.startswith(b"\x89PNG")
