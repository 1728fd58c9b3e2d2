"""Saved styles through real discord.py and the fakes: a template with or without `{prompt}`, shown on the result."""

from __future__ import annotations

from tests.cogs.conftest import World
from tests.cogs.library import FRIEND, MANAGE_SERVER, MANAGER, MEMBER, answer, save_character


def fields(message) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message.embeds[0]["fields"]}


async def save_style(world: World, name: str, text: str, **kwargs: object) -> str:
    options = {"name": name, "text": text}
    if "shared" in kwargs:
        options["shared"] = kwargs.pop("shared")  # type: ignore[assignment]
    interaction = await world.discord.send_command("styles save", options, **kwargs)  # type: ignore[arg-type]
    return await answer(world, interaction)


async def test_a_style_with_prompt_puts_the_prompt_in_its_place(world: World) -> None:
    reply = await save_style(world, "Noir", "a film noir still of {prompt}, 1940s, hard shadows")
    assert "Saved the style **Noir**" in reply and "a film noir still of a cat, 1940s, hard shadows" in reply

    interaction = await world.discord.send_command("imagine", {"prompt": "a detective", "style": "noir"})
    message = await world.result_of(interaction)
    [call] = world.generate_calls()
    assert call.body["prompt"] == "a film noir still of a detective, 1940s, hard shadows"
    assert fields(message)["Saved style"] == "Noir"
    assert message.embeds[0]["description"] == "a film noir still of a detective, 1940s, hard shadows"


async def test_a_style_without_prompt_is_appended(world: World) -> None:
    await save_style(world, "Watercolor", "watercolor, soft light")
    interaction = await world.discord.send_command("imagine", {"prompt": "a lighthouse", "style": "Watercolor"})
    message = await world.result_of(interaction)
    second = await world.discord.send_command("imagine", {"prompt": "A lighthouse.", "style": "Watercolor"})
    await world.result_of(second)
    assert [call.body["prompt"] for call in world.generate_calls()] == [
        "a lighthouse, watercolor, soft light",
        "A lighthouse. watercolor, soft light",
    ]
    assert fields(message)["Saved style"] == "Watercolor"


async def test_character_takes_a_saved_style_or_a_built_in_one(world: World) -> None:
    await save_character(world, "Luna")
    await save_style(world, "Comic", "{prompt}, comic book panel")
    styled = await world.discord.send_command(
        "character", {"prompt": "Luna runs", "character": "Luna", "style": "Comic"}
    )
    message = await world.result_of(styled)
    built_in = await world.discord.send_command(
        "character", {"prompt": "Luna sits", "character": "Luna", "style": "Fiction"}
    )
    await world.result_of(built_in)
    first, second = world.generate_calls()
    assert first.body["prompt"] == "Luna runs, comic book panel" and "styleType" not in first.body
    assert second.body["prompt"] == "Luna sits" and second.body["styleType"] == "Fiction"
    assert fields(message)["Saved style"] == "Comic" and fields(message)["Character"] == "Luna"


async def test_styles_are_shared_per_server_like_characters(world: World) -> None:
    assert "Manage Server" in await save_style(world, "House", "{prompt}, our house style", shared=True,
                                               member_permissions=MEMBER)  # fmt: skip
    await save_style(world, "House", "{prompt}, our house style", shared=True, user_id=MANAGER,
                     member_permissions=MANAGE_SERVER)  # fmt: skip
    await save_style(world, "Mine", "{prompt}, private", user_id=MANAGER)

    listing = await world.discord.send_command("styles list", {}, user_id=FRIEND)
    text = await answer(world, listing)
    assert "**House** (the server's, shared)" in text and "Mine" not in text
    used = await world.discord.send_command("imagine", {"prompt": "a mug", "style": "house"}, user_id=FRIEND)
    await world.result_of(used)
    private = await world.discord.send_command("imagine", {"prompt": "a mug", "style": "Mine"}, user_id=FRIEND)
    assert "no saved style named `Mine`" in await answer(world, private)
    delete = await world.discord.send_command("styles delete", {"name": "House"}, user_id=FRIEND,
                                              member_permissions=MEMBER)  # fmt: skip
    assert "Only the person who saved" in await answer(world, delete)
    assert [call.body["prompt"] for call in world.generate_calls()] == ["a mug, our house style"]


async def test_style_names_and_texts_are_checked(world: World) -> None:
    await save_style(world, "Noir", "{prompt}, noir")
    assert "is taken" in await save_style(world, "NOIR", "x")
    assert "built-in styles" in await save_style(world, "fiction", "x")
    await save_style(world, "Long", "{prompt} " + "very " * 190)
    too_long = await world.discord.send_command("imagine", {"prompt": "p" * 1500, "style": "Long"})
    assert "With the style `Long` the prompt is" in await answer(world, too_long)
    deleted = await world.discord.send_command("styles delete", {"name": "noir"})
    assert "Deleted the style **Noir**" in await answer(world, deleted)
    assert not world.generate_calls()
