"""The job queue when every process works one line in PostgreSQL (`_postgres_line.PostgresLine`).

The same admission and position edits as `JobQueue`; what differs is where the line and the ceiling live:

* **Claims.** A wake-up (a job queued anywhere — `NOTIFY` — a slot freed here, a periodic look) runs one
  claiming task: it takes jobs from the head of the shared line while the plan's ceiling, counted across every
  process, allows, and starts each here.
* **The ceiling** is the `plan` row, learned from Scenario's 429s and shared. While it is unknown each process
  sends one POST at a time (the first 429 sets it); probing for a grown plan is per process, one job beyond the
  ceiling at most across all of them (the claim checks it under the line's lock).
* **Leases.** Every `look_seconds` this process renews the leases of the jobs it holds, takes over jobs whose
  process died (their lease lapsed), and stops working on any job another process took from it. At a graceful
  stop it hands its jobs back (`hand_back`), so another process continues them at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

import asyncpg

from bot.jobs import texts
from bot.jobs._postgres_line import Claim, PostgresLine
from bot.jobs.ceiling import Probing
from bot.jobs.models import JobRecord
from bot.jobs.queue import JobQueue

log = logging.getLogger(__name__)

LOOK_SECONDS = 5.0
"""The periodic look at most this far apart (shorter for short leases: a third of `JOB_LEASE_SECONDS`)."""


@runtime_checkable
class SharesLine(Protocol):
    """A store whose database holds a line every process can work (PostgreSQL)."""

    def line(self, owner: str, lease_seconds: float) -> PostgresLine: ...


def process_name() -> str:
    """This process's name as a lease owner: host and pid (for people reading the table), and a random part, so
    a pid reused after a restart is never taken for the process that died."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


