"""The status message of each job: throttled edits, never an edit after the result, one lock per job."""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.jobs import texts
from bot.jobs.delivery import Delivered, Delivery, OutputImage, Reply
from bot.jobs.models import JobRecord

CLOSED_MEMORY = 10_000
NEAR_FRONT = 3
"""Within this many places of the front of the line, every move is shown (throttled like any edit), unless the
line moves so fast that the job would start before the next edit could replace it anyway."""
FLEETING_SECONDS = 1.5
"""A place near the front the job would hold for less than this (at its line's pace) is not worth an edit."""
FAR_POSITION_SECONDS = 60.0
"""Farther back, a move is shown at most this often: a person at place 900 sees the number fall once a minute."""
EDIT_GRID = 0.25
"""Seconds. Throttled progress edits go out on the same grid as Scenario polls (`PollSchedule.align`), so one
wake-up of the event loop serves many jobs' polls and edits at once."""


class ProgressBoard:
    """Per-job status text: throttled edits, never an edit after the result, one lock per job."""

    def __init__(
        self,
        delivery: Delivery,
        interval: float,
        clock: Clock,
        spawn: Callable[[Awaitable[None]], None],
        on_rest: Callable[[JobRecord], Awaitable[None]] | None = None,
    ) -> None:
        self._delivery = delivery
        self._on_rest = on_rest
        self._interval = interval
        self._clock = clock.monotonic
        self._sleep = clock.sleep
        self._spawn = spawn
        self._locks: dict[str, asyncio.Lock] = {}
        self._shown: dict[str, tuple[float, str]] = {}
        self._pending: dict[str, tuple[JobRecord, str]] = {}
        self._positions: dict[str, tuple[float, int | None]] = {}
        # Jobs whose result (or failure) is posted: a late progress edit must never overwrite it. Bounded,
        # since a finished job's pending edits are gone within one throttle interval.
        self._closed: OrderedDict[str, None] = OrderedDict()

    def _lock(self, job_id: str) -> asyncio.Lock:
        return self._locks.setdefault(job_id, asyncio.Lock())

    async def show(self, job: JobRecord, text: str, *, force: bool = False) -> None:
        """Show `text` now, or at the end of the throttle interval if the last edit was too recent."""
        await self._put(job, text + texts.estimate_note(job.estimate_cu), force=force)  # the wait's cost: `≈ 12 CU`

    async def _put(self, job: JobRecord, text: str, *, force: bool) -> None:
        if job.id in self._closed:
            return
        last = self._shown.get(job.id)
        if last and last[1] == text:
            return
        wait = 0.0 if force or last is None else self._next_edit_at(last[0]) - self._clock()
        if wait > 0:
            first_pending = job.id not in self._pending
            self._pending[job.id] = (job, text)
            if first_pending:
                self._spawn(self._flush_later(job.id, wait))
            return
        self._pending.pop(job.id, None)
        async with self._lock(job.id):
            if job.id in self._closed:
                return
            self._shown[job.id] = (self._clock(), text)
            await self._delivery.show_progress(job, text)

    def _next_edit_at(self, shown_at: float) -> float:
        """One interval after the last edit, counted from the grid tick it went out on (see `EDIT_GRID`)."""
        return math.floor(shown_at / EDIT_GRID + 1e-9) * EDIT_GRID + self._interval

    async def _flush_later(self, job_id: str, wait: float) -> None:
        await self._sleep(wait)
        pending = self._pending.pop(job_id, None)
        if pending is not None:
            await self._put(*pending, force=True)

    def remember_position(self, job_id: str, position: int | None) -> None:
        self._positions[job_id] = (self._clock(), position)

    def forget_position(self, job_id: str) -> None:
        self._positions.pop(job_id, None)

    def position_worth_showing(self, job_id: str, position: int) -> bool:
        """Near the front (`NEAR_FRONT`) every move that will be seen is shown; farther back at most once a
        minute, to spare Discord.

        A long line moves a little with every job that starts: showing each fifth of the way, as this once
        did, cost a job at the back of 1,000 about 20 edits while it waited; every 30 s (and every move within
        5 of the front) still cost 5.1 position edits per job with 1,000 jobs under a ceiling of 50, waits of
        up to 4 minutes (`bench/load.py`). Once a minute, a person far back still sees the line move: at
        place 900 of a line taking 4 jobs a second, 900, then 660, 420, 180, then it starts.

        Near the front, a place is shown only if the job would hold it for `FLEETING_SECONDS` or more at the
        pace its line moved since it was last shown: with 4 jobs starting a second, "3rd in line" would be on
        screen for under a second before "Submitted" replaced it.
        """
        shown_at, shown = self._positions.get(job_id, (0.0, None))
        if shown == position:
            return False
        now = self._clock()
        if (
            shown is None
            or now - shown_at >= FAR_POSITION_SECONDS
            or (position <= NEAR_FRONT and not self._starts_soon(position, shown - position, now - shown_at))
        ):
            self._positions[job_id] = (now, position)
            return True
        return False

    @staticmethod
    def _starts_soon(position: int, moved: int, seconds: float) -> bool:
        """Whether a job at `position` leaves the line within `FLEETING_SECONDS`, if its line keeps moving
        `moved` places every `seconds`."""
        return moved > 0 and position * seconds < moved * FLEETING_SECONDS

    def _close(self, job_id: str) -> None:
        self._closed[job_id] = None
        while len(self._closed) > CLOSED_MEMORY:
            self._closed.popitem(last=False)
        self._pending.pop(job_id, None)
        self._shown.pop(job_id, None)
        self._positions.pop(job_id, None)

    async def deliver(
        self, job: JobRecord, images: list[OutputImage], *, resumed: bool, reply: Reply | None = None
    ) -> Delivered:
        """Post the result under the job's lock, after which no progress edit can land."""
        async with self._lock(job.id):
            self._close(job.id)
            try:
                return await self._delivery.deliver(job, images, resumed=resumed, reply=reply)
            finally:
                self._locks.pop(job.id, None)

    async def fail(self, job: JobRecord, text: str) -> None:
        async with self._lock(job.id):
            self._close(job.id)
            await self._delivery.report_failure(job, text)
        self._locks.pop(job.id, None)
        self.rested(job)

    async def finish(self, job: JobRecord, text: str) -> None:
        async with self._lock(job.id):
            self._close(job.id)
            await self._delivery.show_progress(job, text)
        self._locks.pop(job.id, None)
        self.rested(job)

    def rested(self, job: JobRecord) -> None:
        """The job came to rest (delivered, undelivered, failed or canceled): tell `on_rest` (the audit line),
        in the background, so a slow audit channel never holds a job up."""
        if self._on_rest is not None:
            self._spawn(self._on_rest(job))
