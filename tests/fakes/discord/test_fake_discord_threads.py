"""Threads and message events in the fake Discord, driven by a real discord.py bot: opening a thread (in a
channel or from a message), posting in it, archiving it, THREAD_CREATE, and MESSAGE_CREATE with and without
the Message Content intent. Every request is checked against Discord's OpenAPI description."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest
from discord.ext import commands

from fakes.discord import FakeDiscord, FakeFile
from tests.fakes.discord._probe import TOKEN, png_bytes


class Listener(commands.Bot):
    """A bot that records the thread and message events it receives."""

    def __init__(self, *, message_content: bool) -> None:
        intents = discord.Intents(guilds=True, guild_messages=True, message_content=message_content)
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        self.events: list[tuple[str, Any]] = []

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.events.append(("thread", thread))

    async def on_message(self, message: discord.Message) -> None:
        self.events.append(("message", message))


@pytest.fixture
async def start(fd: FakeDiscord) -> AsyncIterator[Callable[..., Any]]:
    running: list[tuple[Listener, asyncio.Task[None]]] = []

    async def start(*, message_content: bool = True) -> Listener:
        bot = Listener(message_content=message_content)
        await bot.login(TOKEN)
        task = asyncio.create_task(bot.connect(reconnect=False))
        running.append((bot, task))
        await asyncio.wait_for(bot.wait_until_ready(), timeout=10)
        return bot

    yield start
    for bot, task in running:
        await bot.close()
        await asyncio.gather(task, return_exceptions=True)
    fd.assert_no_violations()


def messages_seen(bot: Listener, channel_id: int) -> list[discord.Message]:
    return [event for kind, event in bot.events if kind == "message" and event.channel.id == channel_id]


async def test_a_thread_is_opened_posted_in_and_archived(fd: FakeDiscord, start: Callable[..., Any]) -> None:
    bot: Listener = await start()
    channel = bot.get_channel(fd.channel_id)
    assert isinstance(channel, discord.TextChannel)

    thread = await channel.create_thread(name="Ideas", type=discord.ChannelType.public_thread)
    await fd.wait_for(lambda: any(kind == "thread" for kind, _ in bot.events))
    [fake] = fd.threads()
    assert (fake.id, fake.type, fake.name, fake.parent_id) == (thread.id, 11, "Ideas", fd.channel_id)
    assert bot.get_channel(thread.id) is not None  # THREAD_CREATE put it in the bot's cache

    sent = await thread.send("hello thread")
    assert [m.id for m in fd.channel_messages(thread.id)] == [sent.id]

    await thread.edit(archived=True)
    assert fake.archived
    await fd.post_message(thread.id, "still here?")  # a user's message unarchives a thread that is not locked
    assert not fake.archived

    starter = await channel.send("start a thread from me")
    from_message = await starter.create_thread(name="From a message")
    assert from_message.id == starter.id and fd.channels[starter.id].parent_id == fd.channel_id
    assert [t.name for t in fd.threads()] == ["Ideas", "From a message"]


async def test_bad_thread_requests_are_refused_as_discord_does(fd: FakeDiscord, start: Callable[..., Any]) -> None:
    bot: Listener = await start()
    thread = await bot.get_channel(fd.channel_id).create_thread(name="x", type=discord.ChannelType.public_thread)  # type: ignore[union-attr]
    with pytest.raises(discord.HTTPException) as bad_name:
        await bot.http.start_thread_without_message(fd.channel_id, name="", auto_archive_duration=60, type=11)
    assert bad_name.value.code == 50035
    # Discord's OpenAPI description refuses it too: the fake records it, as for any request the bot gets wrong.
    [violation] = fd.violations
    assert violation.path.endswith("/threads") and "name" in violation.message
    fd.violations.clear()
    with pytest.raises(discord.HTTPException) as in_a_thread:  # no thread inside a thread
        await bot.http.start_thread_without_message(thread.id, name="y", auto_archive_duration=60, type=11)
    assert in_a_thread.value.status == 400
    with pytest.raises(discord.Forbidden):  # a text channel is not the bot's to edit (no Manage Channels)
        await bot.http.edit_channel(fd.channel_id, name="renamed")


async def test_message_content_reaches_only_bots_with_the_intent_or_a_mention(
    fd: FakeDiscord, start: Callable[..., Any]
) -> None:
    with_intent: Listener = await start(message_content=True)
    without: Listener = await start(message_content=False)
    picture = png_bytes((20, 20), "red")

    await fd.post_message(fd.channel_id, "a plain idea", attachments=[FakeFile("ref.png", picture)])
    await fd.post_message(fd.channel_id, "a mention", mention_bot=True)
    for bot in (with_intent, without):
        await fd.wait_for(lambda bot=bot: len(messages_seen(bot, fd.channel_id)) == 2)

    plain, mention = messages_seen(with_intent, fd.channel_id)
    assert plain.content == "a plain idea" and await plain.attachments[0].read() == picture
    assert mention.content == f"<@{fd.bot_user_id}> a mention"
    hidden, shown = messages_seen(without, fd.channel_id)
    assert hidden.content == "" and hidden.attachments == []  # Discord hides it without the intent
    assert shown.content == f"<@{fd.bot_user_id}> a mention" and shown.mentions[0].id == fd.bot_user_id
