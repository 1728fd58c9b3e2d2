"""Fixtures: a FakeScenario on loopback sharing a FakeClock with the client, so jobs poll instantly."""

from __future__ import annotations

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
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(fake: FakeScenario, session: aiohttp.ClientSession, clock: FakeClock) -> ScenarioClient:
    assert fake.base_url is not None
    return ScenarioClient(session, API_KEY, API_SECRET, fake.base_url, sleep=clock.sleep, clock=clock)
