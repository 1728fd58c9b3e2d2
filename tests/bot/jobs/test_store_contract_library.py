"""The library part of the `JobStore` contract (saved characters, styles, /prefer), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.jobs.store import JobStore
from bot.library.models import NameTakenError, Preferences, SavedCharacter, SavedStyle
from tests.bot.jobs.conftest import MakeStore, record

OWNER, OTHER, GUILD, OTHER_GUILD = 2**63 - 1, 42, 1_234_567_890_123_456_789, 99


def character(name: str = "Luna", owner: int = OWNER, guild: int | None = None, **fields: object) -> SavedCharacter:
    return SavedCharacter(owner_id=owner, name=name, asset_id=f"asset_{name}", guild_id=guild, **fields)  # type: ignore[arg-type]


async def test_a_character_round_trips_through_a_reopen(make_store: MakeStore) -> None:
    saved = character(
        "Zoë la Renarde ☕", thumbnail=b"\xff\xd8jpeg\x00bytes", source_job_id="abcdef123456",
        created_at=datetime(2025, 3, 1, 12, 0, 0, 999999, tzinfo=UTC),
    )  # fmt: skip
    async with make_store() as s:
        await s.save_character(saved)
    async with make_store() as s:
        assert await s.get_character(saved.id) == saved
        assert await s.get_character("nope") is None


async def test_listing_shows_own_and_this_servers_shared_characters_without_thumbnails_unless_asked(
    store: JobStore,
) -> None:
    mine = character("beta", thumbnail=b"t1")
    shared_here = character("Alpha", owner=OTHER, guild=GUILD, thumbnail=b"t2")
    shared_elsewhere = character("gamma", owner=OTHER, guild=OTHER_GUILD)
    others_own = character("delta", owner=OTHER)
    for item in (mine, shared_here, shared_elsewhere, others_own):
        await store.save_character(item)

    listed = await store.characters_for(OWNER, GUILD)
    assert [c.name for c in listed] == ["Alpha", "beta"]  # by name, case-insensitively
    assert all(c.thumbnail is None for c in listed)
    assert [c.thumbnail for c in await store.characters_for(OWNER, GUILD, thumbnails=True)] == [b"t2", b"t1"]
    assert [c.name for c in await store.characters_for(OWNER, None)] == ["beta"]  # in a DM: only one's own
    assert [c.name for c in await store.characters_for(OTHER, None)] == ["Alpha", "delta", "gamma"]


async def test_names_are_unique_per_owner_and_per_server_case_insensitively(store: JobStore) -> None:
    await store.save_character(character("Luna"))
    with pytest.raises(NameTakenError):
        await store.save_character(character("LUNA"))
    with pytest.raises(NameTakenError):  # one's own names include the ones one shared
        await store.save_character(character("luna", guild=GUILD))
    await store.save_character(character("luna", owner=OTHER))  # another person's personal one is fine
    await store.save_character(character("Star", owner=OTHER, guild=GUILD))
    with pytest.raises(NameTakenError):  # the server already has a shared "Star"
        await store.save_character(character("star", guild=GUILD))
    await store.save_character(character("star", guild=OTHER_GUILD))  # another server is fine


async def test_two_people_sharing_one_name_at_once_one_wins(store: JobStore) -> None:
    attempts = [store.save_character(character("Mascot", owner=owner, guild=GUILD)) for owner in (1, 2, 3, 4)]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, NameTakenError) for r in results if r is not None)


async def test_rename_and_delete(store: JobStore) -> None:
    luna, nova = character("Luna"), character("Nova")
    await store.save_character(luna)
    await store.save_character(nova)

    renamed = await store.rename_character(luna.id, "Selene")
    assert renamed is not None and renamed.name == "Selene" and renamed.asset_id == luna.asset_id
    with pytest.raises(NameTakenError):
        await store.rename_character(luna.id, "NOVA")
    assert await store.rename_character(luna.id, "selene") is not None  # its own name in another case
    assert await store.rename_character("nope", "X") is None

    assert await store.delete_character(luna.id) is True
    assert await store.delete_character(luna.id) is False
    assert [c.name for c in await store.characters_for(OWNER, None)] == ["Nova"]
    await store.save_character(character("Selene"))  # the name is free again


async def test_styles_round_trip_list_clash_and_delete(store: JobStore) -> None:
    noir = SavedStyle(owner_id=OWNER, name="Noir", text="{prompt}, film noir, 1940s")
    shared = SavedStyle(owner_id=OTHER, name="house", text="in our house style", guild_id=GUILD)
    await store.save_style(noir)
    await store.save_style(shared)
    assert await store.get_style(noir.id) == noir
    assert [s.name for s in await store.styles_for(OWNER, GUILD)] == ["house", "Noir"]
    assert [s.name for s in await store.styles_for(OWNER, OTHER_GUILD)] == ["Noir"]
    with pytest.raises(NameTakenError):
        await store.save_style(SavedStyle(owner_id=OWNER, name="NOIR", text="x"))
    with pytest.raises(NameTakenError):
        await store.save_style(SavedStyle(owner_id=OWNER, name="House", text="x", guild_id=GUILD))
    assert await store.delete_style(noir.id) is True
    assert await store.get_style(noir.id) is None


async def test_preferences_are_replaced_and_reset(make_store: MakeStore) -> None:
    async with make_store() as s:
        assert await s.get_preferences(OWNER) == Preferences(OWNER)
        await s.set_preferences(Preferences(OWNER, speed="turbo", count=3, expand_prompt=False))
    async with make_store() as s:
        assert await s.get_preferences(OWNER) == Preferences(OWNER, speed="turbo", count=3, expand_prompt=False)
        await s.set_preferences(Preferences(OWNER, size="square", expand_prompt=True))
        assert await s.get_preferences(OWNER) == Preferences(OWNER, size="square", expand_prompt=True)
        assert await s.get_preferences(OTHER) == Preferences(OTHER)
        await s.delete_preferences(OWNER)
        assert await s.get_preferences(OWNER) == Preferences(OWNER)


async def test_a_job_keeps_what_its_result_shows_of_the_library(store: JobStore) -> None:
    job = record(style_name="Noir", character_name="Luna", option_sources={"renderingSpeed": "your /prefer"})
    await store.add(job)
    assert await store.get(job.id) == job
    updated = await store.update(job.id, option_sources={"imageSize": "this server's default"})
    assert updated.option_sources == {"imageSize": "this server's default"}
