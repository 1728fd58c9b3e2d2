"""`bot.jobs.status`: the p95 wait of the last hour and today's spend, from the jobs that finished."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from bot.jobs.models import FinishedJob, JobState
from bot.jobs.status import p95, summarize

NOW = datetime(2025, 3, 4, 0, 30, tzinfo=UTC)  # half an hour into the UTC day: "today" is shorter than an hour


def finished(
    minutes_ago: float, wait: float, state: JobState = JobState.DELIVERED, cost: float | None = 4
) -> FinishedJob:
    end = NOW - timedelta(minutes=minutes_ago)
    return FinishedJob("job", state, end - timedelta(seconds=wait), end, cost)


def queue(waiting: int = 0, running: int = 0, limit: int = 3) -> SimpleNamespace:
    return SimpleNamespace(waiting=waiting, running=running, limit=limit)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([7.0], 7.0), ([3.0, 1.0, 2.0], 3.0), (list(range(1, 101)), 95), (list(range(1, 21)), 19)],
)
def test_p95_is_the_nearest_rank(values: list[float], expected: float | None) -> None:
    assert p95([float(v) for v in values]) == expected


def test_the_wait_is_of_the_last_hour_and_the_spend_of_the_utc_day() -> None:
    jobs = [
        finished(50, wait=100, cost=10),  # in the hour, yesterday (UTC)
        finished(20, wait=30, cost=4),
        finished(10, wait=10, state=JobState.FAILED, cost=4),
        finished(5, wait=20, state=JobState.UNDELIVERED, cost=4),
        finished(1, wait=500, state=JobState.CANCELED, cost=None),  # canceled: not waited for, not charged
        finished(90, wait=900, cost=10),  # before the hour and before the day
    ]
    status = summarize(queue(waiting=2, running=1, limit=2), jobs, NOW)  # type: ignore[arg-type]

    assert (status.waiting, status.running, status.ceiling) == (2, 1, 2)
    assert status.answered_last_hour == 4 and status.p95_wait == 100
    assert (status.finished_today, status.spent_today) == (4, 12)


def test_a_now_in_another_time_zone_still_means_the_utc_day() -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    status = summarize(queue(), [finished(50, wait=5), finished(20, wait=5)], paris)  # type: ignore[arg-type]
    assert status.finished_today == 1 and status.answered_last_hour == 2


def test_no_job_means_no_wait_and_nothing_spent() -> None:
    status = summarize(queue(), [], NOW)  # type: ignore[arg-type]
    assert (status.p95_wait, status.answered_last_hour, status.spent_today, status.finished_today) == (None, 0, 0, 0)
