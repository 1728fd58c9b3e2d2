"""/prefer through real discord.py: an explicit option > your /prefer > the model's default, and the result says so.

Server defaults (`/config defaults`) are a layer between /prefer and the model (bot.options.default_layers);
see tests/bot/test_options.py for the order with a server layer.
"""

from __future__ import annotations

from tests.cogs.conftest import World
from tests.cogs.library import FRIEND, answer


def fields(message) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message.embeds[0]["fields"]}


async def test_an_explicit_option_beats_prefer_which_beats_the_models_default(world: World) -> None:
    reply = await answer(
        world,
        await world.discord.send_command(
            "prefer", {"speed": "turbo", "size": "square", "count": 2, "expand_prompt": False}
        ),
    )
    assert "Saved" in reply and "Turbo — fastest" in reply and "Square (512×512)" in reply

    by_prefer = await world.discord.send_command("imagine", {"prompt": "a cat"})
    message = await world.result_of(by_prefer)
    explicit = await world.discord.send_command("imagine", {"prompt": "a cat", "speed": "quality", "count": 1})
    explicit_message = await world.result_of(explicit)
    other = await world.discord.send_command("imagine", {"prompt": "a cat"}, user_id=FRIEND)
    await world.result_of(other)

    first, second, third = (call.body for call in world.generate_calls())
    assert first == {
        "prompt": "a cat", "imageSize": "square", "renderingSpeed": "TURBO", "enablePromptExpansion": False,
        "numOutputs": 2,
    }  # fmt: skip
    assert second == {
        "prompt": "a cat", "imageSize": "square", "renderingSpeed": "QUALITY", "enablePromptExpansion": False,
        "numOutputs": 1,
    }  # fmt: skip
    assert third == {"prompt": "a cat"}  # someone else: the model's defaults, and the result says which
    third_fields = fields(await world.result_of(other))
    assert third_fields["Speed"] == "BALANCED (model default)" and third_fields["Size"] == "square_hd (model default)"
    assert third_fields["Images"] == "1 (model default)" and third_fields["Prompt expansion"] == "on (model default)"
    shown = fields(message)
    assert shown["Speed"] == "TURBO (your /prefer)" and shown["Size"] == "square (your /prefer)"
    assert shown["Images"] == "2 (your /prefer)" and shown["Prompt expansion"] == "off (your /prefer)"
    assert fields(explicit_message)["Speed"] == "QUALITY"  # given: no note
    assert fields(explicit_message)["Size"] == "square (your /prefer)"


async def test_prefer_speed_applies_to_character_and_reset_forgets(world: World) -> None:
    from tests.cogs.library import save_character

    await answer(world, await world.discord.send_command("prefer", {"speed": "quality"}))
    await save_character(world, "Luna")
    scene = await world.discord.send_command("character", {"prompt": "Luna", "character": "Luna"})
    message = await world.result_of(scene)
    assert world.generate_calls()[-1].body["renderingSpeed"] == "Quality"
    assert fields(message)["Speed"] == "Quality (your /prefer)"

    shown = await answer(world, await world.discord.send_command("prefer", {}))
    assert "Quality — sharpest" in shown
    reset = await answer(world, await world.discord.send_command("prefer", {"reset": True}))
    assert "Reset" in reset and "no personal defaults" in reset
    after = await world.discord.send_command("imagine", {"prompt": "a cat"})
    await world.result_of(after)
    assert world.generate_calls()[-1].body == {"prompt": "a cat"}


async def test_prefer_survives_a_restart(world: World) -> None:
    await answer(world, await world.discord.send_command("prefer", {"size": "landscape_16_9"}))
    await world.restart_bot()
    interaction = await world.discord.send_command("imagine", {"prompt": "a road"})
    await world.result_of(interaction)
    assert world.generate_calls()[-1].body["imageSize"] == "landscape_16_9"


async def test_prefer_sits_between_the_explicit_option_and_the_servers_default(world: World) -> None:
    from tests.cogs.library import MANAGE_SERVER

    await answer(world, await world.discord.send_command("config defaults", {"speed": "quality", "size": "square"},
                                                         member_permissions=MANAGE_SERVER))  # fmt: skip
    await answer(world, await world.discord.send_command("prefer", {"speed": "turbo"}))
    first = await world.discord.send_command("imagine", {"prompt": "a cat"})
    shown = fields(await world.result_of(first))
    assert shown["Speed"] == "TURBO (your /prefer)" and shown["Size"] == "square (this server's default)"
    await answer(world, await world.discord.send_command("prefer", {"reset": True}))
    second = await world.discord.send_command("imagine", {"prompt": "a cat"})
    assert fields(await world.result_of(second))["Speed"] == "QUALITY (this server's default)"
    third = await world.discord.send_command("imagine", {"prompt": "a cat", "speed": "balanced"})
    assert fields(await world.result_of(third))["Speed"] == "BALANCED"
    assert [c.body["renderingSpeed"] for c in world.generate_calls()] == ["TURBO", "QUALITY", "BALANCED"]
