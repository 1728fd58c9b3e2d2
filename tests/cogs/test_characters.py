"""Saved characters through real discord.py and the fakes: saved once, reused by name, shared or personal."""

from __future__ import annotations

from fakes.discord import DEFAULT_USER_ID, FakeFile
from tests.cogs.conftest import World, png_bytes
from tests.cogs.library import (
    FRIEND,
    GUILD_MANAGER_2,
    MANAGE_SERVER,
    MANAGER,
    MEMBER,
    answer,
    autocomplete,
    said,
    save_character,
)


async def test_saved_from_an_attachment_it_is_uploaded_once_and_reused_by_name(world: World) -> None:
    reference = png_bytes((80, 60), "orange")
    save = await world.discord.send_command(
        "characters save", {"name": "Luna"}, attachments={"image": FakeFile("luna.png", reference, "image/png")}
    )
    assert "Saved the character **Luna**" in await answer(world, save)
    assert save.ephemeral_all
    [asset_id] = world.scenario.uploads  # exactly one POST /assets
    assert world.scenario.assets[asset_id].data == reference
    assert not world.generate_calls()

    for scene in ("Luna on the moon", "Luna in Paris"):
        interaction = await world.discord.send_command("character", {"prompt": scene, "character": "luna"})
        message = await world.result_of(interaction)
        fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
        assert fields["Character"] == "Luna"
    assert [call.body["characterReferenceImage"] for call in world.generate_calls()] == [asset_id, asset_id]
    assert world.scenario.uploads == [asset_id]  # nothing uploaded again


async def test_saved_from_a_result_button_it_keeps_the_outputs_asset(world: World) -> None:
    imagine = await world.discord.send_command("imagine", {"prompt": "a red kite", "count": 2})
    message = await world.result_of(imagine)
    job = await world.job_for(imagine)

    click = await world.discord.click(message.id, f"res:save:{job.id}")
    await world.wait_for(lambda: click.modal is not None)
    submit = await world.discord.submit_modal(click.modal["custom_id"], {"name": "Kite", "image": "2"})
    assert "Saved the character **Kite**" in await answer(world, submit)
    assert submit.ephemeral_all
    assert not world.scenario.uploads  # the output is a Scenario asset already: no POST /assets

    [kite] = await world.store.characters_for(submit.user_id, submit.guild_id, thumbnails=True)
    assert (kite.asset_id, kite.source_job_id) == (job.output_asset_ids[1], job.id)
    assert kite.thumbnail and kite.thumbnail.startswith(b"\xff\xd8")  # made from the posted image

    scene = await world.discord.send_command("character", {"prompt": "the kite over Paris", "character": "Kite"})
    await world.result_of(scene)
    assert world.generate_calls()[-1].body["characterReferenceImage"] == job.output_asset_ids[1]
    assert not world.scenario.uploads


async def test_character_with_a_saved_name_sends_its_asset_and_uploads_nothing(world: World) -> None:
    await save_character(world, "Luna")
    [asset_id] = world.scenario.uploads
    interaction = await world.discord.send_command(
        "character", {"prompt": "Luna as an astronaut", "character": "Luna", "speed": "turbo"}
    )
    await world.result_of(interaction)
    [call] = world.generate_calls()
    assert call.model_id == "model_ideogram-character"
    assert call.body == {
        "prompt": "Luna as an astronaut",
        "characterReferenceImage": asset_id,
        "renderingSpeed": "Turbo",
    }
    assert world.scenario.uploads == [asset_id]


async def test_exactly_one_of_reference_and_character(world: World) -> None:
    await save_character(world, "Luna")
    neither = await world.discord.send_command("character", {"prompt": "nobody"})
    assert "needs a character" in await answer(world, neither)
    both = await world.discord.send_command(
        "character",
        {"prompt": "both", "character": "Luna"},
        attachments={"reference": FakeFile("r.png", png_bytes(), "image/png")},
    )
    assert "not both" in await answer(world, both)
    unknown = await world.discord.send_command("character", {"prompt": "who?", "character": "Nobody"})
    assert "no saved character named `Nobody`" in await answer(world, unknown)
    assert all(ix.ephemeral_all for ix in (neither, both, unknown))
    assert not world.generate_calls() and len(world.scenario.uploads) == 1  # the save's upload; then nothing


async def test_a_shared_character_is_visible_to_another_member_a_personal_one_is_not(world: World) -> None:
    await save_character(world, "Mascot", shared=True, member_permissions=MANAGE_SERVER, user_id=MANAGER)
    await save_character(world, "Secret", colour="purple", user_id=MANAGER, member_permissions=MANAGE_SERVER)

    assert await autocomplete(world, "character", {"prompt": "x", "character": ""}, "character", user_id=FRIEND) == [
        "Mascot"
    ]
    hidden = await world.discord.send_command("character", {"prompt": "x", "character": "Secret"}, user_id=FRIEND)
    assert "no saved character named `Secret`" in await answer(world, hidden)

    used = await world.discord.send_command("character", {"prompt": "the mascot waves", "character": "Mascot"},
                                            user_id=FRIEND)  # fmt: skip
    await world.result_of(used)
    mascot = [c for c in await world.store.characters_for(MANAGER, world.discord.guild_id) if c.name == "Mascot"]
    assert world.generate_calls()[-1].body["characterReferenceImage"] == mascot[0].asset_id
    # The shared one belongs to the server: not in another member's DMs.
    dm = await autocomplete(world, "character", {"prompt": "x", "character": ""}, "character", user_id=FRIEND,
                            guild_id=None)  # fmt: skip
    assert dm == []
    # Its owner still has both everywhere.
    assert await autocomplete(world, "character", {"prompt": "x", "character": ""}, "character", user_id=MANAGER,
                              guild_id=None) == ["Mascot", "Secret"]  # fmt: skip


