"""The fake's own answers match Discord's OpenAPI response schemas, and mentions ping whom Discord would."""

from __future__ import annotations

import io

import discord

from fakes.discord import DEFAULT_USER_ID, MODERATOR_USER_ID, FakeDiscord, FakeFile, MessageFlags
from tests.fakes.discord._probe import ProbeBot, png_bytes


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


class Gallery(discord.ui.LayoutView):
    """Components v2: a container with text, a thumbnail, a gallery and a file, and a row of buttons."""

    box = discord.ui.Container(
        discord.ui.TextDisplay("Your images"),
        discord.ui.Separator(),
        discord.ui.Section(discord.ui.TextDisplay("first"), accessory=discord.ui.Thumbnail("attachment://a.png")),
        discord.ui.MediaGallery(discord.MediaGalleryItem("attachment://b.png", description="second")),
        discord.ui.File("attachment://notes.txt"),
        accent_colour=0x2F80ED,
    )
    row = discord.ui.ActionRow(
        discord.ui.Button(label="Again", emoji="🔁", custom_id="again"),
        discord.ui.Button(label="Docs", url="https://docs.scenario.com"),
    )


class Pickers(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)
        options = [discord.SelectOption(label="V4", value="v4", emoji="🎨"), discord.SelectOption(label="C", value="c")]
        self.add_item(discord.ui.Select(custom_id="model", options=options, placeholder="Model"))
        self.add_item(discord.ui.UserSelect(custom_id="who"))


async def test_rich_messages_are_stored_and_returned_as_discord_does(fd: FakeDiscord, bot: ProbeBot) -> None:
    channel = bot.get_channel(fd.channel_id)
    files = [
        discord.File(io.BytesIO(png_bytes((20, 10))), "a.png"),
        discord.File(io.BytesIO(png_bytes()), "b.png"),
        discord.File(io.BytesIO(b"notes"), "notes.txt"),
    ]
    v2 = await channel.send(view=Gallery(), files=files)
    stored = fd.messages[v2.id]
    assert stored.flags & MessageFlags.IS_COMPONENTS_V2 and sorted(stored.custom_ids()) == ["again"]
    [container, row] = v2.components
    assert isinstance(container, discord.Container) and isinstance(row, discord.ActionRow)
    thumbnail = container.children[2].accessory
    assert thumbnail.media.url.startswith(fd.base_url) and (thumbnail.media.width, thumbnail.media.height) == (20, 10)

    embed = discord.Embed(title="Result").set_image(url="attachment://a.png")
    classic = await channel.send(embed=embed, view=Pickers(), file=discord.File(io.BytesIO(png_bytes()), "a.png"))
    assert classic.embeds[0].image.url.startswith(fd.base_url)
    picked = await fd.click(classic.id, "model", values=["c"])
    assert picked.payload["data"] == {
        "custom_id": "model",
        "component_type": 3,
        "values": ["c"],
        "id": picked.payload["data"]["id"],
    }

    assert fd.openapi is not None
    for request in fd.requests:
        if request.response is not None and request.status < 300:
            problems = fd.openapi.validate_response(request.method, request.path, request.status, request.response)
            assert not problems, [p.describe() for p in problems]
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
