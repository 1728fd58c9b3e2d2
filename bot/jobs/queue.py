"""Admission and scheduling: who may queue a job, the fair line, and when the next job may start.

Every path that starts a job (a command, a button, a form) comes through `JobQueue.admit`: the one place
that refuses a request before anything is stored or spent.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterable

from bot import metrics, servers
from bot.clock import Clock
from bot.errors import NotAllowedError, QueueFullError, ShuttingDownError, UserFacingError
from bot.jobs import texts
from bot.jobs._board import ProgressBoard
from bot.jobs._waiting import Waiting
from bot.jobs.budgets import Budgets
from bot.jobs.ceiling import Ceiling
from bot.jobs.config import EngineConfig
from bot.jobs.models import JobRecord, JobState
from bot.jobs.scheduler import FairScheduler
from bot.jobs.store import JobStore
from bot.sessions.admission import join_session

log = logging.getLogger(__name__)

POSITION_COALESCE_SECONDS = 1.0
"""A burst of starts moves many places in line at once: one round of position edits covers them all (a second
of starts under a ceiling of 10 is about three moves, shown as one edit)."""
POSITION_EDITS_AT_ONCE = 10
"""Places in line are edited at most this many at a time (`bot.app.DISCORD_CONNECTIONS` connections in all)."""


class JobQueue:
    """The durable, fair line of jobs waiting for a slot under the plan's parallel-job ceiling.

    `start(job_id, record)` is called for each job that may start now; the caller reports back with
    `finished` (the slot is free) or `wait_for_slot` (Scenario had no slot after all).
    """

    def __init__(
        self,
        store: JobStore,
        board: ProgressBoard,
        config: EngineConfig,
        clock: Clock,
        *,
        start: Callable[[str, JobRecord | None], None],
        spawn: Callable[[Awaitable[None]], None],
        budgets: Budgets,
    ) -> None:
        self._store = store
        self._budgets = budgets
        self._board = board
        self._config = config
        self._clock = clock
        self._start = start
        self._spawn = spawn
        self.scheduler = FairScheduler(config.max_parallel)
        self.ceiling = Ceiling(
            self.scheduler, cap=config.max_parallel, probe_seconds=config.ceiling_probe_seconds, clock=clock
        )
        self._queued = Waiting()
        self._admit_lock = asyncio.Lock()
        self._blocked_until: float | None = None
        self._positions_task: asyncio.Task[None] | None = None
        self.open = False
        self.closing = False
        metrics.watch_queue(
            waiting=lambda: self.waiting,
            running=lambda: self.running,
            ceiling=lambda: float("nan") if self.limit is None else self.limit,
        )

    # -- admission -------------------------------------------------------------------------------------
    def check_capacity(self, user_id: int, queued: int | None = None) -> None:
        """Raise the reply a requester gets when they cannot queue another job right now (`queued`: how many of
        theirs wait in line, if known better than this process knows)."""
        if self.closing:
            raise ShuttingDownError(texts.RESTARTING)
        if (self.queued_count(user_id) if queued is None else queued) >= self._config.max_queued_per_user:
            raise QueueFullError(texts.queue_full(self._config.max_queued_per_user))

    async def admit(self, job: JobRecord, *, confirmed: bool = False) -> int:
        """Check, price, store and queue a new job; returns its place in line (1 = next).

        Raises `budgets.ConfirmationNeeded` when its price needs the requester's Run first (`confirmed` skips it).
        """
        rules = await self.check_server(job)  # before Scenario is asked anything, even a free price quote
        job = await self._budgets.price(job, confirmed=confirmed)  # the dry run, outside the lock
        async with self._admit_lock:
            queued, queued_here = await self.waiting_for(job)
            self.check_capacity(job.user_id, queued)
            self.screen(job, rules, queued_here)  # again, with the line as it is now
            job = await join_session(self._store, job)
            job = job.model_copy(update={"state": JobState.QUEUED, "created_at": self._clock.now()})
            await self._budgets.add(job)  # stored only within every budget, its estimate reserved
            self._queued[job.id] = job
            self._enter_line(job)
        position = await self.place(job.id) or 1
        self._board.remember_position(job.id, position)
        await self._board.show(job, texts.queued_text(position))
        self.pump()
        return position

    async def check_server(self, job: JobRecord) -> servers.ServerSettings | None:
        """Raise the reply for a job its server's `/config` rules refuse (`bot.servers.screen`); returns the rules.
        Read from the store every time: another process (or a moment ago) may have changed them."""
        if job.guild_id is None:
            return None
        rules = await self._store.server_settings(job.guild_id)
        self.screen(job, rules)
        return rules

    def screen(self, job: JobRecord, rules: servers.ServerSettings | None, queued_here: int | None = None) -> None:
        if rules is not None:
            if queued_here is None:
                queued_here = self.queued_count(job.user_id, job.guild_id)
            servers.screen(job, rules, queued_here=queued_here)

    async def waiting_for(self, job: JobRecord) -> tuple[int, int]:
        """(the requester's jobs in line, those of them from this job's server): checked under the admit lock."""
        return self.queued_count(job.user_id), self.queued_count(job.user_id, job.guild_id)

    def _enter_line(self, job: JobRecord) -> None:
        self.scheduler.add(job.id, job.user_id)

    async def place(self, job_id: str) -> int | None:
        """A queued job's 1-based place in line now, or None."""
        return self.scheduler.position(job_id)

    def queued_count(self, user_id: int, guild_id: int | None = None) -> int:
        """How many of a user's jobs wait in line (in one server, when given)."""
        return self._queued.count(user_id, guild_id)

    def position(self, job_id: str) -> int | None:
        """A queued job's 1-based place in line, or None."""
        return self.scheduler.position(job_id)

    async def cancel(self, job_id: str, user_id: int) -> JobRecord:
        """Cancel one of the user's own queued jobs."""
        job = await self._store.get(job_id)
        if job is None or job.user_id != user_id:
            raise NotAllowedError(texts.no_such_job(job_id))
        if job.state is not JobState.QUEUED:
            raise UserFacingError(texts.not_cancelable(job_id, job.state.value))
        updated = await self._store.transition(job_id, [JobState.QUEUED], JobState.CANCELED, last_error="Canceled")
        if updated is None:
            raise UserFacingError(texts.just_started(job_id))
        metrics.job_ended(JobState.CANCELED.value)
        self._leave_line(job_id)
        self._queued.pop(job_id, None)
        await self._board.finish(updated, texts.CANCELED_TEXT)
        self._positions_changed()
        return updated

    def _leave_line(self, job_id: str) -> None:
        self.scheduler.remove(job_id)

    # -- scheduling ------------------------------------------------------------------------------------
    async def resume(self) -> list[JobRecord]:
        """At start: take up every unfinished job (see `load`); returns them, for their restart notes."""
        unfinished = list(await self._store.unfinished())
        self.load(unfinished)
        return unfinished

    def load(self, unfinished: Iterable[JobRecord]) -> None:
        """After a restart: queued jobs take their place in line, the others hold a slot and resume."""
        for job in unfinished:
            if job.state is JobState.QUEUED:
                self._queued[job.id] = job
                self.scheduler.add(job.id, job.user_id)
            else:
                if job.state in (JobState.SUBMITTING, JobState.RUNNING):  # a delivering one is done at Scenario
                    self.scheduler.started(job.id)
                self._start(job.id, None)

    def pump(self) -> None:
        """Start every job a free slot allows, fairly."""
        if self.closing or not self.open:  # resumed jobs are loaded before anything new runs
            return
        if self._blocked_until is not None and self._clock.monotonic() < self._blocked_until:
            return
        self._blocked_until = None
        started = False
        while (job_id := self.ceiling.next_job()) is not None:
            record = self._queued.pop(job_id, None)
            self._board.forget_position(job_id)
            self._start(job_id, record)
            started = True
        self.ceiling.after_pump()
        if started:
            self._positions_changed()

    def finished(self, job_id: str) -> None:
        """A job's run ended: free its slot if it still held one (see `slot_free`), and start the next."""
        self.scheduler.finished(job_id)
        self.ceiling.forget(job_id)
        self._queued.pop(job_id, None)
        self.pump()

    async def wait_for_slot(self, job: JobRecord, plan_limit: int | None) -> None:
        """Scenario had no free slot: back to the head of the line, and start nothing for a little while."""
        self.scheduler.finished(job.id)
        self.ceiling.refused(job.id, plan_limit)
        queued = await self._store.transition(job.id, [JobState.SUBMITTING], JobState.QUEUED, submit_started_at=None)
        if queued is None:
            return
        self._queued[job.id] = queued
        self.scheduler.requeue_front(job.id, job.user_id)
        self._blocked_until = self._clock.monotonic() + self._config.slot_retry_seconds
        self._spawn(self._retry_later())
        await self._board.show(queued, texts.queued_text(1, waiting_for_slot=True))

    def slot_free(self, job_id: str) -> None:
        """Scenario is done with a job (its images may still be posting): its slot goes to the next job."""
        self.scheduler.finished(job_id)
        self._blocked_until = None
        self.pump()

    def answered(self, job_id: str, accepted: bool) -> None:
        """Scenario answered a job's POST (other than with 429): the ceiling may let the next one go."""
        self.ceiling.answered(job_id, accepted=accepted)
        self.pump()

    async def _retry_later(self) -> None:
        await self._clock.sleep(self._config.slot_retry_seconds)
        self.pump()

    def _positions_changed(self) -> None:
        if self._positions_task is None or self._positions_task.done():
            # Not any one job's work, though a job's task may trigger it: a fresh context for its log lines.
            self._positions_task = asyncio.create_task(self._refresh_positions(), context=contextvars.Context())

    async def _refresh_positions(self) -> None:
        await self._clock.sleep(POSITION_COALESCE_SECONDS)
        moved = []
        for job_id, position in (await self.current_positions()).items():
            job = self._queued.get(job_id)
            if job is not None and self._board.position_worth_showing(job_id, position):
                moved.append((job, position))
        # A few at a time: once a minute a long line moves a thousand places at once, and a result, a progress
        # edit or a new command's answer must not wait behind that wave for a connection to Discord.
        edits = asyncio.Semaphore(POSITION_EDITS_AT_ONCE)

        async def show(job: JobRecord, position: int) -> None:
            async with edits:
                if job.id in self._queued:  # not started while it waited its turn: "Submitted" is not undone
                    await self._board.show(job, texts.queued_text(position))

        await asyncio.gather(*(show(job, position) for job, position in moved))

    def positions(self) -> dict[str, int]:
        """Every queued job's place in line, as this process last knew it."""
        return self.scheduler.positions()

    async def current_positions(self) -> dict[str, int]:
        """Every queued job's place in line now."""
        return self.scheduler.positions()

    @property
    def waiting(self) -> int:
        return len(self._queued)

    @property
    def running(self) -> int:
        """Jobs holding a Scenario slot."""
        return len(self.scheduler.running)

    @property
    def limit(self) -> int | None:
        """The ceiling in force (None while it is being learned)."""
        return self.scheduler.limit

    async def hand_back(self) -> None:
        """After the engine stopped its jobs: hand them to other processes (a shared line has them)."""

    async def close(self) -> None:
        self.closing = True
        if self._positions_task is not None:
            self._positions_task.cancel()
            await asyncio.gather(self._positions_task, return_exceptions=True)