class SharedQueue(JobQueue):
    """`JobQueue` over the shared line: `held()` lists the jobs this process runs, `lost(job_id)` stops one,
    `announce(jobs)` tells the requesters of jobs taken over that they continue."""

    def __init__(
        self,
        *args: object,
        line: PostgresLine,
        held: Callable[[], Iterable[str]],
        lost: Callable[[str], None],
        announce: Callable[[Sequence[JobRecord]], None],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._line = line
        self._held = held
        self._lost = lost
        self._announce = announce
        self._look_seconds = min(LOOK_SECONDS, line.lease_seconds / 3)
        self._places: dict[str, int] = {}
        """Places in the whole line, as last read."""
        self._waiting = 0
        self._running = 0
        self._ceiling: int | None = None
        self._probing = Probing(self._config.ceiling_probe_seconds, self._clock)
        self._wake = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None

    # -- admission -------------------------------------------------------------------------------------
    async def waiting_for(self, job: JobRecord) -> tuple[int, int]:
        return await self._line.waiting_for(job.user_id, job.guild_id)

    def _enter_line(self, job: JobRecord) -> None:
        """The insert put it in line (a trigger gave it its turn and told every process)."""

    async def place(self, job_id: str) -> int | None:
        place = await self._line.position(job_id)
        if place is not None:
            self._places[job_id] = place
        return place

    def _leave_line(self, job_id: str) -> None:
        self._places.pop(job_id, None)

    def position(self, job_id: str) -> int | None:
        return self._places.get(job_id)

    def positions(self) -> dict[str, int]:
        return dict(self._places)

    async def current_positions(self) -> dict[str, int]:
        self._places = await self._line.positions()
        return self._places

    @property
    def waiting(self) -> int:
        return self._waiting

    @property
    def running(self) -> int:
        return self._running

    @property
    def limit(self) -> int | None:
        cap = self._config.max_parallel
        return self._ceiling if cap is None else min(self._ceiling or cap, cap)

    # -- life ------------------------------------------------------------------------------------------
    async def resume(self) -> list[JobRecord]:
        """At start: listen, take over every job whose process is gone, and start looking periodically."""
        await self._listen()
        taken = await self._take_over()
        await self.current_positions()
        self._loops = [
            asyncio.create_task(self._claiming(), name="line-claims", context=contextvars.Context()),
            asyncio.create_task(self._looking(), name="line-looks", context=contextvars.Context()),
        ]
        return taken

    async def close(self) -> None:
        await super().close()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self._listener is not None:
            await self._listener.close()

    async def hand_back(self) -> None:
        try:
            handed = await self._line.hand_back()
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning(
                "Could not hand this process's jobs back (%s): another process takes them over within %g s",
                type(exc).__name__,
                self._line.lease_seconds,
            )
            return
        if handed:
            log.info("Handed %d job(s) back to the shared line for another process", handed)

    async def _listen(self) -> None:
        def on_notice(payload: str) -> None:
            kind, _, job_id = payload.partition(" ")
            if kind == "claimed":
                self._queued.pop(job_id, None)  # a job this process admitted may have been taken by another
                self._places.pop(job_id, None)
                if self._queued:
                    self._positions_changed()  # the line moved: our waiting jobs' places changed
            elif kind == "released":
                self._spawn(self._look())
            else:
                self.pump()

        self._listener = await self._line.listen(on_notice)

    # -- claims ----------------------------------------------------------------------------------------
    def pump(self) -> None:
        if not self.closing and self.open:
            self._wake.set()

    async def _claiming(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._claim_all()
            except (OSError, asyncpg.PostgresError) as exc:  # the next wake-up or look tries again
                log.warning("Could not take jobs from the shared line: %s", type(exc).__name__)

    async def _claim_all(self) -> None:
        cap = self._config.max_parallel
        started = False
        while not self.closing:
            probing = self._probing
            claim = await self._line.claim(
                cap=cap, unknown_ok=not probing.unanswered, probe_ok=probing.may_probe(self.limit, cap)
            )
            self._note(claim)
            job = claim.job
            if job is None:
                break
            probing.started(
                job.id, unknown=claim.ceiling is None and cap is None, probe_beyond=self.limit if claim.probe else None
            )
            self._queued.pop(job.id, None)
            self._places.pop(job.id, None)
            self._board.forget_position(job.id)
            self._start(job.id, job)
            started = True
        if started:
            self._positions_changed()

    def _note(self, claim: Claim) -> None:
        self._ceiling = claim.ceiling
        self._waiting = claim.waiting - (claim.job is not None)
        self._running = claim.in_flight + (claim.job is not None)
        self._probing.note_waiting(bool(self._waiting))

    # -- what the runs report ----------------------------------------------------------------------------
    def finished(self, job_id: str) -> None:
        self._probing.forget(job_id)
        self._queued.pop(job_id, None)
        self.pump()

    def slot_free(self, job_id: str) -> None:
        self._spawn(self._slot_freed())

    async def _slot_freed(self) -> None:
        await self._line.slot_freed()
        self.pump()

    def answered(self, job_id: str, accepted: bool) -> None:
        if self._probing.forget(job_id) and accepted and self._ceiling is not None:
            self._spawn(self._grow(self._ceiling))
        self.pump()

    async def _grow(self, ceiling: int) -> None:
        if await self._line.grow(ceiling):
            self._ceiling = ceiling + 1
            self._probing.restart_wait()
            log.warning("Scenario took one job more: the ceiling is now %d", ceiling + 1)

    async def wait_for_slot(self, job: JobRecord, plan_limit: int | None) -> None:
        """Scenario had no free slot: the job goes back to the head of the shared line, the ceiling is what
        Scenario said, and no process starts a job for `slot_retry_seconds` (or until a slot frees)."""
        self._probing.refused(job.id, known=self.limit is not None)
        learned = plan_limit or max((await self._line.counts())[1] - 1, 1)
        if self._config.max_parallel is not None:
            learned = min(learned, self._config.max_parallel)
        if learned != self._ceiling:
            log.warning("Scenario's plan allows %d parallel jobs: the ceiling is now %d", plan_limit or 0, learned)
        self._ceiling = learned
        queued = await self._line.requeue_front(job.id, learned, self._config.slot_retry_seconds)
        if queued is None:
            return
        self._queued[job.id] = queued
        self._spawn(self._retry_later())
        await self._board.show(queued, texts.queued_text(1, waiting_for_slot=True))

    # -- leases ----------------------------------------------------------------------------------------
    async def _looking(self) -> None:
        while True:
            # Real time, not the engine's clock: leases run on the database's clock, which no fake clock moves.
            await asyncio.sleep(self._look_seconds)
            try:
                await self._look()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("The periodic look at the shared line failed: %s", type(exc).__name__)

    async def _look(self) -> None:
        """Renew this process's leases, stop jobs taken from it, take over jobs of dead processes, claim."""
        if self.closing:
            return
        if self._listener is None or self._listener.is_closed():
            await self._listen()  # notifications were lost meanwhile: this look makes up for them
        running = set(self._held())
        held = await self._line.renew()
        for job_id in set(self._queued) - held:  # claimed by another process, canceled, or taken over
            self._queued.pop(job_id, None)
        if missing := running - held:
            for job_id in await self._line.lost(sorted(missing)):
                log.warning("Job %s was taken over by another process: stopping it here", job_id)
                self._lost(job_id)
        if taken := await self._take_over():
            self._announce(taken)
        self._waiting, self._running = await self._line.counts()
        self.pump()
        if self._queued:
            self._positions_changed()

    async def _take_over(self) -> list[JobRecord]:
        taken = await self._line.take_over()
        for job in taken.waiting:
            self._queued[job.id] = job
        for job in taken.resumed:
            self._start(job.id, None)
        return [*taken.waiting, *taken.resumed]
