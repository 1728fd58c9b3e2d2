"""The shared line on a real PostgreSQL: many processes (one store and pool each) claiming from one line."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.jobs._postgres_line import PostgresLine
from bot.jobs.models import JobState
from bot.jobs.postgres import PostgresJobStore
from tests.bot.jobs.conftest import record


@pytest.fixture
async def processes(postgres_url: str) -> AsyncIterator[list[tuple[PostgresJobStore, PostgresLine]]]:
    """Six stores on one database, as six bot processes would have, each with its line."""
    stores = [PostgresJobStore(postgres_url, max_size=3) for _ in range(6)]
    for store in stores:
        await store.open()
    yield [(store, store.line(f"process-{n}", 30.0)) for n, store in enumerate(stores)]
    for store in stores:
        await store.close()


async def queue(store: PostgresJobStore, *users: int) -> list[str]:
    """Queue one job per user id given, in that order; their ids."""
    ids = []
    for user in users:
        job = record(user)
        await store.add(job)
        ids.append(job.id)
    return ids


async def set_ceiling(url_store: PostgresJobStore, ceiling: int | None) -> None:
    await url_store._db.execute("UPDATE plan SET ceiling = $1", ceiling)


async def test_claims_from_six_processes_never_pass_the_ceiling_nor_take_a_job_twice(processes) -> None:
    store, _ = processes[0]
    ids = await queue(store, *[user for _ in range(6) for user in range(10)])  # 60 jobs from 10 users
    await set_ceiling(store, 7)
    # Racing for a full plan: seven claims win, whichever processes make them.
    claims = await asyncio.gather(
        *(line.claim(cap=None, unknown_ok=False, probe_ok=False) for _, line in processes * 3)
    )
    first = [claim.job.id for claim in claims if claim.job is not None]
    assert len(first) == 7
    for job_id in first:
        await store.transition(job_id, [JobState.QUEUED], JobState.DELIVERING)  # done: their slots are free
    held, peak, taken = 0, 0, list(first)
    rng = random.Random(7)

    async def work(process_store: PostgresJobStore, line: PostgresLine) -> None:
        nonlocal held, peak
        idle = 0
        while idle < 30:
            claim = await line.claim(cap=None, unknown_ok=False, probe_ok=False)
            if claim.job is None:
                idle += 1
                await asyncio.sleep(0.005)  # another process's job will end: look again
                continue
            idle = 0
            held += 1
            peak = max(peak, held)
            taken.append(claim.job.id)
            await process_store.transition(claim.job.id, [JobState.QUEUED], JobState.RUNNING)
            await asyncio.sleep(rng.random() / 50)
            held -= 1  # before the database frees the slot: `held` never counts fewer than the database does
            await process_store.transition(claim.job.id, [JobState.RUNNING], JobState.DELIVERING)

    await asyncio.gather(*(work(s, line) for s, line in processes * 2))  # two workers a process

    assert sorted(taken) == sorted(ids)  # every job taken, none twice
    assert peak <= 7  # never more than the ceiling, whichever process claimed


async def test_the_line_is_round_robin_by_requester_across_processes(processes) -> None:
    (store_a, line_a), (store_b, line_b) = processes[:2]
    alice = await queue(store_a, 1, 1, 1)
    bob = await queue(store_b, 2, 2)
    carol = await queue(store_a, 3)

    order = []
    for n in range(6):
        line = (line_a, line_b)[n % 2]
        claim = await line.claim(cap=None, unknown_ok=True, probe_ok=False)
        order.append(claim.job.id)

    assert order == [alice[0], bob[0], carol[0], alice[1], bob[1], alice[2]]


async def test_places_in_line_are_the_same_for_every_process(processes) -> None:
    (store_a, line_a), (store_b, line_b) = processes[:2]
    alice = await queue(store_a, 1, 1)
    bob = await queue(store_b, 2)

    assert await line_a.positions() == await line_b.positions() == {alice[0]: 1, bob[0]: 2, alice[1]: 3}
    assert await line_b.position(alice[1]) == 3
    await line_b.claim(cap=None, unknown_ok=True, probe_ok=False)
    assert await line_a.positions() == {bob[0]: 1, alice[1]: 2}
    assert await line_a.position(alice[0]) is None  # taken from the line
    assert await line_a.waiting_for(1, 20) == (1, 0)  # record() jobs have no server


async def test_an_unknown_ceiling_lets_only_a_process_with_no_unanswered_post_claim(processes) -> None:
    store, line = processes[0]
    await queue(store, 1, 2)

    assert (await line.claim(cap=None, unknown_ok=False, probe_ok=False)).job is None
    claim = await line.claim(cap=None, unknown_ok=True, probe_ok=False)
    assert claim.job is not None and claim.ceiling is None
    # A number caps what is learned: with MAX_PARALLEL_JOBS=1 the one job holding a slot is the limit.
    assert (await line.claim(cap=1, unknown_ok=True, probe_ok=False)).job is None


async def test_a_probe_takes_one_job_beyond_the_ceiling_and_only_one(processes) -> None:
    (store, line_a), (_, line_b) = processes[:2]
    await queue(store, 1, 2, 3, 4)
    await set_ceiling(store, 2)
    for _ in range(2):
        assert (await line_a.claim(cap=None, unknown_ok=False, probe_ok=False)).job is not None

    assert (await line_a.claim(cap=None, unknown_ok=False, probe_ok=False)).job is None
    probe = await line_a.claim(cap=None, unknown_ok=False, probe_ok=True)
    assert probe.job is not None and probe.probe
    assert (await line_b.claim(cap=None, unknown_ok=False, probe_ok=True)).job is None  # never two beyond
    assert await line_b.grow(2) and not await line_a.grow(2)  # Scenario took it: 3, raised once
    assert await line_a.ceiling() == 3


async def test_a_429_puts_the_job_first_in_line_and_pauses_every_process(processes) -> None:
    (store, line_a), (_, line_b) = processes[:2]
    first, second = await queue(store, 1, 2)
    claim = await line_a.claim(cap=None, unknown_ok=True, probe_ok=False)
    assert claim.job.id == first
    await store.transition(first, [JobState.QUEUED], JobState.SUBMITTING)

    requeued = await line_a.requeue_front(first, 1, 60.0)

    assert requeued is not None and requeued.state is JobState.QUEUED
    assert await line_b.positions() == {first: 1, second: 2}
    assert await line_b.ceiling() == 1
    assert (await line_b.claim(cap=None, unknown_ok=True, probe_ok=False)).job is None  # paused
    await line_b.slot_freed()  # a job ended somewhere: the plan has room again
    assert (await line_b.claim(cap=None, unknown_ok=True, probe_ok=False)).job.id == first
    assert await line_a.requeue_front(second, 1, 60.0) is None  # it was not submitting


async def test_a_lapsed_lease_is_taken_over_and_its_old_holder_learns_it_lost_the_job(processes) -> None:
    (store, line_a), (_, line_b) = processes[:2]
    running, sent_not, waiting = await queue(store, 1, 2, 3)
    await set_ceiling(store, 5)
    await line_a.claim(cap=None, unknown_ok=False, probe_ok=False)
    await store.transition(running, [JobState.QUEUED], JobState.RUNNING)
    await line_a.claim(cap=None, unknown_ok=False, probe_ok=False)  # claimed, its POST not sent yet

    assert (await line_b.take_over()).resumed == []  # line_a's leases are fresh
    assert await line_a.renew() == {running, sent_not, waiting}  # a queued job is leased to who queued it
    await store._db.execute("UPDATE jobs SET lease_until = now() - interval '1 second'")  # process A froze
    assert (await line_a.take_over()).resumed == []  # a process never takes its own jobs from itself
    taken = await line_b.take_over()

    assert [job.id for job in taken.resumed] == [running]
    assert sorted(job.id for job in taken.waiting) == sorted([sent_not, waiting])
    assert await line_b.positions() == {sent_not: 1, waiting: 2}  # never sent: back in line, at its turn
    assert await line_a.renew() == set()
    assert await line_a.lost([running, sent_not]) == {running, sent_not}


async def test_a_graceful_stop_hands_every_job_back_at_once(processes) -> None:
    (store_a, line_a), (_, line_b) = processes[:2]
    job = record(1)
    await store_a.add(job)
    assert await line_a.renew() == {job.id}
    notices: list[str] = []
    listener = await line_b.listen(notices.append)
    try:
        assert await line_a.hand_back() == 1
        taken = await line_b.take_over()
        for _ in range(100):
            if "released" in notices:
                break
            await asyncio.sleep(0.01)
    finally:
        await listener.close()

    assert [j.id for j in taken.waiting] == [job.id]
    assert "released" in notices


async def test_every_process_hears_a_job_queued_anywhere(processes) -> None:
    (store_a, _), (_, line_b) = processes[:2]
    notices: list[str] = []
    listener = await line_b.listen(notices.append)
    try:
        await queue(store_a, 1)
        for _ in range(100):
            if notices:
                break
            await asyncio.sleep(0.01)
    finally:
        await listener.close()
    assert notices == ["queued"]


async def test_jobs_from_an_older_bot_are_taken_over_by_the_first_process(postgres_url: str) -> None:
    from bot.jobs._records import COLUMNS, FIELDS
    from bot.jobs.postgres import MIGRATIONS, _to_column

    old = PostgresJobStore(postgres_url, migrations=MIGRATIONS[:-1])
    await old.open()
    job = record(1, state=JobState.RUNNING)
    values = [_to_column(name, getattr(job, name)) for name in FIELDS]
    places = ", ".join(f"${n}" for n in range(1, len(FIELDS) + 1))
    await old._db.execute(f"INSERT INTO jobs ({COLUMNS}) VALUES ({places})", *values)  # as the old bot did
    await old.close()
    store = PostgresJobStore(postgres_url)
    await store.open()
    try:
        taken = await store.line("new", 30.0).take_over()
    finally:
        await store.close()
    assert [j.id for j in taken.resumed] == [job.id]


async def test_the_listener_connection_never_names_the_password() -> None:
    store = PostgresJobStore("postgresql://postgres:s3cret-pw@127.0.0.1:1/nowhere", connect_timeout=1)
    with pytest.raises(OSError) as caught:
        await store.line("x", 30.0).listen(lambda payload: None)
    assert "s3cret-pw" not in str(caught.value)
    assert isinstance(caught.value, OSError) and not isinstance(caught.value, asyncpg.PostgresError)
