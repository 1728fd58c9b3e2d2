"""The fake's own answers match Discord's OpenAPI response schemas, and mentions ping whom Discord would."""

from __future__ import annotations

import io

import discord

from bot.fakes.discord import DEFAULT_USER_ID, MODERATOR_USER_ID, FakeDiscord, FakeFile
from tests.bot.fakes.discord.conftest import ProbeBot, png_bytes


async def test_every_response_in_a_session_matches_the_spec(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    ix = await fd.send_command("imagine", {"prompt": "a fox"}, attachments={"image": FakeFile("a.png", png_bytes())})
    message = await ix.wait_until(lambda: ix.original is not None and not ix.original.loading and ix.original)
    click = await fd.click(message.id, "reroll:42")
    await click.wait_until(lambda: click.original)
    modal_click = await fd.click(message.id, "edit-prompt")
    await modal_click.wait_for_callback()
    submit = await fd.submit_modal(modal_click.modal["custom_id"], {"prompt": "a wolf"})
    await submit.wait_until(lambda: submit.original)
    echo = await fd.send_command("echo", {"times": 2})
    await seen("echo-done")
    channel = bot.get_channel(fd.channel_id)
    sent = await channel.send("hi", file=discord.File(io.BytesIO(png_bytes()), "p.png"), nonce="n1")
    await sent.edit(content="edited")
    await channel.fetch_message(sent.id)
    user = await bot.fetch_user(DEFAULT_USER_ID)
    await user.send("dm")
    await bot.fetch_channel(fd.channel_id)
    await bot.fetch_guild(fd.guild_id)
    await bot.application_info()
    await bot.http.get_bot_gateway()
    await bot.tree.fetch_commands()
    await sent.delete()
    assert echo.followups

    assert fd.openapi is not None
    checked = 0
    for request in fd.requests:
        assert 200 <= request.status < 300, request
        if request.response is None:
            continue
        problems = fd.openapi.validate_response(request.method, request.path, request.status, request.response)
        assert not problems, (request.method, request.path, [p.describe() for p in problems])
        checked += 1
    assert checked >= 15
    fd.assert_no_violations()


async def test_everyone_pings_the_server_unless_allowed_mentions_say_otherwise(fd: FakeDiscord, bot: ProbeBot) -> None:
    channel = bot.get_channel(fd.channel_id)
    loud = await channel.send("@everyone look", allowed_mentions=discord.AllowedMentions.all())
    assert fd.messages[loud.id].mention_everyone
    assert DEFAULT_USER_ID in fd.messages[loud.id].mentions and MODERATOR_USER_ID in fd.messages[loud.id].mentions

    quiet = await channel.send(
        f"@everyone look at <@{DEFAULT_USER_ID}>", allowed_mentions=discord.AllowedMentions.none()
    )
    assert fd.messages[quiet.id].mentions == [] and not fd.messages[quiet.id].mention_everyone

    only_user = await channel.send(
        f"@here <@{DEFAULT_USER_ID}> <@{MODERATOR_USER_ID}>",
        allowed_mentions=discord.AllowedMentions(everyone=False, users=[discord.Object(DEFAULT_USER_ID)]),
    )
    assert fd.messages[only_user.id].mentions == [DEFAULT_USER_ID]

    # With no allowed_mentions at all, everything in the content pings.
    raw = await bot.http.request(
        discord.http.Route("POST", "/channels/{c}/messages", c=fd.channel_id), json={"content": "@everyone"}
    )
    assert fd.messages[int(raw["id"])].mention_everyone


async def test_ephemeral_and_silent_messages_ping_no_one(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    channel = bot.get_channel(fd.channel_id)
    silent = await channel.send(f"<@{DEFAULT_USER_ID}>", silent=True)
    assert fd.messages[silent.id].mentions == []
    ix = await fd.send_command("echo", {"times": 0})
    await seen("echo-done")
    assert ix.original is not None and ix.original.ephemeral and ix.original.mentions == []
