"""Round trips through the real discord.py: login and sync, slash commands, buttons, modals, followups."""

from __future__ import annotations

import discord
import pytest

from fakes.discord import (
    DEFAULT_USER_ID,
    EXTERNAL_CHANNEL_ID,
    ClientCheckError,
    FakeDiscord,
    FakeFile,
    MessageFlags,
)
from tests.fakes.discord._probe import RESULT_PNG, ProbeBot, png_bytes


async def test_login_and_sync_record_the_commands(fd: FakeDiscord, bot: ProbeBot) -> None:
    assert [(r.method, r.path) for r in fd.requests[:3]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("PUT", f"/applications/{fd.application_id}/commands"),
    ]
    assert [c["name"] for c in fd.global_commands] == ["imagine", "upload", "hold", "echo"]
    imagine = fd.global_commands[0]
    assert [o["name"] for o in imagine["options"]] == ["prompt", "count", "hd", "image", "style"]
    assert {"type": 4, "name": "count", "min_value": 1, "max_value": 4}.items() <= imagine["options"][1].items()
    registered = fd.registered_commands()
    assert all(c["id"].isdigit() and c["application_id"] == str(fd.application_id) for c in registered)
    # discord.py now knows the bot user, the app and the server from READY and GUILD_CREATE.
    assert bot.user is not None and bot.user.id == fd.bot_user_id
    assert bot.application_id == fd.application_id
    guild = bot.get_guild(fd.guild_id)
    assert guild is not None and guild.get_channel(fd.channel_id) is not None
    me = guild.me
    assert me.guild_permissions.send_messages and me.guild_permissions.attach_files
    assert not me.guild_permissions.manage_messages
    fd.assert_no_violations()


async def test_resync_keeps_command_ids(fd: FakeDiscord, bot: ProbeBot) -> None:
    before = {c["name"]: c["id"] for c in fd.registered_commands()}
    synced = await bot.tree.sync()
    assert {c.name: c.id for c in synced} == {name: int(i) for name, i in before.items()}


