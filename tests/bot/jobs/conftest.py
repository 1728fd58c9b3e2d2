"""An engine wired to the fake Scenario (on loopback), a real SQLite store, and a recording Delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import aiohttp
import pytest

from bot.jobs.config import EngineConfig
from bot.jobs.delivery import Delivered, DeliveryError, OutputImage, Reply
from bot.jobs.engine import JobEngine
from bot.jobs.models import Command, JobRecord, JobState
from bot.jobs.sqlite import SQLiteJobStore
from bot.scenario import IDEOGRAM_V4, ScenarioClient
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario


@dataclass
class RecordingDelivery:
    """Stands in for Discord: remembers every progress text, result and failure notice, per job."""

    progress: dict[str, list[str]] = field(default_factory=dict)
    delivered: dict[str, list[list[OutputImage]]] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)
    fail_with: list[DeliveryError] = field(default_factory=list)
    gate: asyncio.Event | None = None

    async def show_progress(self, job: JobRecord, text: str) -> None:
        self.progress.setdefault(job.id, []).append(text)

    async def deliver(
        self, job: JobRecord, images: Sequence[OutputImage], *, resumed: bool, reply: Reply | None = None
    ) -> Delivered:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.delivered.setdefault(job.id, []).append(list(images))
        return Delivered([len(self.delivered) + 1000], "show" if reply else "interaction")

    async def report_failure(self, job: JobRecord, text: str) -> None:
        self.failures.setdefault(job.id, []).append(text)


@dataclass
class Harness:
    clock: FakeClock
    fake: FakeScenario
    client: ScenarioClient
    store: SQLiteJobStore
    delivery: RecordingDelivery
    engines: list[JobEngine]

    def engine(self, **options: object) -> JobEngine:
        engine = JobEngine(
            self.store,
            self.client,
            self.delivery,
            EngineConfig(**options),  # type: ignore[arg-type]
            clock=self.clock.clock(),
        )
        self.engines.append(engine)
        return engine

    async def settle(self, predicate: Callable[[], bool] | None = None, timeout: float = 20.0) -> None:
        """Let the engine work (loopback I/O is real) until every job is finished or `predicate` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if predicate is not None and predicate():
                return
            if predicate is None and not await self.store.unfinished():
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the engine did not settle in time")


    async def wait_for_state(self, job_id: str, *states: JobState, timeout: float = 20.0) -> JobRecord:
        """Poll the store until the job is in one of `states`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            record = await self.store.get(job_id)
            if record is not None and record.state in states:
                return record
            await asyncio.sleep(0.005)
        raise AssertionError(f"job {job_id} never reached {states}")


def new_job(user_id: int = 1, prompt: str = "a lighthouse at dusk", **inputs: object) -> JobRecord:
    return JobRecord(
        command=Command.IMAGINE,
        model_id=IDEOGRAM_V4,
        inputs={"prompt": prompt, **inputs},
        user_id=user_id,
        channel_id=10,
        guild_id=20,
    )


@pytest.fixture
async def harness(tmp_path) -> AsyncIterator[Harness]:
    clock = FakeClock()
    fake = FakeScenario(api_key="key", api_secret="secret", clock=clock, job_duration=6.0, sleep=clock.sleep)
    base_url = await fake.start()
    store = SQLiteJobStore(tmp_path / "jobs.db")
    await store.open()
    async with aiohttp.ClientSession() as session:
        client = ScenarioClient(session, "key", "secret", base_url, clock=clock, sleep=clock.sleep)
        h = Harness(clock, fake, client, store, RecordingDelivery(), [])
        yield h
        for engine in h.engines:
            await engine.shutdown()
    await store.close()
    await fake.stop()


__all__ = ["Harness", "JobState", "RecordingDelivery", "new_job"]
