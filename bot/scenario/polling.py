"""Waiting for a Scenario job: a pure poller with an interval schedule, a deadline and injectable time.

Modelled on openai-python's `lib/_files.py` (`wait_for_processing`): fetch, stop on a terminal status,
sleep, give up at a deadline. The schedule starts at one poll a second and, for long jobs, backs off
geometrically to a cap. Polls fall due on a shared grid, so the polls of many jobs in flight go out together.
Measured by `bench/poll.py` and `bench/load.py`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from bot.scenario.errors import JobTimeoutError, ScenarioError, is_retryable
from bot.scenario.models import Job

__all__ = ["OnUpdate", "PollSchedule", "poll_job"]

log = logging.getLogger(__name__)

OnUpdate = Callable[[Job], Awaitable[None] | None]
"""Called with the job whenever its status or progress changes; may be sync or async."""


@dataclass(frozen=True, slots=True)
class PollSchedule:
    """Delays between polls: `initial`, then times `factor` each poll, never above `maximum` (seconds).

    Each delay counts from when the previous poll was sent, and the poll then waits for the next multiple
    of `align` seconds on the clock (0 turns that off). With 50 jobs in flight, polls scattered in time
    wake the event loop for every request, and on a small VM each wake-up costs more CPU than the request
    (measured: about 1 ms per request spread out, 0.26 ms per request in bursts); on a shared grid one
    wake-up sends every poll that is due.

    The default polls every second for the first `hold` polls, then backs off (x1.25) to a 3 s cap. Typical
    Ideogram jobs (3-20 s) finish inside the steady second: they are noticed about 0.5 s later on average and
    1 s at worst, so 95 % of results reach Discord within 1.5 s of the job's success (`bench/load.py`, 1,000
    jobs of 5-20 s, 50 at a time). A long job costs fewer requests, at a delay of up to the cap. Starting
    faster than 1 s buys nothing, since Ideogram jobs take 3 s or more.
    """

    initial: float = 1.0
    factor: float = 1.25
    maximum: float = 3.0
    align: float = 0.25
    hold: int = 20
    """How many polls stay at `initial` before the delays start to grow."""

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.factor < 1 or self.align < 0 or self.hold < 0:
            raise ValueError("PollSchedule needs 0 < initial <= maximum, factor >= 1, align >= 0 and hold >= 0")

    def delays(self) -> Iterator[float]:
        """The endless sequence of delays."""
        for _ in range(self.hold):
            yield self.initial
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)

    def wait(self, sent_at: float, delay: float, now: float) -> float:
        """Seconds from `now` until the poll due `delay` after `sent_at`, moved up to the `align` grid."""
        due = sent_at + delay
        if self.align:
            # The tolerance keeps a due time that is already on the grid (up to float error) where it is.
            due = math.ceil(due / self.align - 1e-9) * self.align
        return max(due - now, 0.0)


async def _notify(on_update: OnUpdate, job: Job) -> None:
    try:
        result = on_update(job)
        if inspect.isawaitable(result):
            await result
    except Exception:
        # A failing progress display (e.g. a Discord edit) must not abandon a paid job.
        log.exception("on_update callback failed for job %s", job.job_id)


async def poll_job(
    fetch: Callable[[], Awaitable[Job]],
    *,
    on_update: OnUpdate | None = None,
    timeout: float,
    schedule: PollSchedule = PollSchedule(),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    job_id: str | None = None,
    wait_first: bool = False,
    progress_every: float = 0.0,
) -> Job:
    """Fetch the job until it is terminal (success, failure or canceled) and return it.

    Every change of status or progress is passed to `on_update`, in order; with `progress_every`, a change of
    progress alone at most that often (a later poll passes on the progress held back), a change of status at once.
    Errors the client would retry (`errors.is_retryable`: connection, timeouts, 408/409/429/5xx, unreadable
    bodies) are logged and polling goes on; other errors propagate.
    Raises `JobTimeoutError` when `timeout` seconds (measured on `clock`) pass without a terminal status.
    With `wait_first`, the first fetch comes one delay later instead of at once.
    """
    deadline = clock() + timeout
    delays = schedule.delays()
    if wait_first:
        now = clock()
        await sleep(min(schedule.wait(now, next(delays), now), timeout))
    last: Job | None = None
    last_seen: tuple[object, float] | None = None
    passed_at = -math.inf
    while True:
        sent_at = clock()
        try:
            job = await fetch()
        except ScenarioError as exc:
            if not is_retryable(exc):
                raise
            log.warning("Polling job %s failed, will try again: %s", job_id or "?", exc)
        else:
            job_id = job.job_id
            last = job
            seen = (job.status, job.progress)
            held = last_seen is not None and last_seen[0] == job.status and sent_at - passed_at < progress_every
            if seen != last_seen and not held:
                last_seen = seen
                passed_at = sent_at
                log.debug("Job %s is %s (%.0f%%)", job.job_id, job.status.value, job.progress * 100)
                if on_update is not None:
                    await _notify(on_update, job)
            if job.status.terminal:
                return job
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeoutError(job_id, timeout, last)
        await sleep(min(schedule.wait(sent_at, next(delays), clock()), remaining))
