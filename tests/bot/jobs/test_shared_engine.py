"""Two engines on one PostgreSQL, as two bot processes: one line, one ceiling, jobs handed over.

These run on the real clock: leases and pauses are kept in the database's own time, which no fake clock moves.
Jobs at the fake Scenario last a fraction of a second, and nothing here waits for a lease to lapse by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest

from bot.jobs.config import EngineConfig
from bot.jobs.engine import JobEngine
from bot.jobs.models import JobState
from bot.jobs.postgres import PostgresJobStore
from bot.scenario import ScenarioClient
from fakes.scenario import FakeScenario
from tests.bot.jobs.conftest import RecordingDelivery, new_job


@dataclass
class Process:
    store: PostgresJobStore
    delivery: RecordingDelivery
    engine: JobEngine


@pytest.fixture
async def world(postgres_url: str) -> AsyncIterator[tuple[FakeScenario, Callable[..., Awaitable[Process]]]]:
    """The fake Scenario, and a way to start a bot process's engine on the test's database."""
    fake = FakeScenario(api_key="key", api_secret="secret", job_duration=0.3, parallel_limit=3)
    base_url = await fake.start()
    processes: list[Process] = []
    async with aiohttp.ClientSession() as session:

        async def process(lease_seconds: float = 3.0) -> Process:
            store = PostgresJobStore(postgres_url)
            await store.open()
            delivery = RecordingDelivery()
            client = ScenarioClient(session, "key", "secret", base_url)
            config = EngineConfig(
                max_queued_per_user=20, slot_retry_seconds=0.2, status_tick=0.1, lease_seconds=lease_seconds
            )
            processes.append(Process(store, delivery, JobEngine(store, client, delivery, config)))
            return processes[-1]

        yield fake, process
        for each in processes:
            await each.engine.shutdown()
            await each.store.close()
    await fake.stop()


async def until(predicate, timeout: float = 60.0) -> None:
    """Wait (a hang guard, not a speed requirement) until `predicate()` holds."""
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)


async def test_two_processes_share_one_line_and_one_ceiling(world) -> None:
    fake, process = world
    a, b = await process(), await process()
    await a.engine.start()
    await b.engine.start()
    jobs = [new_job(user_id=user) for _ in range(4) for user in range(1, 6)]  # 20 jobs from 5 people
    for job in jobs:
        await a.engine.submit(job)  # all admitted by one process, as one shard receives one server's commands

    async def all_delivered() -> bool:
        return all([(await a.store.get(job.id)).state is JobState.DELIVERED for job in jobs])

    await until(all_delivered)
    delivered = [job_id for p in (a, b) for job_id, posts in p.delivery.delivered.items() for _ in posts]
    assert sorted(delivered) == sorted(job.id for job in jobs)  # each posted once, by one process or the other
    assert b.delivery.delivered  # the other process took its share of the line
    assert len([call for call in fake.generate_calls if call.status == 200]) == 20  # one Scenario job each
    assert fake.max_in_flight <= 3  # the plan's ceiling, across both processes
    assert len([call for call in fake.generate_calls if call.status == 429]) <= 2  # learning it: one or two


async def test_a_stopping_process_hands_its_running_job_to_the_other(world) -> None:
    fake, process = world
    a, b = await process(lease_seconds=600), await process(lease_seconds=600)  # no lease lapses in this test
    fake.job_duration = 2.0
    await a.engine.start()
    job = new_job()
    await a.engine.submit(job)

    async def running() -> bool:
        return (await a.store.get(job.id)).state is JobState.RUNNING

    await until(running)
    await b.engine.start()
    await a.engine.shutdown()  # SIGTERM: its job goes back to the line's holders at once

    async def delivered() -> bool:
        return (await b.store.get(job.id)).state is JobState.DELIVERED

    await until(delivered)
    assert list(b.delivery.delivered) == [job.id] and not a.delivery.delivered
    assert len(fake.generate_calls) == 1  # continued where it was: never sent twice


async def test_a_process_that_died_has_its_jobs_taken_over_when_the_lease_lapses(world) -> None:
    fake, process = world
    a, b = await process(), await process()
    fake.job_duration = 1.0
    await a.engine.start()
    running, waiting = new_job(user_id=1), new_job(user_id=2)
    fake.parallel_limit = 1
    await a.engine.submit(running)

    async def is_running() -> bool:
        return (await a.store.get(running.id)).state is JobState.RUNNING

    await until(is_running)
    await a.engine.submit(waiting)
    # Process A dies (SIGKILL): its tasks stop where they are and nothing is handed back.
    a.engine.queue.hand_back = _nothing  # type: ignore[method-assign]
    await a.engine.shutdown()
    await b.engine.start()  # A's leases are still fresh: B takes nothing yet

    async def both_delivered() -> bool:
        return all([(await b.store.get(job.id)).state is JobState.DELIVERED for job in (running, waiting)])

    await until(both_delivered)  # within JOB_LEASE_SECONDS (3 s here) of A's last renewal
    assert sorted(b.delivery.delivered) == sorted([running.id, waiting.id]) and not a.delivery.delivered
    assert len([call for call in fake.generate_calls if call.status == 200]) == 2


async def _nothing() -> None:
    return None
