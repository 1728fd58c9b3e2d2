"""The job engine: from a queued record to its images posted exactly once, across restarts.

Every step first writes its intent to the store, so a process killed at any instant resumes where it was:

    queued ──► submitting ──► running ──► delivering ──► delivered
       │            │            │             │
       └────────────┴────────────┴─────────────┴──► failed / canceled

* `submitting` is recorded *before* the paid `POST /generate`; a record found in that state after a restart is
  resolved by looking for its job among Scenario's recent jobs before anything is sent again.
* `running` holds the Scenario job id, recorded right after the POST answers.
* `delivering` is recorded when Scenario has the images; a restart re-posts idempotently (see `Delivery`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.errors import NotAllowedError, QueueFullError, ShuttingDownError, UserFacingError
from bot.jobs import progress
from bot.jobs._board import ProgressBoard
from bot.jobs.delivery import Delivery, DeliveryError, OutputImage
from bot.jobs.models import ACTIVE_STATES, JobRecord, JobState, utcnow
from bot.jobs.scheduler import FairScheduler
from bot.jobs.store import JobStore
from bot.scenario import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    Job,
    JobCanceledError,
    JobFailedError,
    JobTimeoutError,
    PermissionDeniedError,
    PlanLimitError,
    ScenarioClient,
    ScenarioError,
    ServerError,
    SubmitUncertainError,
)

log = logging.getLogger(__name__)

MISCONFIGURED = (
    "The bot is misconfigured: Scenario refused its credentials or plan. An admin can find the cause in the "
    "bot's logs. Nothing was charged."
)
MAX_SUBMIT_ATTEMPTS = 3
MAX_DELIVERY_ATTEMPTS = 3
CLAIM_WINDOW = timedelta(minutes=10)
"""A lost submission is looked for among Scenario jobs created shortly before it was sent; only records touched
since a little before that can have claimed one of them (the store filters on `updated_at`)."""


class JobEngine:
    """Runs jobs under a fair, capped queue; free of Discord, driven through `Delivery`."""

    def __init__(
        self,
        store: JobStore,
        scenario: ScenarioClient,
        delivery: Delivery,
        *,
        max_parallel: int = 3,
        max_queued_per_user: int = 5,
        job_timeout: float = 900.0,
        download_cap: int = 64 * 1024 * 1024,
        progress_interval: float = 2.0,
        slot_retry_seconds: float = 10.0,
        submit_settle_seconds: float = 75.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.scenario = scenario
        self.delivery = delivery
        self.scheduler = FairScheduler(max_parallel)
        self.max_queued_per_user = max_queued_per_user
        self.job_timeout = job_timeout
        self.download_cap = download_cap
        self.slot_retry_seconds = slot_retry_seconds
        # Longer than a request to Scenario may take: by then an interrupted POST /generate has created its job
        # or never will, so not finding it means it is safe to send again.
        self.submit_settle = submit_settle_seconds
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._started = False
        self._closing = False
        self._submit_lock = asyncio.Lock()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._aux_tasks: set[asyncio.Task[None]] = set()
        self._queued: dict[str, JobRecord] = {}
        self._blocked_until: float | None = None
        self._positions_task: asyncio.Task[None] | None = None
        self.progress = ProgressBoard(delivery, progress_interval, clock, sleep, self._spawn_aux)

    # -- public ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume every unfinished job: queued ones are scheduled, the rest continue where they stopped."""
        unfinished = await self.store.unfinished()
        for job in unfinished:
            if job.state is JobState.QUEUED:
                self._queued[job.id] = job
                self.scheduler.add(job.id, job.user_id)
            else:
                self.scheduler.started(job.id)
                self._spawn(job.id, resumed=True)
        if unfinished:
            log.info("Resuming %d unfinished job(s) after a restart", len(unfinished))
        positions = self.scheduler.positions()
        for job in unfinished:
            if job.state is JobState.DELIVERING:
                continue  # its result may be posted already (the crash came before it was recorded): no overwrite
            if job.state is JobState.QUEUED:
                self.progress.remember_position(job.id, positions.get(job.id))
                text = progress.queued_text(positions.get(job.id))
            else:
                text = progress.running_text(job.scenario_status or "queued", job.progress, self._elapsed(job))
            self._spawn_aux(self.progress.show(job, f"{progress.RESTART_NOTE}\n{text}", force=True))
        self._started = True
        self._pump()

    def queued_count(self, user_id: int) -> int:
        """How many of a user's jobs wait in line."""
        return sum(1 for job in self._queued.values() if job.user_id == user_id)

    def check_capacity(self, user_id: int) -> None:
        """Raise the reply a requester gets when they cannot queue another job right now."""
        if self._closing:
            raise ShuttingDownError("The bot is restarting. Please try again in a minute.")
        if self.queued_count(user_id) >= self.max_queued_per_user:
            raise QueueFullError(
                f"You already have {self.max_queued_per_user} jobs waiting. Wait for one to start, "
                "or cancel one with /jobs."
            )

    async def submit(self, job: JobRecord) -> int:
        """Store and queue a new job; returns its place in line (1 = next)."""
        async with self._submit_lock:
            self.check_capacity(job.user_id)
            job = job.model_copy(update={"state": JobState.QUEUED, "created_at": self._now()})
            await self.store.add(job)
            self._queued[job.id] = job
            self.scheduler.add(job.id, job.user_id)
        position = self.scheduler.position(job.id) or 1
        self.progress.remember_position(job.id, position)
        await self.progress.show(job, progress.queued_text(position))
        self._pump()
        return position

    def position(self, job_id: str) -> int | None:
        """A queued job's 1-based place in line, or None."""
        return self.scheduler.position(job_id)

    async def cancel(self, job_id: str, user_id: int) -> JobRecord:
        """Cancel one of the user's own queued jobs."""
        job = await self.store.get(job_id)
        if job is None or job.user_id != user_id:
            raise NotAllowedError(f"You have no job `{job_id}`.")
        if job.state is not JobState.QUEUED:
            raise UserFacingError(
                f"Job `{job_id}` is {job.state.value}; only queued jobs can be canceled. Scenario cannot stop "
                "a job once it is running."
            )
        updated = await self.store.transition(job_id, [JobState.QUEUED], JobState.CANCELED, last_error="Canceled")
        if updated is None:
            raise UserFacingError(f"Job `{job_id}` has just started and can no longer be canceled.")
        self.scheduler.remove(job_id)
        self._queued.pop(job_id, None)
        await self.progress.finish(updated, "🚫 Canceled — nothing was charged.")
        self._positions_changed()
        return updated

    async def shutdown(self) -> None:
        """Stop taking jobs and stop working; every record stays resumable, running Scenario jobs included."""
        self._closing = True
        in_flight = len(self._tasks) + len(self._queued)
        tasks = [*self._tasks.values(), *self._aux_tasks]
        if self._positions_task:
            tasks.append(self._positions_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        log.info("Job engine stopped; %d unfinished job(s) will resume at the next start", in_flight)

    # -- scheduling ------------------------------------------------------------------------------------
    def _pump(self) -> None:
        if self._closing or not self._started:  # resumed jobs are loaded before anything new runs
            return
        if self._blocked_until is not None and self._clock() < self._blocked_until:
            return
        self._blocked_until = None
        started = False
        while (job_id := self.scheduler.next_job()) is not None:
            record = self._queued.pop(job_id, None)
            self.progress.forget_position(job_id)
            self._spawn(job_id, resumed=False, record=record)
            started = True
        if started:
            self._positions_changed()

    def _block_for_slot(self) -> None:
        """Scenario has no free slot: start nothing until a job ends or a little time passes."""
        self._blocked_until = self._clock() + self.slot_retry_seconds

        async def retry_later() -> None:
            await self._sleep(self.slot_retry_seconds)
            self._pump()

        self._spawn_aux(retry_later())

    def _spawn(self, job_id: str, *, resumed: bool, record: JobRecord | None = None) -> None:
        task = asyncio.create_task(self._run(job_id, resumed=resumed, record=record), name=f"job-{job_id}")
        self._tasks[job_id] = task

    def _spawn_aux(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._aux_tasks.add(task)
        task.add_done_callback(self._aux_tasks.discard)

    def _positions_changed(self) -> None:
        if self._positions_task is None or self._positions_task.done():
            self._positions_task = asyncio.create_task(self._refresh_positions())

    async def _refresh_positions(self) -> None:
        await self._sleep(0.25)  # coalesce a burst of starts into one round of edits
        positions = self.scheduler.positions()
        updates = []
        for job_id, position in positions.items():
            job = self._queued.get(job_id)
            if job is not None and self.progress.position_worth_showing(job_id, position):
                updates.append(self.progress.show(job, progress.queued_text(position)))
        await asyncio.gather(*updates)

    # -- one job ---------------------------------------------------------------------------------------
    async def _run(self, job_id: str, *, resumed: bool, record: JobRecord | None = None) -> None:
        held_slot = False
        try:
            # A job taken from the line is as it was stored (cancel takes it out of the line first), so the
            # record kept in memory saves a read; `_submit` still moves it on only if it is still queued.
            job = record or await self.store.get(job_id)
            if job is None or job.state.terminal:
                return
            resumed_delivery = resumed and job.state is JobState.DELIVERING
            just_sent = job.state in (JobState.QUEUED, JobState.SUBMITTING)
            if job.state is JobState.QUEUED:
                job = await self._submit(job)
            elif job.state is JobState.SUBMITTING:
                job = await self._recover_submission(job)
            if job is not None and job.state is JobState.RUNNING:
                held_slot = True
                job = await self._wait_for_result(job, just_sent=just_sent)
            if job is not None and job.state is JobState.DELIVERING:
                held_slot = True
                await self._deliver(job, resumed=resumed_delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Job %s stopped on an unexpected error", job_id)
            await self._fail(job_id, "Something went wrong on the bot's side. The error was logged for the admin.")
        finally:
            self._tasks.pop(job_id, None)
            self.scheduler.finished(job_id)
            if held_slot:
                self._blocked_until = None
            self._pump()

    async def _submit(self, job: JobRecord) -> JobRecord | None:
        submitting = await self.store.transition(
            job.id,
            [JobState.QUEUED],
            JobState.SUBMITTING,
            submit_started_at=self._now(),
            attempts=job.attempts + 1,
        )
        if submitting is None:  # canceled while it waited
            return None
        await self.progress.show(submitting, progress.running_text("pending", 0.0, 0))
        return await self._send(submitting)

    async def _send(self, job: JobRecord) -> JobRecord | None:
        """`POST /generate` once; Scenario's answer decides the next state."""
        for attempt in range(job.attempts, MAX_SUBMIT_ATTEMPTS + 1):
            exclude = await self.store.scenario_job_ids_since(self._now() - CLAIM_WINDOW)
            try:
                result = await self.scenario.run_model(job.model_id, job.inputs, exclude_job_ids=exclude)
            except PlanLimitError as exc:
                return await self._wait_for_slot(job, exc)
            except SubmitUncertainError as exc:
                # The POST may have reached Scenario. Wait until it must have created its job or never will,
                # then look: adopt the job if it is there, else it is safe to send the request again.
                log.warning("Job %s: %s; looking again in %.0fs", job.id, exc, self.submit_settle)
                await self.progress.show(job, progress.CHECKING_TEXT)
                await self._sleep(self.submit_settle)
                found = await self._find_submitted(job, job.submit_started_at or job.created_at)
                if found is not None:
                    return await self._adopt(job, found)
                if attempt >= MAX_SUBMIT_ATTEMPTS:
                    return await self._fail(
                        job.id,
                        f"Scenario's answer to this request was lost ({exc.cause}) {attempt} times, and no job for "
                        "it could be found there. Nothing more was sent: please try again later.",
                    )
                log.info("Job %s: no job was created at Scenario; sending the request again", job.id)
                job = await self.store.update(job.id, attempts=attempt + 1)
                continue
            except (ServerError, APIConnectionError) as exc:
                if attempt >= MAX_SUBMIT_ATTEMPTS:
                    return await self._fail(job.id, f"Scenario is not answering properly ({exc}). Try later.")
                log.warning("Job %s: submit failed (%s); retrying", job.id, exc)
                await self._sleep(2.0 * attempt)
                job = await self.store.update(job.id, attempts=attempt + 1)
                continue
            except (AuthenticationError, PermissionDeniedError) as exc:
                log.error("Scenario refused the bot's request for job %s: %s", job.id, exc)
                return await self._fail(job.id, MISCONFIGURED)
            except BadRequestError as exc:
                return await self._fail(job.id, f"Scenario refused the request: {exc.reason}")
            return await self.store.transition(
                job.id,
                [JobState.SUBMITTING],
                JobState.RUNNING,
                scenario_job_id=result.job.job_id,
                scenario_status=str(result.job.status),
                cost=result.creative_units_cost,
            )
        return None

    async def _wait_for_slot(self, job: JobRecord, exc: PlanLimitError) -> None:
        if exc.action_limit and self.scheduler.lower_limit(exc.action_limit):
            log.warning("Scenario's plan allows %d parallel jobs; lowering the ceiling", exc.action_limit)
        queued = await self.store.transition(job.id, [JobState.SUBMITTING], JobState.QUEUED, submit_started_at=None)
        if queued is None:
            return None
        self._queued[job.id] = queued
        self.scheduler.requeue_front(job.id, job.user_id)
        self._block_for_slot()
        await self.progress.show(queued, progress.queued_text(1, waiting_for_slot=True))
        return None

    async def _recover_submission(self, job: JobRecord) -> JobRecord | None:
        """After a restart: find the job an interrupted `POST /generate` may have created, else send it."""
        since = job.submit_started_at or job.created_at
        found = await self._find_submitted(job, since)
        unsettled = self.submit_settle - (self._now() - since).total_seconds()
        if found is None and unsettled > 0:
            # The dead process's POST may still be on its way through Scenario: wait until it must have either
            # created its job or failed, then look again, so a fast restart never pays twice.
            log.info("Job %s: no trace yet of its interrupted submission; looking again in %.0fs", job.id, unsettled)
            await self._sleep(unsettled)
            found = await self._find_submitted(job, since)
        if found is None:
            log.info("Job %s: no trace of an earlier submission at Scenario; submitting now", job.id)
            return await self._send(job)
        log.info("Job %s: recovered Scenario job %s after a restart", job.id, found.job_id)
        return await self._adopt(job, found)

    async def _adopt(self, job: JobRecord, found: Job) -> JobRecord | None:
        """Record a Scenario job found by its input as this record's own: it is running from now on."""
        return await self.store.transition(
            job.id,
            [JobState.SUBMITTING],
            JobState.RUNNING,
            scenario_job_id=found.job_id,
            scenario_status=str(found.status),
        )

    async def _find_submitted(self, job: JobRecord, since: datetime) -> Job | None:
        exclude = await self.store.scenario_job_ids_since(since - CLAIM_WINDOW)
        return await self.scenario.find_submitted_job(job.model_id, job.inputs, since=since, exclude_job_ids=exclude)

    async def _wait_for_result(self, job: JobRecord, *, just_sent: bool = False) -> JobRecord | None:
        assert job.scenario_job_id is not None
        last_status = job.scenario_status

        async def on_update(update: Job) -> None:
            nonlocal last_status
            status = str(update.status)
            if status != last_status and status != "success":  # the move to delivering records success
                last_status = status
                await self.store.update(job.id, scenario_status=status, progress=update.progress)
            text = progress.running_text(status, update.progress, self._elapsed(job))
            await self.progress.show(job, text)

        remaining = self.job_timeout - self._elapsed(job)
        try:
            # Scenario's answer to the submission just gave the status: the first poll can wait.
            final = await self.scenario.wait_for_job(
                job.scenario_job_id, on_update=on_update, timeout=max(remaining, 30.0), wait_first=just_sent
            )
        except JobCanceledError:
            return await self._fail(job.id, "Scenario canceled this job.", state=JobState.CANCELED)
        except JobFailedError as exc:
            text = f"Scenario could not make this image: {exc.error or 'no reason given'}."
            if exc.hint:
                text += f"\nHint: {exc.hint}"
            return await self._fail(job.id, text)
        except JobTimeoutError:
            # Not "within 0 minutes" / "1 minutes" when JOB_TIMEOUT_SECONDS is short.
            waited = max(self.job_timeout, 30.0)  # the poller always waits at least 30 s
            limit = f"{round(waited / 60)} minutes" if waited >= 120 else f"{round(waited)} seconds"
            return await self._fail(job.id, f"Scenario did not finish this job within {limit}.")
        except (AuthenticationError, PermissionDeniedError) as exc:
            log.error("Scenario refused to report job %s: %s", job.id, exc)
            return await self._fail(job.id, MISCONFIGURED)
        return await self.store.transition(
            job.id,
            [JobState.RUNNING],
            JobState.DELIVERING,
            scenario_status="success",
            progress=1.0,
            output_asset_ids=list(final.metadata.asset_ids or []),
        )

    async def _deliver(self, job: JobRecord, *, resumed: bool) -> None:
        try:
            images = await self.download(job)
        except ScenarioError as exc:
            # Paid for and kept at Scenario: say how to get them once Scenario answers again.
            await self._fail(
                job.id,
                f"The images were made but could not be fetched from Scenario ({exc}). "
                f"They are kept: use /show {job.id} to post them.",
            )
            return
        job = await self.store.update(job.id, seeds=[image.seed for image in images])
        last_error: DeliveryError | None = None
        for attempt in range(MAX_DELIVERY_ATTEMPTS):
            try:
                delivered = await self.progress.deliver(job, images, resumed=resumed or attempt > 0)
            except DeliveryError as exc:
                last_error = exc
                if not exc.retryable:
                    break
                log.warning("Job %s: delivery attempt %d failed: %s", job.id, attempt + 1, exc)
                await self._sleep(2.0 * 2**attempt)
                continue
            await self.store.transition(
                job.id,
                [JobState.DELIVERING],
                JobState.DELIVERED,
                delivered_message_ids=delivered.message_ids,
                delivered_via=delivered.via,
                delivery_note=delivered.note,
            )
            return
        reason = f"Undelivered: {last_error}. The images are kept: use /show {job.id} to post them."
        log.warning("Job %s could not be delivered: %s", job.id, last_error)
        failed = await self.store.transition(job.id, [JobState.DELIVERING], JobState.FAILED, last_error=reason)
        if failed is not None:  # tell the requester why, where Discord still lets the bot (best effort)
            await self.progress.fail(failed, reason)

    async def download(self, job: JobRecord) -> list[OutputImage]:
        """Fetch a job's output images from Scenario (fresh URLs, capped downloads)."""
        assets = await self.scenario.get_assets(job.output_asset_ids)
        images = []
        for asset in assets:
            data = await self.scenario.download_asset(asset, max_bytes=self.download_cap)
            meta = asset.metadata
            images.append(
                OutputImage(
                    asset_id=asset.id,
                    data=data,
                    mime_type=asset.mime_type,
                    width=meta.width if meta else None,
                    height=meta.height if meta else None,
                    seed=_as_int(meta.seed if meta else None) if meta else None,
                )
            )
        return images

    async def _fail(self, job_id: str, text: str, *, state: JobState = JobState.FAILED) -> None:
        failed = await self.store.transition(job_id, ACTIVE_STATES, state, last_error=text)
        self._queued.pop(job_id, None)
        if failed is not None:
            await self.progress.fail(failed, text)
        return None

    def _elapsed(self, job: JobRecord) -> float:
        started = job.submit_started_at or job.created_at
        return (self._now() - started).total_seconds()


def _as_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
