"""Fixtures: a FakeScenario on loopback sharing a FakeClock with the client, so jobs poll instantly.

`sent` lists every request the client's session started (seen from the client, so it counts attempts that
never reached a server too); `stall` makes `delay` faults hold their request until the test ends, so a
timeout is provoked without sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.scenario import ScenarioClient
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario

API_KEY = "key-K3YzAbCdEfGh"
API_SECRET = "secret-S3cr3tXyZw0987"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def fake(clock: FakeClock) -> AsyncIterator[FakeScenario]:
    # The fake's own `sleep` (used by `delay` faults) stays real, so timeouts can be provoked.
    scenario = FakeScenario(api_key=API_KEY, api_secret=API_SECRET, clock=clock, job_duration=10.0)
    await scenario.start()
    yield scenario
    await scenario.stop()


@pytest.fixture
async def stall(fake: FakeScenario) -> AsyncIterator[asyncio.Event]:
    """Hold `delay` faults until the returned event is set (at the latest when the test ends)."""
    released = asyncio.Event()

    async def hold(_seconds: float) -> None:
        await released.wait()

    fake.sleep = hold
    yield released
    released.set()  # before the fake stops, so its held handlers can finish


@pytest.fixture
def sent() -> list[tuple[str, str]]:
    return []


@pytest.fixture
async def session(sent: list[tuple[str, str]]) -> AsyncIterator[aiohttp.ClientSession]:
    async def on_request_start(_: object, __: object, params: aiohttp.TraceRequestStartParams) -> None:
        sent.append((params.method, params.url.path))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as client_session:
        yield client_session


@pytest.fixture
def client(fake: FakeScenario, session: aiohttp.ClientSession, clock: FakeClock) -> ScenarioClient:
    assert fake.base_url is not None
    return ScenarioClient(session, API_KEY, API_SECRET, fake.base_url, sleep=clock.sleep, clock=clock)
