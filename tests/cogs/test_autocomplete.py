"""Autocomplete through real discord.py and the fake Discord (type 4 in, type 8 out, validated by the spec)."""

from __future__ import annotations

import pytest

from bot.library.models import SavedCharacter, SavedStyle
from fakes.discord import DEFAULT_USER_ID, ClientCheckError
from tests.cogs.conftest import World
from tests.cogs.library import FRIEND, autocomplete


async def add_characters(world: World, *names: str, owner: int = DEFAULT_USER_ID, guild: int | None = None) -> None:
    for name in names:
        await world.store.save_character(SavedCharacter(owner_id=owner, name=name, asset_id=f"asset_{name}",
                                                        guild_id=guild))  # fmt: skip


async def test_character_choices_list_prefix_matches_then_substring_matches(world: World) -> None:
    await add_characters(world, "Moon Luna", "Luna", "lunar base", "Zed", "Aluna")
    await add_characters(world, "Lucky", owner=FRIEND, guild=world.discord.guild_id)  # shared here
    await add_characters(world, "Lulu", owner=FRIEND)  # someone else's own
    requests_before = len(world.scenario.request_log)

    typed = {"prompt": "a scene", "character": "lu"}
    assert await autocomplete(world, "character", typed, "character") == [
        "Lucky", "Luna", "lunar base", "Aluna", "Moon Luna",
    ]  # fmt: skip
    assert await autocomplete(world, "character", {"prompt": "x", "character": ""}, "character") == [
        "Aluna", "Lucky", "Luna", "lunar base", "Moon Luna", "Zed",
    ]  # fmt: skip
    assert await autocomplete(world, "character", {"character": "ZE"}, "character") == ["Zed"]
    assert len(world.scenario.request_log) == requests_before  # answered from the store alone


async def test_at_most_25_choices_and_shared_ones_are_labelled(world: World) -> None:
    await add_characters(world, *(f"Hero {n:02d}" for n in range(30)))
    await add_characters(world, "Herald", owner=FRIEND, guild=world.discord.guild_id)
    interaction = await world.discord.autocomplete("character", {"character": "her"}, "character")
    await world.wait_for(lambda: interaction.autocomplete_choices is not None)
    choices = interaction.autocomplete_choices
    assert len(choices) == 25
    assert choices[0] == {"name": "Herald · shared by the server", "value": "Herald"}
    assert choices[1] == {"name": "Hero 00", "value": "Hero 00"}
    assert interaction.callbacks[0]["type"] == 8


async def test_style_choices_on_imagine_and_character(world: World) -> None:
    await world.store.save_style(SavedStyle(owner_id=DEFAULT_USER_ID, name="Noir", text="{prompt}, noir"))
    await world.store.save_style(SavedStyle(owner_id=DEFAULT_USER_ID, name="Fairy tale", text="a fairy tale"))
    assert await autocomplete(world, "imagine", {"prompt": "x", "style": "f"}, "style") == ["Fairy tale"]
    # /character's style also offers its built-in character styles.
    assert await autocomplete(world, "character", {"prompt": "x", "style": "f"}, "style") == ["Fairy tale", "Fiction"]
    assert await autocomplete(world, "character", {"style": ""}, "style") == [
        "Auto", "Fairy tale", "Fiction", "Noir", "Realistic",
    ]  # fmt: skip


async def test_rename_and_delete_offer_names_too(world: World) -> None:
    await add_characters(world, "Luna", "Nova")
    await world.store.save_style(SavedStyle(owner_id=DEFAULT_USER_ID, name="Noir", text="noir"))
    assert await autocomplete(world, "characters delete", {"name": "n"}, "name") == ["Nova", "Luna"]
    assert await autocomplete(world, "characters rename", {"name": "lu"}, "name") == ["Luna"]
    assert await autocomplete(world, "styles delete", {"name": ""}, "name") == ["Noir"]


async def test_the_fake_refuses_autocomplete_on_an_option_without_it(world: World) -> None:
    with pytest.raises(ClientCheckError, match="no autocomplete"):
        await world.discord.autocomplete("imagine", {"prompt": "a c"}, "prompt")
    with pytest.raises(ClientCheckError, match="needs a value"):
        await world.discord.autocomplete("imagine", {}, "style")
