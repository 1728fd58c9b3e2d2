"""One job's run: from `queued` (or wherever a restart found it) to its images posted, exactly once.

Every step first writes its intent to the store, so a process killed at any instant resumes where it was:

    queued ──► submitting ──► running ──► delivering ──► delivered
       │            │            │             │    ╲
       │            │            │             │     ► undelivered ──(/show)──► delivered
       └────────────┴────────────┴─────────────┴──► failed / canceled

* `submitting` is recorded *before* the paid `POST /generate` (see `_submission.py` for the one budget).
* `running` holds the Scenario job id, recorded right after the POST answers.
* `delivering` is recorded when Scenario has the images; a restart re-posts idempotently (see `Delivery`).
* `undelivered`: the images were made but could not be posted; the requester is told to use `/show`.
"""

from __future__ import annotations

import logging

from bot import metrics
from bot.jobs import texts
from bot.jobs._submission import JobContext, JobPart, NoSlot, Refused, Submitter
from bot.jobs.delivery import Delivered, DeliveryError, OutputImage, Reply
from bot.jobs.models import ACTIVE_STATES, JobRecord, JobState
from bot.scenario import (
    AuthenticationError,
    Job,
    JobCanceledError,
    JobFailedError,
    JobTimeoutError,
    PermissionDeniedError,
    ScenarioError,
)

log = logging.getLogger(__name__)


