"""Discord's failure modes, as discord.py surfaces them: expired tokens, 413, 429, 403, spec violations."""

from __future__ import annotations

import io
import time

import discord
import pytest

from fakes.discord import DEFAULT_USER_ID, FakeDiscord
from tests.fakes.discord._probe import ProbeBot


async def held_interaction(fd: FakeDiscord, seen, **options) -> tuple[discord.Interaction, object]:
    """Run /hold (the bot defers and hands the interaction to the test)."""
    ix = await fd.send_command("hold", **options)
    await ix.wait_for_callback()
    return (await seen("hold"))[1], ix


async def test_channel_message_nonce_is_deduplicated(fd: FakeDiscord, bot: ProbeBot) -> None:
    channel = bot.get_channel(fd.channel_id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("result ready", nonce="job-17")
    again = await channel.send("result ready", nonce="job-17")
    assert again.id == first.id
    assert [m.content for m in fd.channel_messages()] == ["result ready"]
    sent = [r.json for r in fd.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert sent[0]["nonce"] == "job-17" and sent[0]["enforce_nonce"] is True
    other = await channel.send("result ready", nonce="job-18")
    assert other.id != first.id


async def test_an_expired_token_fails_with_50027(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    interaction, ix = await held_interaction(fd, seen)
    fd.expire_token(ix.id)
    with pytest.raises(discord.HTTPException) as failed:
        await interaction.edit_original_response(content="too late")
    assert (failed.value.status, failed.value.code) == (401, 50027)
    with pytest.raises(discord.HTTPException) as followup:
        await interaction.followup.send("too late")
    assert followup.value.code == 50027


async def test_tokens_expire_fifteen_minutes_after_the_interaction(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    # Made 14 min 50 s ago: discord.py still acknowledges it, and its own clock agrees on the expiry.
    interaction, ix = await held_interaction(fd, seen, age_seconds=14 * 60 + 50)
    assert not interaction.is_expired()
    assert abs(interaction.expires_at.timestamp() - (ix.created_at + 900)) < 0.01
    fd.clock = lambda: time.time() + 15
    with pytest.raises(discord.HTTPException) as failed:
        await interaction.edit_original_response(content="too late")
    assert failed.value.code == 50027


async def test_an_acknowledgement_after_three_seconds_is_unknown(fd: FakeDiscord, bot: ProbeBot) -> None:
    fd.ack_deadline = 0.0
    ix = await fd.send_command("hold")
    await fd.wait_for(lambda: any(r.path.endswith("/callback") for r in fd.requests))
    [refused] = [r for r in fd.requests if r.path.endswith("/callback")]
    assert (refused.status, refused.response["code"]) == (404, 10062)
    assert not ix.callbacks


async def test_a_second_acknowledgement_is_refused(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    interaction, ix = await held_interaction(fd, seen)
    interaction.response._response_type = None  # pretend discord.py forgot it answered
    with pytest.raises(discord.HTTPException) as failed:
        await interaction.response.defer()
    assert failed.value.code == 40060
    assert len(ix.callbacks) == 1


async def test_an_oversize_file_is_refused_with_413(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    interaction, ix = await held_interaction(fd, seen, attachment_size_limit=1000)
    assert interaction.filesize_limit == 1000
    with pytest.raises(discord.HTTPException) as failed:
        await interaction.edit_original_response(attachments=[discord.File(io.BytesIO(b"x" * 1001), "big.png")])
    assert (failed.value.status, failed.value.code) == (413, 40005)
    await interaction.edit_original_response(attachments=[discord.File(io.BytesIO(b"x" * 1000), "fits.png")])
    assert ix.original.attachments[0].size == 1000


async def test_the_server_upload_limit_applies_to_channel_messages(bots) -> None:
    fd = bots.fd
    guild = fd.guilds[fd.guild_id]
    guild.filesize_limit = 2000
    bot = await bots.start()
    channel = bot.get_channel(fd.channel_id)
    with pytest.raises(discord.HTTPException) as failed:
        await channel.send(file=discord.File(io.BytesIO(b"x" * 2001), "big.bin"))
    assert failed.value.code == 40005
    files = [discord.File(io.BytesIO(b"x"), f"{n}.txt") for n in range(10)]
    message = await channel.send(files=files)
    assert len(message.attachments) == 10


async def test_an_injected_429_is_retried_by_discord_py(fd: FakeDiscord, bot: ProbeBot) -> None:
    fault = fd.inject("POST", r"^/channels/\d+/messages$", 429, retry_after=0.05)
    message = await bot.get_channel(fd.channel_id).send("after a rate limit")
    assert fault.hits == 1 and fd.messages[message.id].content == "after a rate limit"
    statuses = [r.status for r in fd.requests if r.path.endswith("/messages")]
    assert statuses == [429, 200]
    limited = next(r for r in fd.requests if r.status == 429)
    assert limited.response == {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}


async def test_injected_errors_surface_as_http_exceptions(fd: FakeDiscord, bot: ProbeBot) -> None:
    fd.inject("POST", r"/messages$", 403, json={"code": 50013, "message": "Missing Permissions"}, times=2)
    channel = bot.get_channel(fd.channel_id)
    for _ in range(2):
        with pytest.raises(discord.Forbidden):
            await channel.send("x")
    await channel.send("now it works")


async def test_forbidden_channels_and_dms(fd: FakeDiscord, bot: ProbeBot) -> None:
    fd.forbid_channel(fd.channel_id)
    with pytest.raises(discord.Forbidden) as channel_refused:
        await bot.get_channel(fd.channel_id).send("hi")
    assert channel_refused.value.code == 50013

    user = await bot.fetch_user(DEFAULT_USER_ID)
    await user.send("a DM")
    assert [m.content for m in fd.dm_messages(DEFAULT_USER_ID)] == ["a DM"]
    fd.forbid_dms(DEFAULT_USER_ID)
    with pytest.raises(discord.Forbidden) as dm_refused:
        await user.send("another DM")
    assert dm_refused.value.code == 50007


async def test_a_spec_violation_is_caught(fd: FakeDiscord, bot: ProbeBot) -> None:
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=fd.channel_id)
    with pytest.raises(discord.HTTPException) as failed:
        await bot.http.request(route, json={"content": 5, "embeds": [{"title": "x" * 300}]})
    assert (failed.value.status, failed.value.code) == (400, 50035)
    [violation] = fd.violations
    assert violation.kind == "schema" and violation.method == "POST"
    assert "content" in violation.message and "embeds/0/title" in violation.message
    assert fd.requests[-1].response["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_BAD_TYPE"
    assert not fd.channel_messages()
    with pytest.raises(AssertionError):
        fd.assert_no_violations()


async def test_business_rules_beyond_the_schema(fd: FakeDiscord, bot: ProbeBot) -> None:
    channel = bot.get_channel(fd.channel_id)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)  # the spec allows 4000 (Nitro users); bots get 2000
    assert too_long.value.code == 50035
    embeds = [discord.Embed(description="y" * 1000) for _ in range(7)]
    with pytest.raises(discord.HTTPException) as too_big:
        await channel.send(embeds=embeds)
    assert too_big.value.code == 50035
    with pytest.raises(discord.HTTPException) as empty:
        await bot.http.request(discord.http.Route("POST", "/channels/{c}/messages", c=fd.channel_id), json={})
    assert empty.value.code == 50006
    assert not fd.violations


async def test_unknown_routes_are_404_and_recorded(fd: FakeDiscord, bot: ProbeBot) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/guilds/{g}/audit-logs", g=fd.guild_id))
    [violation] = fd.violations
    assert violation.kind == "unhandled_route" and "does not serve" in violation.message
    assert fd.requests[-1].response == {"message": "404: Not Found", "code": 0}


async def test_a_wrong_bot_token_cannot_log_in(fd: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()


async def test_expired_cdn_links_are_gone(fd: FakeDiscord, bot: ProbeBot) -> None:
    message = await bot.get_channel(fd.channel_id).send(file=discord.File(io.BytesIO(b"exact"), "a.txt"))
    [attachment] = message.attachments
    assert await attachment.read() == b"exact"
    fd.clock = lambda: time.time() + 25 * 3600
    with pytest.raises(discord.NotFound):
        await attachment.read()
