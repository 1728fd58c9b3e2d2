"""The sharded gateway: each server's events reach only its shard's connection, as on Discord.

Raw websocket clients show the frames exactly (what a connection is sent, and what it is not); real
`AutoShardedBot`s show that discord.py runs on it as it does against Discord.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord.ext import commands

from fakes.discord import FakeDiscord, FakeGuild
from tests.fakes.discord._probe import TOKEN


def guild_id_on(shard: int, count: int, n: int = 0) -> int:
    """A server id whose events go to `shard` of `count`: Discord's `(guild_id >> 22) % count`."""
    return ((1000 + n) * count + shard) << 22 | 7


class Connection:
    """One gateway connection, as a process running one shard opens it; it keeps every dispatch it gets."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.dispatches: list[dict[str, Any]] = []
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            frame = json.loads(message.data)
            if frame["op"] == 0:
                self.dispatches.append(frame)
        self.closed.set_result(self.ws.close_code or 0)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [frame["d"] for frame in self.dispatches if frame["t"] == name]

    def ids(self, name: str) -> list[int]:
        return [int(data["id"]) for data in self.events(name)]

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


@pytest.fixture
async def connect(fd: FakeDiscord) -> AsyncIterator[Any]:
    """`await connect(shard=[id, count])`: IDENTIFY on a new connection (intents: guilds, messages, DMs)."""
    session = aiohttp.ClientSession()
    opened: list[Connection] = []

    async def open_one(shard: list[Any] | None, *, intents: int = 1 | 1 << 9 | 1 << 12) -> Connection:
        ws = await session.ws_connect(fd.gateway_url)
        hello = await ws.receive_json()
        assert hello["op"] == 10
        identify: dict[str, Any] = {"token": TOKEN, "intents": intents, "properties": {}}
        if shard is not None:
            identify["shard"] = shard
        await ws.send_json({"op": 2, "d": identify})
        connection = Connection(ws)
        opened.append(connection)
        return connection

    yield open_one
    for connection in opened:
        await connection.close()
    await session.close()


async def rest(fd: FakeDiscord, method: str, path: str, body: Any) -> Any:
    """One REST call with the bot's token, as a bot process makes it."""
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as http,
        http.request(method, fd.api_base + path, json=body) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()


async def register_hold(fd: FakeDiscord) -> None:
    command = {"name": "hold", "description": "Hold", "type": 1, "contexts": [0, 1, 2]}
    await rest(fd, "PUT", f"/applications/{fd.application_id}/commands", [command])


async def ready(fd: FakeDiscord, connection: Connection) -> Connection:
    await fd.wait_for(lambda: connection.events("READY"))
    return connection


async def test_each_servers_events_reach_only_its_shards_connection(fd: FakeDiscord, connect: Any) -> None:
    zero = fd.add_guild(guild_id_on(0, 2), name="Shard zero")
    one: FakeGuild = fd.guilds[fd.guild_id]
    assert (one.id >> 22) % 2 == 1  # the default server is on shard 1 of 2
    shard0 = await ready(fd, await connect([0, 2]))
    shard1 = await ready(fd, await connect([1, 2]))

    # READY lists the shard's servers only, names the shard, and GUILD_CREATE follows for each.
    assert shard0.events("READY")[0]["shard"] == [0, 2]
    assert [g["id"] for g in shard0.events("READY")[0]["guilds"]] == [str(zero.id)]
    assert shard0.ids("GUILD_CREATE") == [zero.id]
    assert shard1.ids("GUILD_CREATE") == [one.id]
    assert fd.connected_shards == [(0, 2), (1, 2)]

    # Interactions, new servers, new channels: each to the one shard that holds the server.
    await register_hold(fd)
    in_zero = await fd.send_command("hold", guild_id=zero.id, channel_id=zero.channel_ids[0])
    in_one = await fd.send_command("hold")
    in_dm = await fd.send_command("hold", guild_id=None)
    later = fd.add_guild(guild_id_on(1, 2, n=1), name="Joined later")
    channel = fd.add_channel(zero.id, name="art")
    await fd.wait_for(lambda: later.id in shard1.ids("GUILD_CREATE") and channel.id in shard0.ids("CHANNEL_CREATE"))

    assert shard0.ids("INTERACTION_CREATE") == [in_zero.id, in_dm.id]  # DMs go to shard 0
    assert shard1.ids("INTERACTION_CREATE") == [in_one.id]
    assert (in_zero.shard, in_one.shard, in_dm.shard) == (0, 1, 0)
    assert later.id not in shard0.ids("GUILD_CREATE") and not shard1.events("CHANNEL_CREATE")

    # The record tells the same story, by shard and by connection.
    assert [e.object_id for e in fd.events_received(1, "INTERACTION_CREATE")] == [in_one.id]
    assert {e.connection for e in fd.events_received(0)} == {in_zero.connection} != {in_one.connection}
    for event in fd.gateway_events:
        assert event.guild_id is None or (event.guild_id >> 22) % 2 == event.shard_id, event