async def test_slash_command_with_an_attachment_round_trip(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    reference = png_bytes((16, 16), "purple")
    ix = await fd.send_command(
        "imagine",
        {"prompt": "a cat", "count": 2, "hd": True, "style": "anime"},
        attachments={"image": FakeFile("my ref.png", reference)},
    )
    # The bot read the user's attachment from the fake CDN, byte for byte.
    assert await seen("imagine") == ("imagine", "a cat", 2, True, "anime", reference)
    [resolved] = ix.payload["data"]["resolved"]["attachments"].values()
    assert resolved["filename"] == "my_ref.png" and resolved["content_type"] == "image/png"
    assert (resolved["width"], resolved["height"], resolved["size"]) == (16, 16, len(reference))

    callback = await ix.wait_for_callback()
    assert callback["type"] == 5  # deferred: "Bot is thinking…"
    message = await ix.wait_until(lambda: ix.original is not None and not ix.original.loading and ix.original)
    # The edit's file arrived with exact bytes, and the view's components are on the message.
    [attachment] = message.attachments
    assert (attachment.filename, attachment.data, attachment.content_type) == ("result.png", RESULT_PNG, "image/png")
    assert (attachment.width, attachment.height) == (40, 30)
    assert message.content == "a cat ×2" and message.edit_count == 1
    assert sorted(message.custom_ids()) == ["edit-prompt", "reroll:42"]
    assert message.webhook and message.interaction_id == ix.id and not message.ephemeral
    fd.assert_no_violations()


async def test_a_deferred_message_is_thinking_until_edited(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    ix = await fd.send_command("hold")
    await ix.wait_for_callback()
    assert ix.original is not None and ix.original.loading and ix.original.flags & MessageFlags.LOADING
    interaction: discord.Interaction = (await seen("hold"))[1]
    sent = await interaction.followup.send("done", wait=True)
    # Discord's compatibility rule: the first followup after a defer edits the "thinking" message.
    assert sent.id == ix.original.id and not ix.original.loading and ix.original.content == "done"
    second = await interaction.followup.send("more", wait=True)
    assert [m.id for m in ix.followups] == [second.id]


async def test_a_click_reaches_the_dynamic_item(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    ix = await fd.send_command("imagine", {"prompt": "a dog"})
    message = await ix.wait_until(lambda: ix.original is not None and not ix.original.loading and ix.original)

    click = await fd.click(message.id, "reroll:42", user_id=DEFAULT_USER_ID)
    assert await seen("reroll") == ("reroll", 42, DEFAULT_USER_ID)
    reply = await click.wait_until(lambda: click.original)
    assert reply.content == "Rerolling job 42" and reply.ephemeral and click.ephemeral_all
    assert click.payload["data"]["component_type"] == 2
    fd.assert_no_violations()


async def test_a_button_opens_a_modal_and_the_submit_is_answered(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    ix = await fd.send_command("imagine", {"prompt": "a dog"})
    message = await ix.wait_until(lambda: ix.original is not None and not ix.original.loading and ix.original)

    click = await fd.click(message.id, "edit-prompt")
    callback = await click.wait_for_callback()
    assert callback["type"] == 9 and click.modal is not None
    assert click.modal["title"] == "Edit the prompt"

    submit = await fd.submit_modal(click.modal["custom_id"], {"prompt": "a wolf", "note": "darker"})
    assert await seen("modal") == ("modal", "a wolf", "darker")
    reply = await submit.wait_until(lambda: submit.original)
    assert reply.content == "New prompt: a wolf"
    # The submit carries the message the modal was opened from, and both component layouts.
    assert submit.payload["message"]["id"] == str(message.id)
    kinds = [c["type"] for c in submit.payload["data"]["components"]]
    assert kinds == [1, 18]
    fd.assert_no_violations()


async def test_a_modal_with_a_select_and_a_file_upload(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    ix = await fd.send_command("upload")
    await ix.wait_for_callback()
    assert ix.modal is not None and ix.original is None
    reference = png_bytes((8, 8), "red")
    submit = await fd.submit_modal(
        ix.modal["custom_id"], {"pick": "character", "files": [FakeFile("ref.png", reference)]}
    )
    assert await seen("upload") == ("upload", ["character"], [reference])
    assert (await submit.wait_until(lambda: submit.original)).ephemeral
    with pytest.raises(ClientCheckError):
        await fd.submit_modal(ix.modal["custom_id"], {"pick": "character"})  # the upload is required
    fd.assert_no_violations()


async def test_the_client_refuses_what_discord_would_refuse(fd: FakeDiscord, bot: ProbeBot) -> None:
    with pytest.raises(ClientCheckError):
        await fd.send_command("imagine", {"prompt": "x", "count": 9})
    with pytest.raises(ClientCheckError):
        await fd.send_command("imagine", {"prompt": "x", "style": "cubism"})
    with pytest.raises(ClientCheckError):
        await fd.send_command("imagine", {"count": 2})
    with pytest.raises(LookupError):
        await fd.send_command("nope")
    # A user install cannot run a guild-install-only command.
    with pytest.raises(ClientCheckError):
        await fd.send_command("imagine", {"prompt": "x"}, user_install=True)


async def test_a_modified_client_can_send_raw_options(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    ix = await fd.send_command(
        "imagine", raw_options=[{"name": "prompt", "type": 3, "value": "x"}, {"name": "count", "type": 4, "value": 99}]
    )
    # discord.py leaves integer ranges to Discord's client: the command sees 99, so bots must check it.
    assert (await seen("imagine"))[2] == 99
    await ix.wait_until(lambda: ix.original is not None and not ix.original.loading)


async def test_user_install_limits_followups_and_channel_access(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    ix = await fd.send_command("echo", {"times": 6}, user_install=True)
    assert ix.payload["authorizing_integration_owners"] == {"1": str(DEFAULT_USER_ID)}
    assert ix.guild_id is not None and ix.guild_id not in {g.id for g in bot.guilds}
    _, number, error = await seen("echo-error")
    assert number == 6 and isinstance(error, discord.HTTPException) and error.code == 40094
    assert len(ix.followups) == 5 and ix.ephemeral_all
    with pytest.raises(discord.Forbidden) as refused:
        await bot.get_partial_messageable(EXTERNAL_CHANNEL_ID).send("hello")
    assert refused.value.code == 50001


async def test_a_command_in_a_dm_with_the_bot(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    ix = await fd.send_command("echo", {"times": 1}, guild_id=None)
    await seen("echo-done")
    assert "user" in ix.payload and "member" not in ix.payload and ix.payload["context"] == 1
    assert [m.content for m in fd.dm_messages(DEFAULT_USER_ID)] == ["starting", "followup 1"]