class JobRunner(JobPart):
    """Runs one job at a time per call of `run`; free of Discord, it posts through the `ProgressBoard`."""

    def __init__(self, context: JobContext) -> None:
        super().__init__(context)
        self._submitter = Submitter(context)

    async def run(self, job: JobRecord, *, resumed: bool) -> NoSlot | None:
        """Take the job as far as it goes; `NoSlot` when Scenario has no free slot and it must wait in line.

        Its Scenario slot is given back (`on_slot_free`) as soon as Scenario is done with it."""
        if not job.state.active:
            return None
        noticed: float | None = None  # when Scenario's success was recorded: the start of the bot's added latency
        resumed_delivery = resumed and job.state is JobState.DELIVERING
        just_sent = job.state in (JobState.QUEUED, JobState.SUBMITTING)
        job_id = job.id
        try:
            if job.state in (JobState.QUEUED, JobState.SUBMITTING):
                submitter = self._submitter
                outcome = await (submitter.submit(job) if job.state is JobState.QUEUED else submitter.recover(job))
                if isinstance(outcome, NoSlot):
                    return outcome
                if isinstance(outcome, Refused):
                    await self.fail(job_id, outcome.text)
                    return None
                job = outcome
            if job is not None and job.state is JobState.RUNNING:
                try:
                    job = await self._wait_for_result(job, just_sent=just_sent)
                finally:
                    self._on_slot_free(job_id)  # Scenario is done with it: the next job may start while this posts
                noticed = self._clock.monotonic()
            if job is not None and job.state is JobState.DELIVERING:
                await self._deliver(job, resumed=resumed_delivery, noticed=noticed)
        except Exception:
            log.exception("Job %s stopped on an unexpected error", job_id)
            await self.fail(job_id, texts.UNEXPECTED)
        return None

    async def _wait_for_result(self, job: JobRecord, *, just_sent: bool) -> JobRecord | None:
        assert job.scenario_job_id is not None

        async def on_update(update: Job) -> None:
            # Shown, not stored: the record keeps Scenario's status from the submission's answer until the end.
            # A store write at each change of status (3 a job) bought only the status line of the notice after
            # a restart, which the resumed job's first look (at once) corrects within one progress edit.
            if update.status.terminal:
                return  # recorded with the move to delivering (or failed); an edit now would only delay the result
            await self._board.show(job, texts.running_text(str(update.status), update.progress, self.elapsed(job)))

        # The poller always waits at least 30 s, whatever is left of the job's time.
        timeout = max(self._config.job_timeout - self.elapsed(job), 30.0)
        try:
            # Scenario's answer to the submission just gave the status: the first poll can wait.
            # Progress is shown at most every `progress_interval`: the steps in between need not wake this job.
            final = await self._status.wait_for_job(
                job.scenario_job_id,
                on_update=on_update,
                timeout=timeout,
                wait_first=just_sent,
                progress_every=self._config.progress_interval,
            )
        except JobCanceledError as exc:
            return await self.fail(job.id, texts.SCENARIO_CANCELED, state=JobState.CANCELED, **_refund(exc))
        except JobFailedError as exc:
            return await self.fail(job.id, texts.job_failed(exc.error, exc.hint), **_refund(exc))
        except JobTimeoutError:
            return await self.fail(job.id, texts.timed_out(max(self._config.job_timeout, 30.0)))
        except (AuthenticationError, PermissionDeniedError) as exc:
            log.error("Scenario refused to report job %s: %s", job.id, exc)
            return await self.fail(job.id, texts.MISCONFIGURED)
        return await self._store.transition(
            job.id,
            [JobState.RUNNING],
            JobState.DELIVERING,
            scenario_status="success",
            progress=1.0,
            output_asset_ids=list(final.metadata.asset_ids or []),
        )

    async def _deliver(self, job: JobRecord, *, resumed: bool, noticed: float | None = None) -> None:
        try:
            images = await self.download(job)
        except ScenarioError as exc:
            # Paid for and kept at Scenario: say how to get them once Scenario answers again.
            await self._undelivered(job, texts.not_fetched(job.id, exc))
            return
        labels = {image.asset_id: list(image.nsfw) for image in images if image.nsfw}
        job = await self._store.update(job.id, seeds=[image.seed for image in images], nsfw_labels=labels)
        error: DeliveryError | None = None
        for attempt in range(self._config.max_delivery_attempts):
            if attempt:
                await self._clock.sleep(self._config.retry.delay(attempt - 1))
            try:
                delivered = await self._board.deliver(job, images, resumed=resumed or attempt > 0)
            except DeliveryError as exc:
                error = exc
                log.warning("Job %s: delivery attempt %d failed: %s", job.id, attempt + 1, exc)
                if not exc.retryable:
                    break
                continue
            posted = self._clock.monotonic()
            if await self._record_delivery(job, delivered, JobState.DELIVERING) and noticed is not None:
                metrics.delivered_after(posted - noticed)
            return
        await self._undelivered(job, texts.undelivered(job.id, error))

    async def _undelivered(self, job: JobRecord, reason: str) -> None:
        log.warning("Job %s could not be delivered: %s", job.id, reason)
        undelivered = await self._store.transition(
            job.id, [JobState.DELIVERING], JobState.UNDELIVERED, last_error=reason
        )
        if undelivered is not None:  # tell the requester why, where Discord still lets the bot (best effort)
            metrics.job_ended(JobState.UNDELIVERED.value, self._since_request(undelivered))
            await self._board.fail(undelivered, reason)

    async def repost(self, job: JobRecord, reply: Reply) -> Delivered:
        """Post a finished job's images again through `reply` (`/show`): the same rendering, 413 handling and
        per-job lock as a first delivery; an undelivered job becomes delivered, a terminal one stays as is."""
        images = await self.download(job)
        delivered = await self._board.deliver(job, images, resumed=False, reply=reply)
        if job.state is JobState.UNDELIVERED:
            await self._record_delivery(job, delivered, JobState.UNDELIVERED)
        return delivered

    async def _record_delivery(self, job: JobRecord, delivered: Delivered, source: JobState) -> bool:
        """Record the job delivered; False if it was not in `source` any more. A job is counted once, at the
        first state it rests in: an undelivered one posted later with `/show` stays counted as undelivered."""
        recorded = await self._store.transition(
            job.id,
            [source],
            JobState.DELIVERED,
            delivered_message_ids=delivered.message_ids,
            delivered_via=delivered.via,
            delivery_note=delivered.note,
            last_error=None,
            # A job delivered by a later `/show` keeps the time its result was ready: that is what people waited.
            **({"finished_at": job.finished_at} if job.finished_at is not None else {}),
        )
        if recorded is not None and source is JobState.DELIVERING:
            metrics.job_ended(JobState.DELIVERED.value, self._since_request(recorded))
            self._board.rested(recorded)
        return recorded is not None

    async def download(self, job: JobRecord) -> list[OutputImage]:
        """Fetch a job's output images from Scenario (fresh URLs, capped downloads)."""
        # Fetched already by the status loop's tick that saw the job succeed, when it could.
        assets = await self._watch_assets(job.output_asset_ids) or await self._scenario.get_assets(job.output_asset_ids)
        images = []
        for asset in assets:
            data = await self._scenario.download_asset(asset, max_bytes=self._config.download_cap)
            meta = asset.metadata
            images.append(
                OutputImage(
                    asset_id=asset.id,
                    data=data,
                    mime_type=asset.mime_type,
                    width=meta.width if meta else None,
                    height=meta.height if meta else None,
                    seed=_as_int(meta.seed) if meta else None,
                    nsfw=tuple(asset.nsfw or ()),
                )
            )
        return images

    async def fail(self, job_id: str, text: str, *, state: JobState = JobState.FAILED, **fields: object) -> None:
        """End an active job without images and tell the requester why."""
        failed = await self._store.transition(job_id, ACTIVE_STATES, state, last_error=text, **fields)
        if failed is not None:
            metrics.job_ended(failed.state.value, self._since_request(failed))
            await self._board.fail(failed, text)
        return None

    def _since_request(self, job: JobRecord) -> float:
        """Seconds from the request to now, on the engine's clock (the job's duration when it just ended)."""
        return (self._clock.now() - job.created_at).total_seconds()

    def elapsed(self, job: JobRecord) -> float:
        started = job.submit_started_at or job.created_at
        return (self._clock.now() - started).total_seconds()


def _refund(exc: JobFailedError) -> dict[str, float]:
    """Scenario refunds a failed job unless its billing says `disableRefund`: then it costs nothing."""
    billing = exc.job.billing
    return {} if billing is not None and billing.disable_refund else {"cost": 0.0}


def _as_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
