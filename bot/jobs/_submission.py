"""The paid `POST /generate`, sent so that one request is never paid twice: the engine's only owner of it.

Scenario's generate endpoint has no idempotency key: a request whose answer is lost may or may not have
created (and billed) a job. The Scenario client is transport (one POST per call, every failure raised as it
is; `submission_failure` says what the failure proves). The whole policy lives here:

* **One budget.** A job may send at most `EngineConfig.max_submit_attempts` POSTs in its whole life,
  restarts included: `attempts` is stored (with the move to `submitting`) *before* each POST. A 429 (the
  plan runs as many jobs as it allows) created nothing and gives its attempt back: the job waits in line.
* **Refused** (4xx): nothing was created; the job fails with Scenario's reason, or waits for a slot on 429.
* **Not sent** (the connection was never made): sent again after a backoff.
* **Handled** (a 5xx carrying Scenario's own error): looked for once at once, adopted if found, else sent again.
* **Unknown** (a read timeout, a reset, a 504, an unreadable answer): look for it among Scenario's recent jobs
  by its input at once; if it is not there, wait `submit_settle_seconds` (until the POST must have created its
  job or never will) and look again; adopt it if found, else send again.
* **After a restart** a `submitting` record is first looked for the same way (waiting out the settle time if
  the dead process sent its POST only just now), and sent again only if absent and budget remains.

A job found this way is matched by its exact input and must not belong to another record
(`JobStore.scenario_job_ids_since`), so two identical prompts never adopt the same Scenario job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot import logcontext, metrics
from bot.clock import Clock
from bot.jobs import texts
from bot.jobs._board import ProgressBoard
from bot.jobs.config import EngineConfig
from bot.jobs.models import JobRecord, JobState
from bot.jobs.store import JobStore
from bot.scenario import (
    AuthenticationError,
    Job,
    PermissionDeniedError,
    PlanLimitError,
    ScenarioClient,
    ScenarioError,
    StatusWatch,
    SubmitFailure,
    submission_failure,
)

log = logging.getLogger(__name__)

CLAIM_WINDOW = timedelta(minutes=10)
"""A lost submission is looked for among Scenario jobs created shortly before it was sent; only records touched
since a little before that can have claimed one of them (the store filters on `updated_at`)."""


@dataclass(frozen=True, slots=True)
class NoSlot:
    """Scenario refused with 429: the plan runs as many jobs as it allows. `limit` is the plan's number."""

    job: JobRecord
    limit: int | None


@dataclass(frozen=True, slots=True)
class Refused:
    """The job cannot be submitted; `text` tells the requester why."""

    text: str


SubmitOutcome = JobRecord | NoSlot | Refused
"""A running record, a wait for a slot, or a refusal (the caller records the failure)."""


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job's run works with: the store, Scenario, the status board, the knobs and the time."""

    store: JobStore
    scenario: ScenarioClient
    board: ProgressBoard
    config: EngineConfig
    clock: Clock
    on_answer: Callable[[str, bool], None] = lambda job_id, accepted: None
    """Told when Scenario answers a job's POST other than with 429 (`accepted`: it created the job)."""
    on_slot_free: Callable[[str], None] = lambda job_id: None
    """Told when a job no longer counts against the plan's ceiling (Scenario finished it)."""
    watch: StatusWatch | None = None
    """The process's batched status loop; None: each job polls on its own (`STATUS_MODE=per_job`)."""


async def _no_assets(asset_ids: object) -> None:
    return None


class JobPart:
    """One part of a job's run, with the context's members at hand."""

    def __init__(self, context: JobContext) -> None:
        self._store = context.store
        self._scenario = context.scenario
        self._board = context.board
        self._config = context.config
        self._clock = context.clock
        self._on_answer = context.on_answer
        self._on_slot_free = context.on_slot_free
        self._status = context.watch or context.scenario
        self._watch_assets = context.watch.take_assets if context.watch else _no_assets


