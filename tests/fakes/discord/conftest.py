"""Fixtures: the fake Discord on 127.0.0.1 with discord.py pointed at it, and real bots (see `_probe.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest
import yarl

from fakes.discord import FakeDiscord
from tests.fakes.discord._probe import TOKEN, Bots, ProbeBot


@pytest.fixture
async def fd() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(token=TOKEN)
    await fake.start()
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield fake
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway
        await fake.stop()


@pytest.fixture
async def bots(fd: FakeDiscord) -> AsyncIterator[Bots]:
    manager = Bots(fd)
    try:
        yield manager
    finally:
        for bot, _ in list(manager.running):
            await manager.stop(bot)


@pytest.fixture
async def bot(bots: Bots) -> ProbeBot:
    return await bots.start()


@pytest.fixture
def seen(fd: FakeDiscord, bot: ProbeBot) -> Callable[[str], Awaitable[tuple[Any, ...]]]:
    """Wait until the bot has recorded an event of that kind, and return the first one."""

    async def wait(kind: str) -> tuple[Any, ...]:
        return await fd.wait_for(lambda: next((e for e in bot.seen if e[0] == kind), None), timeout=5)

    return wait
