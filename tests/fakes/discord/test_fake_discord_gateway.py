"""The gateway: restarts against the same fake, RESUME after op 7, message events, shards."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from fakes.discord import DEFAULT_USER_ID, FakeDiscord
from tests.fakes.discord._probe import TOKEN, Bots


async def test_a_restarted_bot_gets_ready_again_and_old_buttons_still_work(fd: FakeDiscord, bots: Bots) -> None:
    first = await bots.start()
    ix = await fd.send_command("imagine", {"prompt": "a lighthouse"})
    message = await ix.wait_until(lambda: ix.original is not None and not ix.original.loading and ix.original)
    await bots.stop(first)
    await fd.wait_for(lambda: not fd.connected)

    second = await bots.start()
    assert fd.ready_count == 2
    click = await fd.click(message.id, "reroll:42")
    await fd.wait_for(lambda: ("reroll", 42, DEFAULT_USER_ID) in second.seen)
    assert not first.seen or all(e[0] != "reroll" for e in first.seen)
    reply = await click.wait_until(lambda: click.original)
    assert reply.content == "Rerolling job 42"
    # The fake kept its state: the commands synced by the first bot, the message, the interaction.
    assert ix.id in fd.interactions and fd.messages[message.id] is message


async def test_op7_reconnect_resumes_the_session(fd: FakeDiscord, bots: Bots) -> None:
    bot = await bots.start()
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed)
    await fd.request_reconnect()
    await asyncio.wait_for(resumed.wait(), timeout=10)
    assert fd.resume_count == 1 and fd.ready_count == 1
    ix = await fd.send_command("hold")
    await ix.wait_for_callback()


async def test_the_bot_sees_its_own_messages_as_gateway_events(fd: FakeDiscord, bots: Bots) -> None:
    bot = await bots.start()
    received: list[discord.Message] = []
    edited: list[discord.Message] = []

    async def on_message(message: discord.Message) -> None:
        received.append(message)

    async def on_message_edit(before: discord.Message, after: discord.Message) -> None:
        edited.append(after)

    bot.add_listener(on_message)
    bot.add_listener(on_message_edit)
    sent = await bot.get_channel(fd.channel_id).send(f"hello <@{DEFAULT_USER_ID}>")
    await fd.wait_for(lambda: received)
    assert received[0].id == sent.id and received[0].author.id == fd.bot_user_id
    assert [u.id for u in received[0].mentions] == [DEFAULT_USER_ID]
    await sent.edit(content="edited")
    await fd.wait_for(lambda: edited)
    assert edited[0].content == "edited"


async def test_two_processes_each_running_one_shard(fd: FakeDiscord) -> None:
    """Like a scaled deployment: AutoShardedBot(shard_count=2, shard_ids=[n]) in two processes."""
    seen: dict[int, list[int]] = {0: [], 1: []}
    bots: list[commands.AutoShardedBot] = []
    tasks = []
    for shard in (0, 1):
        bot = commands.AutoShardedBot(
            command_prefix="!",
            intents=discord.Intents.default(),
            shard_count=2,
            shard_ids=[shard],
            guild_ready_timeout=0.05,
        )

        async def on_interaction(interaction: discord.Interaction, shard: int = shard) -> None:
            seen[shard].append(interaction.id)

        @bot.tree.command(description="Acknowledge")
        @app_commands.allowed_contexts(guilds=True, dms=True)
        async def hold(interaction: discord.Interaction) -> None:
            await interaction.response.defer()

        bot.add_listener(on_interaction)
        await bot.login(TOKEN)
        bots.append(bot)
        tasks.append(asyncio.create_task(bot.connect()))
        await asyncio.wait_for(bot.wait_until_ready(), timeout=10)
    try:
        guild_shard = (fd.guild_id >> 22) % 2
        assert [g.id for g in bots[guild_shard].guilds] == [fd.guild_id]
        assert list(bots[1 - guild_shard].guilds) == []
        await bots[0].tree.sync()
        in_guild = await fd.send_command("hold")
        in_dm = await fd.send_command("hold", guild_id=None)
        await fd.wait_for(lambda: in_guild.id in seen[guild_shard] and in_dm.id in seen[0])
        assert in_guild.id not in seen[1 - guild_shard]
        await in_guild.wait_for_callback()
        await in_dm.wait_for_callback()
    finally:
        for bot in bots:
            await bot.close()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_server_added_later_arrives_as_guild_create(fd: FakeDiscord, bots: Bots) -> None:
    bot = await bots.start()
    guild = fd.add_guild(name="Boosted", filesize_limit=50 * 1024 * 1024)
    await fd.wait_for(lambda: bot.get_guild(guild.id))
    assert bot.get_guild(guild.id).filesize_limit == 50 * 1024 * 1024
    channel = fd.add_channel(guild.id, name="art")
    await fd.wait_for(lambda: bot.get_channel(channel.id))
    # Guild commands sync there, and the interaction's upload limit follows the server's boost.
    bot.tree.copy_global_to(guild=discord.Object(guild.id))
    await bot.tree.sync(guild=discord.Object(guild.id))
    assert [c["name"] for c in fd.guild_commands[guild.id]][:1] == ["imagine"]
    ix = await fd.send_command("hold", guild_id=guild.id, channel_id=channel.id)
    assert ix.payload["data"]["guild_id"] == str(guild.id)
    assert ix.attachment_size_limit == 50 * 1024 * 1024
    await ix.wait_for_callback()
