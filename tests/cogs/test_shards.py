"""`SHARD_COUNT` and `SHARD_IDS` through real discord.py: each bot hears only the servers of its own shards.

The default fake server is on shard 1 of 2 (`(guild_id >> 22) % 2`); each test adds one on shard 0.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.app import ScenarioBot
from bot.bootstrap import open_bot
from fakes.discord import FakeDiscord, FakeGuild
from tests.cogs.conftest import World
from tests.scrape import get

TWO_SHARDS = {"shard_count": 2}


def add_guild_on_shard_zero(fd: FakeDiscord) -> FakeGuild:
    guild = fd.add_guild(((1000 * 2) << 22) | 5, name="On shard zero")
    assert (guild.id >> 22) % 2 == 0 and (fd.guild_id >> 22) % 2 == 1
    return guild


def heard(bot: ScenarioBot) -> list[int]:
    """The ids of the interactions this bot received, in order."""
    ids: list[int] = []

    async def on_interaction(interaction) -> None:
        ids.append(interaction.id)

    bot.add_listener(on_interaction)
    return ids


async def no_identify_wait(shard_id: int | None, *, initial: bool = False) -> None:
    """discord.py waits 5 s before each IDENTIFY after a process's first (Discord's pace); the fake needs none."""


@contextlib.asynccontextmanager
async def another_bot(world: World, **settings: object) -> AsyncIterator[ScenarioBot]:
    """A second bot on the same fakes, as a second process would be, with its own settings."""
    async with open_bot(
        world.settings.model_copy(update=settings), clock=world.clock.clock(), guild_ready_timeout=0.05
    ) as bot:
        await bot.login("fake-token")
        connection = asyncio.create_task(bot.connect(reconnect=False))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), timeout=10)
            yield bot
        finally:
            await bot.close()
            await asyncio.gather(connection, return_exceptions=True)


async def test_a_bot_running_shard_0_of_2_hears_only_its_servers(make_world) -> None:
    world: World = await make_world(settings_overrides={**TWO_SHARDS, "shard_ids": (0,)})
    fd, bot = world.discord, world.bot
    ids = heard(bot)
    zero = add_guild_on_shard_zero(fd)
    await world.wait_for(lambda: bot.get_guild(zero.id))

    assert fd.connected_shards == [(0, 2)]
    assert bot.shard_count == 2 and list(bot.shards) == [0]
    assert [g.id for g in bot.guilds] == [zero.id]  # the default server lives on shard 1: not this bot's

    interaction = await fd.send_command("imagine", {"prompt": "a sharded lighthouse"}, guild_id=zero.id)
    message = await world.result_of(interaction)
    assert message.channel_id == zero.channel_ids[0] and len(message.attachments) == 1
    assert interaction.shard == 0 and ids == [interaction.id]

    # Nobody runs shard 1, so Discord has nowhere to send the default server's commands: not to this bot.
    with pytest.raises(RuntimeError, match="shard of that server"):
        await fd.send_command("imagine", {"prompt": "not for shard 0"})
    assert ids == [interaction.id] and len(world.generate_calls()) == 1


async def test_two_bots_on_shards_0_and_1_each_answer_the_servers_of_their_shard(postgres_url: str, make_world) -> None:
    # postgres_url first: its database is dropped after the bots have stopped (fixtures end in reverse order).
    """Two processes' worth of bots on one PostgreSQL, as in docker-compose.yml."""
    world: World = await make_world(settings_overrides={**TWO_SHARDS, "shard_ids": (1,), "database_url": postgres_url})
    fd, one = world.discord, world.bot
    zero_guild = add_guild_on_shard_zero(fd)
    async with another_bot(world, shard_ids=(0,)) as zero:
        heard_by = {0: heard(zero), 1: heard(one)}
        assert fd.connected_shards == [(0, 2), (1, 2)]
        assert [g.id for g in zero.guilds] == [zero_guild.id] and [g.id for g in one.guilds] == [fd.guild_id]

        in_zero = await fd.send_command("imagine", {"prompt": "for shard zero"}, guild_id=zero_guild.id)
        in_one = await fd.send_command("imagine", {"prompt": "for shard one"}, user_id=4243)
        in_dm = await fd.send_command("jobs", guild_id=None)  # DMs: shard 0
        for interaction in (in_zero, in_one):
            message = await world.result_of(interaction)
            assert len(message.attachments) == 1 and message.channel_id == interaction.channel_id
        await world.wait_for(lambda: in_dm.acknowledged)

        assert heard_by == {0: [in_zero.id, in_dm.id], 1: [in_one.id]}
        assert (in_zero.shard, in_one.shard, in_dm.shard) == (0, 1, 0)
        assert in_zero.connection != in_one.connection
        assert sorted(call.body["prompt"] for call in world.generate_calls()) == ["for shard one", "for shard zero"]


async def test_ready_only_while_every_shard_of_this_process_is_connected(make_world) -> None:
    """One process running both shards (SHARD_COUNT=2, no SHARD_IDS): one shard down means not ready."""
    world: World = await make_world()
    fd = world.discord
    await world.bot.close()  # the world's own bot, unsharded, makes way for one with two shards
    await fd.wait_for(lambda: not fd.connected)
    async with open_bot(
        world.settings.model_copy(update={**TWO_SHARDS, "metrics_port": 0}),
        clock=world.clock.clock(),
        guild_ready_timeout=0.05,
    ) as bot:
        bot.before_identify_hook = no_identify_wait  # type: ignore[method-assign]
        assert bot.health is not None
        readyz = f"{bot.health.url}/readyz"
        await bot.login("fake-token")
        connection = asyncio.create_task(bot.connect(reconnect=True))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), timeout=10)
            assert fd.connected_shards == [(0, 2), (1, 2)] and sorted(bot.shards) == [0, 1]
            assert (await get(readyz))[:2] == (200, "ready\n")

            fd.gateway_accepting = False  # shard 1 drops and cannot come back for now; shard 0 stays
            await fd.drop_connection(1)
            await world.wait_for(lambda: fd.connected_shards == [(0, 2)] and bot.shards[1].is_closed())
            assert (await get(readyz))[:2] == (503, "gateway not connected\n")

            fd.gateway_accepting = True
            await world.wait_for(lambda: len(fd.connected_shards) == 2 and not bot.shards[1].is_closed(), 30)
            assert (await get(readyz))[:2] == (200, "ready\n")
        finally:
            await bot.close()
            await asyncio.gather(connection, return_exceptions=True)
