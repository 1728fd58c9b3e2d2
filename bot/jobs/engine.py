"""The job engine: the one owner of every job's life, from admission to its images posted exactly once.

It is free of Discord (it posts through a `Delivery`) and made of one part per idea:

* `queue.JobQueue` — admission and scheduling: who may queue, the fair line, the parallel-job ceiling;
* `_run.JobRunner` — one job's run, its state machine (`_submission.Submitter` owns the paid POST);
* `_board.ProgressBoard` — each job's status message: throttled edits, one lock per job;
* `texts` — every word a requester reads.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot import logcontext
from bot.clock import SYSTEM_CLOCK, Clock
from bot.errors import NotAllowedError, UserFacingError
from bot.jobs import texts
from bot.jobs._board import ProgressBoard
from bot.jobs._run import JobRunner
from bot.jobs._shared_queue import SharedQueue, SharesLine, process_name
from bot.jobs._submission import JobContext, NoSlot
from bot.jobs.budgets import Budgets
from bot.jobs.config import EngineConfig
from bot.jobs.delivery import Delivered, Delivery, DeliveryError, OutputImage, Reply
from bot.jobs.models import JobRecord, JobState
from bot.jobs.queue import JobQueue
from bot.jobs.status import EngineStatus, read_status
from bot.jobs.store import JobStore
from bot.scenario import ScenarioClient, StatusWatch

log = logging.getLogger(__name__)


class JobEngine:
    """Runs jobs under a fair, capped queue and keeps every one resumable across restarts."""

    def __init__(
        self,
        store: JobStore,
        scenario: ScenarioClient,
        delivery: Delivery,
        config: EngineConfig | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        audit: Callable[[JobRecord], Awaitable[None]] | None = None,
    ) -> None:
        """`audit` hears of every job that comes to rest (`/config audit_channel`)."""
        self.store = store
        self.config = config or EngineConfig()
        self._clock = clock
        self.clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._aux_tasks: set[asyncio.Task[None]] = set()
        self.board = ProgressBoard(delivery, self.config.progress_interval, clock, self._spawn_aux, audit)
        self.budgets = Budgets(store, scenario, self.config, clock)
        parts = (store, self.board, self.config, clock)
        hooks = {"start": self._spawn, "spawn": self._spawn_aux, "budgets": self.budgets}
        self.queue: JobQueue
        if isinstance(store, SharesLine):  # PostgreSQL: every process works one line
            line = store.line(process_name(), self.config.lease_seconds)
            self.queue = SharedQueue(
                *parts, line=line, held=self._tasks.keys, lost=self._stop_job, announce=self._announce, **hooks
            )
        else:
            self.queue = JobQueue(*parts, **hooks)  # type: ignore[arg-type]
        self.watch: StatusWatch | None = None
        if self.config.status_mode == "batched":
            self.watch = StatusWatch(scenario, tick=self.config.status_tick, clock=clock.monotonic, sleep=clock.sleep)
        context = JobContext(
            store, scenario, self.board, self.config, clock, self.queue.answered, self.queue.slot_free, self.watch
        )
        self.runner = JobRunner(context)

    # -- life of the engine ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume every unfinished job: queued ones take their place in line, the rest continue."""
        unfinished = await self.queue.resume()
        if unfinished:
            log.info("Resuming %d unfinished job(s) after a restart", len(unfinished))
        self._announce(unfinished)
        self.queue.open = True
        self.queue.pump()

    def _announce(self, resumed: Sequence[JobRecord]) -> None:
        """Tell each requester of a resumed job (after a restart, or taken over from a stopped process) that it
        continues, with where it is now."""
        positions = self.queue.positions()
        for job in resumed:
            if job.state is JobState.DELIVERING:
                continue  # its result may be posted already (the crash came before it was recorded): no overwrite
            if job.state is JobState.QUEUED:
                self.board.remember_position(job.id, positions.get(job.id))
                text = texts.queued_text(positions.get(job.id))
            else:
                text = texts.running_text(job.scenario_status or "queued", job.progress, self.runner.elapsed(job))
            with logcontext.job_context(job.id, job.guild_id, job.scenario_job_id):  # the notice's task is the job's
                self._spawn_aux(self.board.show(job, f"{texts.RESTART_NOTE}\n{text}", force=True))

    async def shutdown(self) -> None:
        """Stop taking jobs and stop working; every record stays resumable, running Scenario jobs included."""
        in_flight = len(self._tasks) + self.queue.waiting
        await self.queue.close()
        tasks = [*self._tasks.values(), *self._aux_tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.queue.hand_back()
        if self.watch is not None:
            await self.watch.close()
        log.info("Job engine stopped; %d unfinished job(s) will resume at the next start", in_flight)

    # -- what requesters do ----------------------------------------------------------------------------
    def check_capacity(self, user_id: int) -> None:
        """Raise the reply a requester gets when they cannot queue another job right now."""
        self.queue.check_capacity(user_id)

    async def check_request(self, job: JobRecord) -> None:
        """Raise the reply for a request that may not be queued now (capacity, the server's `/config` rules),
        before anything is spent on it; `submit` checks the same again."""
        self.queue.check_capacity(job.user_id)
        await self.queue.check_server(job)

    async def submit(self, job: JobRecord, *, confirmed: bool = False) -> int:
        """Admit a new job (the only way in); returns its place in line (1 = next).

        Raises `ConfirmationNeeded` when its price is above `confirm_above_cu`: the request is kept until its
        requester runs it (`run_confirmed`) or cancels it (`cancel_confirmation`)."""
        return await self.queue.admit(job, confirmed=confirmed)

    async def run_confirmed(self, job_id: str, context: dict[str, Any]) -> JobRecord:
        """Run a request its requester confirmed, answering through `context` (the Run click's interaction:
        `user_id`, `interaction_token`…, see `cogs._common.requester_context`)."""
        job = await self._take_confirmation(job_id, context["user_id"])
        job = job.model_copy(update=context)
        await self.submit(job, confirmed=True)
        return job

    async def cancel_confirmation(self, job_id: str, user_id: int) -> None:
        """Drop a request waiting for confirmation: nothing was queued or spent."""
        await self._take_confirmation(job_id, user_id)

    async def _take_confirmation(self, job_id: str, user_id: int) -> JobRecord:
        job = await self.store.take_confirmation(job_id)
        if job is not None and job.user_id != user_id:
            await self.store.add_confirmation(job)  # not theirs to decide: it stays for its requester
            raise NotAllowedError(texts.no_such_job(job_id))
        if job is None:
            raise UserFacingError(texts.CONFIRM_GONE)
        return job

    def position(self, job_id: str) -> int | None:
        """A queued job's 1-based place in line, or None."""
        return self.queue.position(job_id)

    async def cancel(self, job_id: str, user_id: int) -> JobRecord:
        """Cancel one of the user's own queued jobs."""
        return await self.queue.cancel(job_id, user_id)

    async def find_visible(self, job_id: str, user_id: int, guild_id: int | None) -> JobRecord:
        """The job, if this person may act on it here (see `JobRecord.visible_to`); else `NotAllowedError`."""
        job = await self.store.get(job_id)
        if job is None or not job.visible_to(user_id, guild_id):
            raise NotAllowedError(texts.no_such_job(job_id))
        return job

    def check_repostable(self, job: JobRecord) -> None:
        """Raise the reply for a job whose images cannot be posted again (yet)."""
        if job.state.active:  # its own delivery is still to come: never two posts racing
            raise UserFacingError(texts.still_working(job.id, job.state.value))
        if not job.output_asset_ids:
            raise UserFacingError(texts.no_images(job.id, job.state.value, job.last_error))

    async def repost(self, job: JobRecord, reply: Reply) -> Delivered:
        """Post a finished job's images again through `reply` (`/show`); an undelivered job becomes delivered."""
        self.check_repostable(job)
        try:
            with logcontext.job_context(job.id, job.guild_id, job.scenario_job_id):
                return await self.runner.repost(job, reply)
        except DeliveryError as exc:
            raise UserFacingError(f"Discord did not take the result: {exc}") from exc

    async def images(self, job: JobRecord, *, first: int | None = None) -> list[OutputImage]:
        """A finished job's images (only the `first` few when given), fetched from Scenario again."""
        if first is not None:
            job = job.model_copy(update={"output_asset_ids": job.output_asset_ids[:first]})
        return await self.runner.download(job)

    # -- what operators see ----------------------------------------------------------------------------
    async def status(self) -> EngineStatus:
        """The line, the ceiling, the last errors, the p95 wait of the last hour and today's spend (`/status`)."""
        return await read_status(self.queue, self.store, self._clock.now())

    # -- tasks -----------------------------------------------------------------------------------------
    def _spawn(self, job_id: str, record: JobRecord | None) -> None:
        # A fresh context: a job may be started from another job's task (its slot freed), whose log fields it
        # must not inherit.
        task = asyncio.create_task(self._run(job_id, record), name=f"job-{job_id}", context=contextvars.Context())
        self._tasks[job_id] = task

    async def _run(self, job_id: str, record: JobRecord | None) -> None:
        # This task is the job's own (started in a fresh context): every line logged in it, and in the tasks it
        # spawns, carries the job's fields.
        logcontext.bind_job(job_id)
        outcome: NoSlot | None = None
        try:
            # A job taken from the line is as it was stored (cancel takes it out of the line first), so the
            # record kept in memory saves a read; a resumed job (record None) is read from the store.
            job = record or await self.store.get(job_id)
            if job is None:
                return
            logcontext.bind_job(job_id, job.guild_id, job.scenario_job_id)
            outcome = await self.runner.run(job, resumed=record is None)
            if outcome is not None:
                await self.queue.wait_for_slot(outcome.job, outcome.limit)
        finally:
            self._tasks.pop(job_id, None)
            if outcome is None:
                self.queue.finished(job_id)

    def _stop_job(self, job_id: str) -> None:
        """Another process took this job over (this one's lease lapsed): stop working on it here."""
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()

    def _spawn_aux(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._aux_tasks.add(task)
        task.add_done_callback(self._aux_tasks.discard)
