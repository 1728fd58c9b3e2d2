"""The session rule of admission, through `JobEngine.submit` with no Discord at all: a job posted in a session's
thread is numbered in it; an ended session or a spent budget refuses it before anything is stored or paid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.jobs.models import JobState
from bot.sessions import SessionRecord
from bot.sessions.admission import SessionBudgetError, SessionEndedError
from tests.bot.jobs.conftest import Harness, new_job

THREAD = 10  # new_job() posts in channel 10 of server 20


def session(**fields: object) -> SessionRecord:
    return SessionRecord(thread_id=THREAD, guild_id=20, channel_id=9, title="Ideas", starter_id=1, **fields)  # type: ignore[arg-type]


async def test_jobs_in_a_session_thread_are_numbered_in_order_and_others_are_not(harness: Harness) -> None:
    await harness.store.add_session(session())
    engine = harness.engine()
    await engine.start()
    jobs = [new_job(user_id=user) for user in (1, 2, 1)]
    elsewhere = new_job().model_copy(update={"channel_id": 11})
    in_a_dm = new_job().model_copy(update={"channel_id": THREAD, "guild_id": None})
    for job in [*jobs, elsewhere, in_a_dm]:
        await engine.submit(job)
    await harness.settle()

    stored = await harness.store.session_jobs(THREAD)
    assert [(job.id, job.session_number) for job in stored] == [(job.id, n) for n, job in enumerate(jobs, start=1)]
    assert all(job.state is JobState.DELIVERED and job.session_id == THREAD for job in stored)
    for job in (elsewhere, in_a_dm):
        record = await harness.store.get(job.id)
        assert record is not None and record.session_id is None and record.session_number is None


async def test_an_ended_session_or_a_spent_budget_refuses_before_anything_is_stored(harness: Harness) -> None:
    await harness.store.add_session(session(budget_cu=10))  # one 6-CU idea fits, a second would pass the cap
    engine = harness.engine()
    await engine.start()
    first = new_job()
    await engine.submit(first)
    await harness.settle()
    spent = await harness.store.get(first.id)
    assert spent is not None and spent.cost == 6

    refused = new_job(prompt="over budget")
    with pytest.raises(SessionBudgetError, match=r"about 6 CU\) does not fit .* \(6 of 10 CU used\)"):
        await engine.submit(refused)
    await harness.store.end_session(THREAD, datetime(2025, 3, 1, tzinfo=UTC))
    with pytest.raises(SessionEndedError, match="has ended"):
        await engine.submit(new_job(prompt="too late"))

    assert await harness.store.get(refused.id) is None
    assert len(harness.fake.generate_calls) == 1
    assert [job.session_number for job in await harness.store.session_jobs(THREAD)] == [1]
