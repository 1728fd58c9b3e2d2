"""Waiting for a Scenario job: a pure poller with an interval schedule, a deadline and injectable time.

Modelled on openai-python's `lib/_files.py` (`wait_for_processing`): fetch, stop on a terminal status,
sleep, give up at a deadline. The schedule starts fast, because most Ideogram jobs take 3-30 s and the
first seconds are where a short job finishes, then backs off geometrically to a few seconds so a long job
costs few requests. Measured by `bench/poll.py`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from bot.scenario.errors import (
    APIConnectionError,
    APIResponseError,
    APIResponseValidationError,
    APIStatusError,
    JobTimeoutError,
    ScenarioError,
)
from bot.scenario.models import Job

__all__ = ["OnUpdate", "PollSchedule", "is_transient", "poll_job"]

log = logging.getLogger(__name__)

OnUpdate = Callable[[Job], Awaitable[None] | None]
"""Called with the job whenever its status or progress changes; may be sync or async."""


@dataclass(frozen=True, slots=True)
class PollSchedule:
    """Delays between polls: `initial`, then times `factor` each poll, never above `maximum` (seconds).

    The defaults poll at about 0.5, 1.1, 1.9, 2.9, 4.1, 5.6, 7.5, 9.5, 11.5... s after submission. Measured
    with `bench/poll.py` on loopback, a job is noticed on average 0.6-0.9 s after it finishes (at worst
    about the 2 s cap) whether it takes 3, 10 or 30 s, and a 30 s job costs about 20 requests. A factor of
    1.5 saves one or two requests per job but doubles the delay for 3 s jobs.
    """

    initial: float = 0.5
    factor: float = 1.25
    maximum: float = 2.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial or self.factor < 1:
            raise ValueError("PollSchedule needs 0 < initial <= maximum and factor >= 1")

    def delays(self) -> Iterator[float]:
        """The endless sequence of delays."""
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)


def is_transient(exc: BaseException) -> bool:
    """Whether an error while polling may go away by itself (so polling should go on)."""
    if isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, APIResponseError):
        return not isinstance(exc, APIResponseValidationError)
    if isinstance(exc, APIStatusError):
        return exc.status in (408, 409, 429) or exc.status >= 500
    return False


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
) -> Job:
    """Fetch the job until it is terminal (success, failure or canceled) and return it.

    Every change of status or progress is passed to `on_update`, in order. Transient errors (connection,
    timeouts, 408/409/429/5xx, unreadable bodies) are logged and polling goes on; other errors propagate.
    Raises `JobTimeoutError` when `timeout` seconds (measured on `clock`) pass without a terminal status.
    """
    deadline = clock() + timeout
    delays = schedule.delays()
    last: Job | None = None
    last_seen: tuple[object, float] | None = None
    while True:
        try:
            job = await fetch()
        except ScenarioError as exc:
            if not is_transient(exc):
                raise
            log.warning("Polling job %s failed, will try again: %s", job_id or "?", exc)
        else:
            job_id = job.job_id
            last = job
            seen = (job.status, job.progress)
            if seen != last_seen:
                last_seen = seen
                log.debug("Job %s is %s (%.0f%%)", job.job_id, job.status.value, job.progress * 100)
                if on_update is not None:
                    await _notify(on_update, job)
            if job.status.terminal:
                return job
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeoutError(job_id, timeout, last)
        await sleep(min(next(delays), remaining))
