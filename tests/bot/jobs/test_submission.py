"""The paid POST /generate has one owner and one budget: never more POSTs for a job than the budget allows,
never a second job at Scenario for one request, and the requester always told how it ended."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.jobs.models import JobRecord, JobState
from fakes.scenario import Fault
from tests.bot.jobs.conftest import Harness, new_job

GENERATE = r"^/v1/generate/"
BUDGET = 3


async def run_one(harness: Harness, **options: object) -> JobRecord:
    """One job through an engine with these options, until it rests."""
    engine = harness.engine(**options)
    await engine.start()
    job = new_job()
    await engine.submit(job)
    await harness.settle()
    return job


def posts(harness: Harness) -> int:
    return len(harness.fake.generate_calls)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(method="POST", path=GENERATE, status=504, times=50),  # may have reached Scenario: settle, look
        Fault(method="POST", path=GENERATE, status=500, times=50),  # Scenario's own error: look at once
        Fault(method="POST", path=GENERATE, kind="reset_before", times=50),  # dropped after sending
    ],
    ids=["504", "500 from Scenario", "connection reset"],
)
async def test_the_worst_case_sends_exactly_the_budget_of_posts_then_tells_the_requester(
    harness: Harness, fault: Fault
) -> None:
    harness.fake.inject(fault)
    job = await run_one(harness, max_submit_attempts=BUDGET)

    assert posts(harness) == BUDGET
    assert not harness.fake.jobs  # nothing was created, so nothing was paid
    record = await harness.store.get(job.id)
    assert record.state is JobState.FAILED
    assert record.attempts == BUDGET
    assert harness.delivery.failures[job.id] == [record.last_error]
    assert "Nothing more was sent" in record.last_error


async def test_a_post_that_created_its_job_but_lost_the_answer_is_adopted_not_resent(harness: Harness) -> None:
    harness.fake.inject(Fault(method="POST", path=GENERATE, kind="reset_after"))
    job = await run_one(harness, submit_settle_seconds=75.0)

    assert posts(harness) == 1
    record = await harness.store.get(job.id)
    assert record.state is JobState.DELIVERED
    assert record.scenario_job_id == harness.fake.generate_calls[0].job_id
    assert 75.0 not in harness.clock.sleeps  # found at the first look: no wait for the POST to settle
    assert any("never paid twice" in text for text in harness.delivery.progress[job.id])


async def test_a_lost_post_not_listed_yet_is_looked_for_again_after_the_settle_wait(harness: Harness) -> None:
    harness.fake.inject(Fault(method="POST", path=GENERATE, status=504))
    job = await run_one(harness, submit_settle_seconds=75.0, max_submit_attempts=BUDGET)

    # The searches for the lost job (by creation date), not the status loop's looks (by update date).
    searches = [query for query in harness.fake.list_queries if "createdAfter" in query]
    assert len(searches) == 2  # at once, and again once the POST must have settled
    assert 75.0 in harness.clock.sleeps
    assert posts(harness) == 2  # nothing found: sent once more, within the budget
    assert (await harness.store.get(job.id)).state is JobState.DELIVERED


async def test_a_budget_spent_before_a_restart_is_not_spent_again(harness: Harness) -> None:
    job = new_job()
    await harness.store.add(job)
    # A process died with a POST under way: two earlier POSTs were lost without a trace, and the third too.
    await harness.store.update(
        job.id, state=JobState.SUBMITTING, submit_started_at=job.created_at - timedelta(minutes=5), attempts=BUDGET
    )
    engine = harness.engine(max_submit_attempts=BUDGET)
    await engine.start()
    await harness.settle()

    assert posts(harness) == 0
    record = await harness.store.get(job.id)
    assert record.state is JobState.FAILED
    assert harness.delivery.failures[job.id]


async def test_a_restart_with_budget_left_sends_once_more_and_no_more(harness: Harness) -> None:
    job = new_job()
    await harness.store.add(job)
    await harness.store.update(
        job.id, state=JobState.SUBMITTING, submit_started_at=job.created_at - timedelta(minutes=5), attempts=2
    )
    engine = harness.engine(max_submit_attempts=BUDGET)
    await engine.start()
    await harness.settle()

    assert posts(harness) == 1
    record = await harness.store.get(job.id)
    assert record.state is JobState.DELIVERED
    assert record.attempts == BUDGET


async def test_a_plan_limit_gives_its_attempt_back_and_waits_for_a_slot(harness: Harness) -> None:
    harness.fake.inject(Fault(method="POST", path=GENERATE, status=429, times=5))
    job = await run_one(harness, max_submit_attempts=BUDGET, slot_retry_seconds=10.0)

    # Five 429s created nothing and cost nothing: the sixth POST runs the job, within the budget.
    assert [call.status for call in harness.fake.generate_calls] == [429] * 5 + [200]
    record = await harness.store.get(job.id)
    assert record.state is JobState.DELIVERED
    assert record.attempts == 1


async def test_when_scenario_cannot_be_asked_nothing_is_sent_again(harness: Harness) -> None:
    harness.fake.inject(Fault(method="POST", path=GENERATE, status=504))
    harness.fake.inject(Fault(method="GET", path=r"^/v1/jobs$", status=503, times=50))
    job = await run_one(harness, max_submit_attempts=BUDGET)

    assert posts(harness) == 1
    record = await harness.store.get(job.id)
    assert record.state is JobState.FAILED
    assert "could not be asked" in record.last_error