async def test_messages_reach_the_shard_of_their_server(fd: FakeDiscord, connect: Any) -> None:
    zero = fd.add_guild(guild_id_on(0, 2), name="Shard zero")
    shard0 = await ready(fd, await connect([0, 2]))
    shard1 = await ready(fd, await connect([1, 2]))
    for channel_id in (zero.channel_ids[0], fd.channel_id):
        await rest(fd, "POST", f"/channels/{channel_id}/messages", {"content": "hi"})
    await fd.wait_for(lambda: shard0.events("MESSAGE_CREATE") and shard1.events("MESSAGE_CREATE"))
    assert [m["channel_id"] for m in shard0.events("MESSAGE_CREATE")] == [str(zero.channel_ids[0])]
    assert [m["channel_id"] for m in shard1.events("MESSAGE_CREATE")] == [str(fd.channel_id)]


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], [0], "0,2", [0, True]])
async def test_an_invalid_shard_is_closed_with_4010(fd: FakeDiscord, connect: Any, shard: Any) -> None:
    connection = await connect(shard)
    assert await asyncio.wait_for(connection.closed, 5) == 4010
    assert not connection.dispatches and not fd.connected


async def test_too_few_shards_for_the_servers_is_closed_with_4011() -> None:
    async with FakeDiscord(token=TOKEN, max_guilds_per_shard=1) as fd:
        fd.add_guild(guild_id_on(0, 2))
        async with aiohttp.ClientSession() as session:
            for shard, expected in ((None, 4011), ([0, 1], 4011), ([0, 2], None)):
                async with session.ws_connect(fd.gateway_url) as ws:
                    await ws.receive_json()
                    d: dict[str, Any] = {"token": TOKEN, "intents": 1, "properties": {}}
                    await ws.send_json({"op": 2, "d": d | ({"shard": shard} if shard else {})})
                    frame = await ws.receive()
                    if expected is None:
                        assert json.loads(frame.data)["t"] == "READY"
                    else:
                        assert (frame.type, ws.close_code) == (aiohttp.WSMsgType.CLOSE, expected)


async def test_gateway_bot_recommends_the_configured_count_and_counts_session_starts(
    fd: FakeDiscord, connect: Any
) -> None:
    fd.recommended_shards = 3
    before = await rest(fd, "GET", "/gateway/bot", None)
    await ready(fd, await connect([0, 3]))
    await ready(fd, await connect([1, 3]))
    after = await rest(fd, "GET", "/gateway/bot", None)
    assert before["url"] == fd.gateway_url and before["shards"] == after["shards"] == 3
    assert before["session_start_limit"]["remaining"] - after["session_start_limit"]["remaining"] == 2
    assert after["session_start_limit"]["max_concurrency"] == 1


async def test_discord_py_without_a_shard_count_runs_the_recommended_shards(fd: FakeDiscord) -> None:
    fd.recommended_shards = 2
    zero = fd.add_guild(guild_id_on(0, 2), name="Shard zero")
    bot = commands.AutoShardedBot(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)

    async def no_wait(shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s between IDENTIFYs (Discord's limit with max_concurrency 1); the fake does not."""

    bot.before_identify_hook = no_wait  # type: ignore[method-assign]
    await bot.login(TOKEN)
    task = asyncio.create_task(bot.connect())
    try:
        await asyncio.wait_for(bot.wait_until_ready(), timeout=10)
        assert bot.shard_count == 2 and sorted(bot.shards) == [0, 1]
        assert fd.connected_shards == [(0, 2), (1, 2)]
        assert bot.get_guild(zero.id).shard_id == 0 and bot.get_guild(fd.guild_id).shard_id == 1
    finally:
        await bot.close()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_dropped_shard_resumes_while_the_other_stays(fd: FakeDiscord, connect: Any) -> None:
    shard0 = await ready(fd, await connect([0, 2]))
    await ready(fd, await connect([1, 2]))
    assert await fd.drop_connection(1) == 1
    await fd.wait_for(lambda: fd.connected_shards == [(0, 2)])
    assert not shard0.closed.done()
    fd.gateway_accepting = False
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(fd.gateway_url)
    assert refused.value.status == 503