async def test_sharing_needs_manage_server_and_a_server(world: World) -> None:
    refused = await save_character(world, "Mascot", shared=True, member_permissions=MEMBER)
    assert "Manage Server" in said(refused)
    in_dm = await world.discord.send_command(
        "characters save", {"name": "Mascot", "shared": True}, guild_id=None,
        attachments={"image": FakeFile("m.png", png_bytes(), "image/png")},
    )  # fmt: skip
    assert "not in a DM" in await answer(world, in_dm)
    assert not world.scenario.uploads  # refused before anything was uploaded


async def test_names_are_unique_per_owner_and_per_server_ignoring_case(world: World) -> None:
    await save_character(world, "Luna")
    again = await save_character(world, "LUNA", colour="blue")
    assert "is taken" in said(again)
    assert len(world.scenario.uploads) == 1  # refused before uploading

    other = await save_character(world, "luna", user_id=FRIEND)  # another person's own Luna is fine
    assert "Saved" in said(other)
    await save_character(world, "Mascot", shared=True, member_permissions=MANAGE_SERVER, user_id=MANAGER)
    clash = await save_character(world, "mascot", shared=True, member_permissions=MANAGE_SERVER,
                                 user_id=GUILD_MANAGER_2)  # fmt: skip
    assert "is taken" in said(clash)


async def test_rename_and_delete_are_for_the_owner_or_a_manager_of_a_shared_one(world: World) -> None:
    await save_character(world, "Luna")
    await save_character(world, "Nova", colour="blue")
    await save_character(world, "Mascot", shared=True, member_permissions=MANAGE_SERVER, user_id=MANAGER)

    taken = await world.discord.send_command("characters rename", {"name": "Luna", "new_name": "nova"})
    assert "is taken" in await answer(world, taken)
    renamed = await world.discord.send_command("characters rename", {"name": "luna", "new_name": "Selene"})
    assert "Renamed the character **Luna** to **Selene**" in await answer(world, renamed)

    # Someone else's personal character is invisible to others, so it cannot be touched.
    stranger = await world.discord.send_command("characters delete", {"name": "Selene"}, user_id=FRIEND)
    assert "no saved character named `Selene`" in await answer(world, stranger)
    # A shared one: not by a plain member…
    member = await world.discord.send_command("characters delete", {"name": "Mascot"}, member_permissions=MEMBER)
    assert "Only the person who saved" in await answer(world, member)
    # …but by another member with Manage Server.
    manager = await world.discord.send_command("characters delete", {"name": "Mascot"}, user_id=GUILD_MANAGER_2,
                                               member_permissions=MANAGE_SERVER)  # fmt: skip
    assert "Deleted the character **Mascot**" in await answer(world, manager)
    mine = await world.discord.send_command("characters delete", {"name": "selene"})
    assert "Deleted the character **Selene**" in await answer(world, mine)
    assert [c.name for c in await world.store.characters_for(DEFAULT_USER_ID, world.discord.guild_id)] == ["Nova"]


async def test_list_shows_names_and_a_sheet_of_thumbnails_privately(world: World) -> None:
    empty = await world.discord.send_command("characters list", {})
    assert "no saved characters yet" in await answer(world, empty)

    await save_character(world, "Luna")
    await save_character(
        world, "Mascot", colour="green", shared=True, member_permissions=MANAGE_SERVER, user_id=MANAGER
    )
    listing = await world.discord.send_command("characters list", {})
    await world.wait_for(lambda: listing.original is not None and listing.original.attachments)
    text = said(listing)
    assert "**Luna** — yours" in text and "**Mascot** — the server's, shared" in text
    [sheet] = listing.original.attachments
    assert sheet.filename == "characters.png" and sheet.width > sheet.height  # two tiles side by side
    assert listing.original.ephemeral


async def test_a_bad_image_is_refused_privately_and_nothing_is_saved(world: World) -> None:
    save = await world.discord.send_command(
        "characters save", {"name": "Notes"}, attachments={"image": FakeFile("notes.txt", b"just text\n" * 20)}
    )
    assert "`notes.txt` is not an image" in await answer(world, save)
    assert save.ephemeral_all
    assert not world.scenario.uploads and not world.generate_calls()
    assert not await world.store.characters_for(DEFAULT_USER_ID, world.discord.guild_id)