class Submitter(JobPart):
    """Turns a `submitting` record into a running one, within one budget of POSTs (see the module doc)."""

    async def submit(self, job: JobRecord) -> SubmitOutcome | None:
        """Send a queued job (None if it was canceled meanwhile)."""
        submitting = await self._store.transition(
            job.id,
            [JobState.QUEUED],
            JobState.SUBMITTING,
            submit_started_at=self._clock.now(),
            attempts=job.attempts + 1,
        )
        if submitting is None:
            return None
        await self._board.show(submitting, texts.running_text("pending", 0.0, 0))
        return await self._send(submitting)

    async def recover(self, job: JobRecord) -> SubmitOutcome:
        """After a restart: adopt the job an interrupted POST created, else send it again if budget remains."""
        since = job.submit_started_at or job.created_at
        # The dead process's POST may still be on its way through Scenario: if it is not found at once, wait
        # until it must have created its job or failed, then look again, so a fast restart never pays twice.
        unsettled = self._config.submit_settle_seconds - (self._clock.now() - since).total_seconds()
        return await self._look_then_resend(job, "the bot stopped before Scenario answered", wait=unsettled)

    async def _send(self, job: JobRecord) -> SubmitOutcome:
        """One POST (its attempt is already counted in `job.attempts`); Scenario's answer decides what next."""
        try:
            result = await self._scenario.submit_generate(job.model_id, job.inputs)
        except PlanLimitError as exc:
            return await self._no_slot(job, exc)
        except ScenarioError as exc:
            self._on_answer(job.id, False)
            return await self._after_failure(job, exc)
        self._on_answer(job.id, True)
        log.info("Job %s started as Scenario job %s (%s CU)", job.id, result.job.job_id, result.creative_units_cost)
        return await self._running(job, result.job, cost=result.creative_units_cost)

    async def _after_failure(self, job: JobRecord, exc: ScenarioError) -> SubmitOutcome:
        kind = submission_failure(exc)
        if kind is SubmitFailure.REFUSED:
            if isinstance(exc, AuthenticationError | PermissionDeniedError):
                log.error("Scenario refused the bot's request for job %s: %s", job.id, exc)
                return Refused(texts.MISCONFIGURED)
            return Refused(texts.refused(getattr(exc, "reason", None) or str(exc)))
        log.warning("Job %s: POST /generate failed (%s: %s)", job.id, kind.value, exc)
        if kind is SubmitFailure.NOT_SENT:
            return await self._resend(job, exc)
        if kind is SubmitFailure.HANDLED:
            return await self._look_then_resend(job, exc)
        # The POST may have reached Scenario: look at once (it usually did, and its job is listed), and if it is
        # not there, wait until it must have created its job or never will, then look again.
        await self._board.show(job, texts.CHECKING_TEXT)
        return await self._look_then_resend(job, exc, wait=self._config.submit_settle_seconds)

    async def _look_then_resend(self, job: JobRecord, cause: object, *, wait: float = 0.0) -> SubmitOutcome:
        """Adopt the Scenario job a lost POST created (looking again after `wait` if not found at once);
        else send again if the budget allows. When Scenario cannot be asked, nothing is sent again."""
        try:
            found = await self._find(job)
            if found is None and wait > 0:
                log.info("Job %s: no trace yet of its submission; looking again in %.0fs", job.id, wait)
                await self._clock.sleep(wait)
                found = await self._find(job)
        except ScenarioError as exc:
            return Refused(texts.unverifiable(exc))
        if found is None:
            log.info("Job %s: no job for it at Scenario", job.id)
            return await self._resend(job, cause)
        log.info("Job %s: recovered Scenario job %s, created by an earlier POST", job.id, found.job_id)
        return await self._running(job, found)

    async def _resend(self, job: JobRecord, cause: object) -> SubmitOutcome:
        """Send again if the budget allows; the attempt is recorded before the POST."""
        if job.attempts >= self._config.max_submit_attempts:
            return Refused(texts.submission_lost(job.attempts, cause))
        if job.attempts:  # a first send after a restart (attempts 0) has nothing to back off from
            await self._clock.sleep(self._config.retry.delay(job.attempts - 1))
        job = await self._store.update(job.id, attempts=job.attempts + 1)
        log.info("Job %s: sending the request again (attempt %d of %d)", job.id, job.attempts,
                 self._config.max_submit_attempts)  # fmt: skip
        return await self._send(job)

    async def _no_slot(self, job: JobRecord, exc: PlanLimitError) -> NoSlot:
        # Nothing was created: the attempt is given back and the job waits in line for a free slot.
        job = await self._store.update(job.id, attempts=max(job.attempts - 1, 0))
        return NoSlot(job, exc.action_limit)

    async def _find(self, job: JobRecord) -> Job | None:
        """The Scenario job this record's POST created, if any. Raises `ScenarioError` when Scenario cannot
        be asked (the client has retried already): not knowing is not finding, so nothing is sent again."""
        since = job.submit_started_at or job.created_at
        exclude = await self._store.scenario_job_ids_since(since - CLAIM_WINDOW)
        return await self._scenario.find_submitted_job(job.model_id, job.inputs, since=since, exclude_job_ids=exclude)

    async def _running(self, job: JobRecord, scenario_job: Job, *, cost: float | None = None) -> JobRecord | None:
        # From here on (a failure to record it included), the job's lines name the Scenario job it paid for.
        logcontext.bind(scenario_job_id=scenario_job.job_id)
        running = await self._store.transition(
            job.id,
            [JobState.SUBMITTING],
            JobState.RUNNING,
            scenario_job_id=scenario_job.job_id,
            scenario_status=str(scenario_job.status),
            # A job found after its answer was lost was charged too: its listing says how much.
            cost=cost if cost is not None else (scenario_job.billing.cu_cost if scenario_job.billing else None),
        )
        if running is not None:
            metrics.credits_spent(running.cost)
        return running
