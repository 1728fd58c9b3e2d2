"""The `JobStore` contract for brainstorm sessions, on every backend (`store`/`make_store`: SQLite and
PostgreSQL): sessions survive a reopen, numbers are given once each even under racing processes, votes toggle
one per person."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.jobs.models import JobState
from bot.jobs.store import JobStore
from bot.sessions import SessionDefaults, SessionRecord
from tests.bot.jobs.conftest import MakeStore, record

THREAD = 1_400_000_000_000_000_001


def session(thread_id: int = THREAD, **fields: object) -> SessionRecord:
    return SessionRecord(
        thread_id=thread_id,
        guild_id=1_310_000_000_000_000_001,
        channel_id=1_310_000_000_000_000_002,
        title="Mascot ideas ☕",
        starter_id=2**63 - 1,
        starter_name="Zoë",
        defaults=SessionDefaults(size="landscape_16_9", speed="turbo", count=2, style="in pastel colours"),
        budget_cu=120.5,
        header_message_id=2**63 - 5,
        created_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
        **fields,  # type: ignore[arg-type]
    )


async def test_a_session_round_trips_through_a_reopen_and_a_thread_has_one(make_store: MakeStore) -> None:
    original = session()
    async with make_store() as s:
        await s.add_session(original)
        with pytest.raises(ValueError, match="already has a session"):
            await s.add_session(original)

    async with make_store() as s:
        loaded = await s.get_session(THREAD)
        assert await s.get_session(THREAD + 1) is None

    assert loaded == original


async def test_numbers_count_up_per_session_and_stop_when_it_ends(store: JobStore) -> None:
    await store.add_session(session())
    await store.add_session(session(THREAD + 1))

    assert [await store.take_session_number(THREAD) for _ in range(3)] == [1, 2, 3]
    assert await store.take_session_number(THREAD + 1) == 1
    assert await store.take_session_number(999) is None

    ended = await store.end_session(THREAD, datetime(2025, 3, 1, 13, tzinfo=UTC))
    assert ended is not None and ended.ended and ended.last_number == 3
    assert await store.end_session(THREAD, datetime(2025, 3, 1, 14, tzinfo=UTC)) is None  # ends once
    assert await store.take_session_number(THREAD) is None
    loaded = await store.get_session(THREAD)
    assert loaded is not None and loaded.ended_at == datetime(2025, 3, 1, 13, tzinfo=UTC)


async def test_two_processes_never_get_the_same_number(make_store: MakeStore) -> None:
    async with make_store() as first, make_store() as second:
        await first.add_session(session())
        taken = await asyncio.gather(
            *(store.take_session_number(THREAD) for _ in range(20) for store in (first, second))
        )
    assert sorted(taken) == list(range(1, 41))  # type: ignore[type-var]


async def test_session_jobs_come_by_number_with_their_fields(store: JobStore) -> None:
    await store.add_session(session())
    later = record(session_id=THREAD, session_number=2)
    first = record(user_id=2, session_id=THREAD, session_number=1, state=JobState.DELIVERED)
    for job in (later, first, record(session_id=THREAD + 1, session_number=1), record()):
        await store.add(job)

    jobs = await store.session_jobs(THREAD)

    assert [(job.id, job.session_number) for job in jobs] == [(first.id, 1), (later.id, 2)]
    assert jobs[0] == first


async def test_a_vote_toggles_one_per_person_and_counts_survive_a_reopen(make_store: MakeStore) -> None:
    one, two = record(session_id=THREAD, session_number=1), record(session_id=THREAD, session_number=2)
    async with make_store() as s:
        await s.add_session(session())
        await s.add(one)
        await s.add(two)
        assert await s.toggle_vote(one.id, 10) == (True, 1)
        assert await s.toggle_vote(one.id, 11) == (True, 2)
        assert await s.toggle_vote(one.id, 10) == (False, 1)  # a second click takes it back
        assert await s.toggle_vote(one.id, 10) == (True, 2)
        assert await s.toggle_vote(two.id, 12) == (True, 1)

    async with make_store() as s:
        assert await s.session_votes(THREAD) == {one.id: 2, two.id: 1}
        assert await s.session_votes(THREAD + 1) == {}
        assert await s.toggle_vote(one.id, 11) == (False, 1)


async def test_racing_clicks_of_many_people_count_each_once(make_store: MakeStore) -> None:
    job = record(session_id=THREAD, session_number=1)
    async with make_store() as first, make_store() as second:
        await first.add_session(session())
        await first.add(job)
        await asyncio.gather(*(first.toggle_vote(job.id, user) for user in range(30)))
        await asyncio.gather(*(second.toggle_vote(job.id, user) for user in range(30, 40)))
        assert await second.session_votes(THREAD) == {job.id: 40}
