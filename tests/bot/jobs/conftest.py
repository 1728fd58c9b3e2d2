"""An engine wired to the fake Scenario (on loopback), a real SQLite store, and a recording Delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.jobs.config import EngineConfig
from bot.jobs.delivery import Delivered, DeliveryError, OutputImage, Reply
from bot.jobs.engine import JobEngine
from bot.jobs.models import Command, JobRecord, JobState
from bot.jobs.postgres import PostgresJobStore
from bot.jobs.sqlite import SQLiteJobStore, sqlite_path
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

    async def settle(self, predicate: Callable[[], bool] | None = None, timeout: float = 60.0) -> None:
        """Let the engine work (loopback I/O is real) until every job is finished or `predicate` holds."""
        # `timeout` (real seconds) only guards against a hang on a busy machine: it is no speed requirement.
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


# --- the store contract: one suite, every backend ----------------------------------------------------------

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
BACKENDS = ("sqlite", "postgres")


def record(
    user_id: int = 1, *, created: datetime = T0, state: JobState = JobState.QUEUED, **fields: object
) -> JobRecord:
    """A stored job created (and last updated) at `created`."""
    return JobRecord(
        command=Command.IMAGINE,
        model_id="model_ideogram-v4",
        inputs={"prompt": "a lighthouse"},
        user_id=user_id,
        state=state,
        created_at=created,
        updated_at=created,
        **fields,  # type: ignore[arg-type]
    )


def full_record() -> JobRecord:
    """A record with every field away from its default, including awkward values."""
    return JobRecord(
        id="abcdef123456",
        state=JobState.RUNNING,
        command=Command.CHARACTER,
        model_id="model_ideogram-character",
        inputs={"prompt": "naïve café ☕ \"quoted\" 'single'", "numOutputs": 2, "nested": {"a": [1, None, True]}},
        uploaded_asset_ids={"reference": "asset_ref", "mask": "asset_mask"},
        user_id=2**63 - 1,  # snowflakes use the full signed 64-bit range both backends store
        user_name="Zoë",
        guild_id=1_234_567_890_123_456_789,
        channel_id=222,
        application_id=333,
        interaction_id=444,
        interaction_token="tok.en-value",
        token_expires_at=datetime(2025, 3, 1, 12, 15, tzinfo=UTC),
        filesize_limit=25 * 1024 * 1024,
        bot_in_guild=False,
        parent_job_id="parent000001",
        parent_message_url="https://discord.com/channels/1/2/3",
        session_id=2**63 - 3,
        session_number=7,
        submit_started_at=datetime(2025, 3, 1, 12, 0, 1, 5, tzinfo=UTC),
        scenario_job_id="job_abc",
        scenario_status="in-progress",
        progress=0.42,
        output_asset_ids=["asset_1", "asset_2"],
        seeds=[123, None],
        cost=12.5,
        estimate_cu=14.0,
        delivered_message_ids=[777, 2**63 - 2],
        delivered_via="interaction",
        delivery_note="scaled down",
        attempts=3,
        last_error="temporary",
        # A non-UTC offset: it must come back as the same instant, in UTC.
        created_at=datetime(2025, 3, 1, 14, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2))),
        updated_at=datetime(2025, 3, 1, 12, 5, tzinfo=UTC),
        finished_at=datetime(2025, 3, 1, 12, 6, tzinfo=UTC),
    )


MakeStore = Callable[..., SQLiteJobStore | PostgresJobStore]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A DATABASE_URL for a new, empty job store, once per backend (PostgreSQL: `postgres_url`)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'jobs.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_store(store_url: str) -> MakeStore:
    """Build (not open) a store on this test's database; every one it builds sees the same records.

    Options are those both backends take (`clock`, `migrations`).
    """

    def make(**options: Any) -> SQLiteJobStore | PostgresJobStore:
        if store_url.startswith("sqlite:"):
            return SQLiteJobStore(sqlite_path(store_url), **options)
        return PostgresJobStore(store_url, **options)

    return make


@pytest.fixture
async def store(make_store: MakeStore) -> AsyncIterator[SQLiteJobStore | PostgresJobStore]:
    """An open store of each backend, on a database of this test's own."""
    async with make_store() as opened:
        yield opened


__all__ = ["T0", "Harness", "JobState", "RecordingDelivery", "full_record", "new_job", "record"]
