"""What `/status` shows an operator: the line, the ceiling, the last errors, the waits and today's spend.

Read from the queue (in memory), `bot.metrics` (the last errors) and the store (jobs finished in the last hour
and today), so a restart loses nothing but the last errors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import metrics
from bot.jobs.models import FinishedJob, JobState
from bot.jobs.queue import JobQueue
from bot.jobs.store import JobStore
from bot.metrics import LastError

WAIT_WINDOW = timedelta(hours=1)
ANSWERED = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.UNDELIVERED})
"""End states that answered a request (a canceled job was not waited for); the same as the duration metric."""


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """A snapshot of the engine for its operator; no user, prompt or job id in it."""

    waiting: int
    running: int
    ceiling: int | None
    """None while it is being learned from Scenario (`MAX_PARALLEL_JOBS=auto`)."""
    last_scenario_error: LastError | None
    last_discord_error: LastError | None
    answered_last_hour: int
    """Jobs that ended with a result or an error in the last hour (what `p95_wait` is read from)."""
    p95_wait: float | None
    """Seconds from request to result that 95 % of those jobs stayed within; None without any."""
    finished_today: int
    spent_today: float
    """Creative units Scenario charged for the jobs that finished today (UTC), as it quoted them."""
    at: datetime


def p95(values: Sequence[float]) -> float | None:
    """The 95th percentile by the nearest-rank method (a value that occurred); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def summarize(queue: JobQueue, finished: Sequence[FinishedJob], now: datetime) -> EngineStatus:
    """The status from the queue and the jobs finished since the earlier of an hour ago and midnight UTC."""
    now = now.astimezone(UTC)
    hour_ago = now - WAIT_WINDOW
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    waits = [
        (job.finished_at - job.created_at).total_seconds()
        for job in finished
        if job.finished_at >= hour_ago and job.state in ANSWERED
    ]
    today = [job for job in finished if job.finished_at >= midnight]
    return EngineStatus(
        waiting=queue.waiting,
        running=queue.running,
        ceiling=queue.limit,
        last_scenario_error=metrics.last_scenario_error(),
        last_discord_error=metrics.last_discord_error(),
        answered_last_hour=len(waits),
        p95_wait=p95(waits),
        finished_today=len(today),
        spent_today=sum(job.cost or 0.0 for job in today),
        at=now,
    )


async def read_status(queue: JobQueue, store: JobStore, now: datetime) -> EngineStatus:
    """Read what `summarize` needs from the store (one query) and summarize it."""
    now = now.astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return summarize(queue, await store.finished_since(min(now - WAIT_WINDOW, midnight)), now)
