"""Batched status: one `GET /jobs` per tick reports every job in flight, however many there are.

Scenario has no filter by a list of job ids, so the watch asks for the jobs updated since a watermark
(`GET /jobs?types=custom&updatedAfter=…`, which Scenario sorts by update date and applies only with a type
filter), follows `nextPaginationToken` (a short or empty page may still carry one), and matches ids locally:

* **One loop per process**, running only while some job is waited for: with nothing in flight there is no
  request at all. Each tick is one listing (one request, a page more per hundred jobs updated in the tick).
* **The watermark is Scenario's own clock**: the newest `updatedAt` listed, less `overlap`, so neither a skew
  between our clock and Scenario's nor two updates in the same millisecond loses a change. The overlap lists
  a few jobs twice; a waiter only hears of a change of status or progress.
* **A job the list has not reported** for `quiet_seconds` gets one direct `GET /jobs/{id}`, and the wait before
  the next one doubles (to `max_quiet_seconds`) while the job stays as it was: a list that leaves a job out
  costs that job some latency, never the job. A job resumed after a restart is looked at directly at once.
* **Progress, success and failure** reach each waiter in its own task (`wait_for_job` returns or raises just
  as `ScenarioClient.wait_for_job` does), so a slow Discord edit for one job never holds up the others. A
  waiter may take progress alone at most every `progress_every` seconds (a change of status comes at once);
  a listed job that only moves progress on meanwhile is kept as listed, read only if it is passed on.
* **Results in one request too**: the assets of every job that succeeded in a tick are fetched together, with
  one `POST /assets/get-bulk`, and handed over by `take_assets` (fresh URLs, since they were just fetched).
* `hint(job_id)` (a webhook said the job ended) looks at that job directly now; the hint is never the result.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.scenario._client import parse_listed_job
from bot.scenario.errors import (
    JobCanceledError,
    JobFailedError,
    JobTimeoutError,
    ScenarioError,
    is_retryable,
)
from bot.scenario.models import Asset, Job, JobStatus
from bot.scenario.polling import OnUpdate, _notify

if TYPE_CHECKING:
    from bot.scenario._client import ScenarioClient

__all__ = ["StatusWatch"]

log = logging.getLogger(__name__)

ASSET_MEMORY = 2_000
"""Fetched assets not taken yet (a job that ended before posting): the oldest are forgotten beyond this."""
START_LOOKBACK = timedelta(seconds=60)
"""A loop that starts looks this far back on our clock: allows for that much skew with Scenario's clock."""
_DIRECT_CONCURRENCY = 8


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class _Waiter:
    job_id: str
    timeout: float
    deadline: float
    reported_at: float
    quiet: float
    direct_due: bool
    progress_every: float = 0.0
    latest: Job | None = None
    error: BaseException | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    passed_at: float = -math.inf
    held: bool = False
    """A change of progress only is held back until `progress_every` after the last one passed on: `latest`,
    or the newer `listed`."""
    listed: Mapping[str, Any] | None = None
    """The newest change of progress alone the listing reported, kept as listed: read only if passed on (a
    job in flight changes progress every tick, and is shown every few seconds)."""

    def holds(self, raw: Mapping[str, Any], now: float) -> bool:
        """Keep a listed job unread when it only moves progress on and progress was passed on a moment ago."""
        latest = self.latest
        if latest is None or latest.status.terminal or latest.status.value != raw.get("status"):
            return False
        if now - self.passed_at >= self.progress_every:
            return False
        self.listed, self.held, self.reported_at = raw, True, now
        return True

    def report(self, job: Job, now: float) -> None:
        latest = self.latest
        self.reported_at = now
        if latest is not None:
            if latest.status.terminal:
                return
            if latest.updated_at and job.updated_at and job.updated_at < latest.updated_at:
                return  # an older answer than one already passed on
            if (latest.status, latest.progress) == (job.status, job.progress):
                return
        self.latest, self.listed = job, None
        if latest is not None and latest.status == job.status and now - self.passed_at < self.progress_every:
            self.held = True  # progress only, and some was passed on a moment ago: `release` passes it on later
            return
        self._pass_on(now)

    def release(self, now: float) -> None:
        """Pass on a held change of progress once `progress_every` has gone by since the last one."""
        if self.held and now - self.passed_at >= self.progress_every:
            if self.listed is not None and (job := parse_listed_job(self.listed)) is not None:
                self.latest = job
            self.listed = None
            self._pass_on(now)

    def _pass_on(self, now: float) -> None:
        self.held = False
        self.passed_at = now
        self.changed.set()

    def fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
            self.changed.set()


class StatusWatch:
    """Waits for many Scenario jobs with one status request per tick (see the module doc)."""

    def __init__(
        self,
        client: ScenarioClient,
        *,
        tick: float = 0.25,
        overlap: float = 1.0,
        quiet_seconds: float = 5.0,
        max_quiet_seconds: float = 30.0,
        max_pages: int = 10,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        if tick <= 0 or overlap < 0 or quiet_seconds <= 0 or max_quiet_seconds < quiet_seconds:
            raise ValueError("StatusWatch needs tick > 0, overlap >= 0 and 0 < quiet_seconds <= max_quiet_seconds")
        self._client = client
        self.tick = tick
        self._overlap = timedelta(seconds=overlap)
        self._quiet = quiet_seconds
        self._max_quiet = max_quiet_seconds
        self._max_pages = max_pages
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._waiters: dict[str, list[_Waiter]] = {}
        self._watermark: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._hints: set[asyncio.Task[None]] = set()
        self._assets: OrderedDict[str, Asset] = OrderedDict()
        self._fetching: dict[str, asyncio.Task[None]] = {}

    @property
    def in_flight(self) -> int:
        """How many Scenario jobs are waited for."""
        return len(self._waiters)

    async def wait_for_job(
        self,
        job_id: str,
        *,
        on_update: OnUpdate | None = None,
        timeout: float = 900.0,
        wait_first: bool = False,
        progress_every: float = 0.0,
    ) -> Job:
        """Wait until the job ends; return it on success, raise `JobFailedError`/`JobCanceledError`.

        Raises `JobTimeoutError` after `timeout` seconds, and what a direct look raises when it is not worth
        retrying (e.g. `AuthenticationError`). `wait_first`: the caller has just seen the job (in the answer
        that created it), so the listing will report its next change; otherwise it is looked at directly at once.
        `progress_every`: a change of progress alone reaches `on_update` at most this often (the latest one, at
        the first tick after), a change of status and the end at once: a caller that shows progress every few
        seconds need not be woken for each of the twenty steps a job may report.
        """
        now = self._clock()
        waiter = _Waiter(
            job_id, timeout, now + timeout, now, self._quiet, direct_due=not wait_first, progress_every=progress_every
        )
        self._waiters.setdefault(job_id, []).append(waiter)
        if self._task is None or self._task.done():
            # The loop serves every job: a fresh context, so its log lines carry none of this job's fields.
            self._task = asyncio.create_task(self._run(), name="scenario-status", context=contextvars.Context())
        try:
            last_seen: tuple[object, float] | None = None
            while True:
                await waiter.changed.wait()
                waiter.changed.clear()
                if waiter.error is not None:
                    raise waiter.error
                job = waiter.latest
                assert job is not None
                if (job.status, job.progress) != last_seen:
                    last_seen = (job.status, job.progress)
                    log.debug("Job %s is %s (%.0f%%)", job.job_id, job.status.value, job.progress * 100)
                    if on_update is not None:
                        await _notify(on_update, job)
                if job.status.terminal:
                    break
        finally:
            waiters = self._waiters.get(job_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(job_id, None)
        if job.status is JobStatus.SUCCESS:
            return job
        error_cls = JobCanceledError if job.status is JobStatus.CANCELED else JobFailedError
        raise error_cls(job, job.metadata.error, job.metadata.hint)

    async def take_assets(self, asset_ids: Sequence[str]) -> list[Asset] | None:
        """The assets fetched with the tick that saw their job succeed, in order (waiting for that fetch if it
        is still under way); None unless all of them are there, and the caller fetches them itself."""
        fetching = {self._fetching[asset_id] for asset_id in asset_ids if asset_id in self._fetching}
        if fetching:
            await asyncio.wait(fetching)
        if not asset_ids or any(asset_id not in self._assets for asset_id in asset_ids):
            return None
        return [self._assets.pop(asset_id) for asset_id in asset_ids]

    def hint(self, job_id: str) -> bool:
        """Something (a webhook) says the job changed: look at it directly now. False if it is not waited for."""
        waiters = self._waiters.get(job_id)
        if not waiters:
            return False
        task = asyncio.create_task(self._look_directly([job_id]), context=contextvars.Context())
        self._hints.add(task)
        task.add_done_callback(self._hints.discard)
        return True

    async def close(self) -> None:
        """Stop the loop (waiters are the engine's to cancel)."""
        tasks = [t for t in (self._task, *self._hints) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the loop -------------------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            while self._waiters:
                started = self._clock()
                try:
                    await self._tick()
                except Exception:
                    log.exception("The status loop's tick failed; trying again next tick")
                if not self._waiters:
                    break
                await self._sleep(max(self.tick - (self._clock() - started), 0.0))
        finally:
            self._task = None

    async def _tick(self) -> None:
        await self._list()
        now = self._clock()
        due: list[str] = []
        for job_id, waiters in list(self._waiters.items()):
            waiters = [w for w in waiters if w.error is None and not (w.latest and w.latest.status.terminal)]
            for waiter in waiters:
                if now >= waiter.deadline:
                    waiter.fail(JobTimeoutError(job_id, waiter.timeout, waiter.latest))
                waiter.release(now)
            if any(w.error is None and (w.direct_due or now - w.reported_at >= w.quiet) for w in waiters):
                due.append(job_id)
        if due:
            await self._look_directly(due)

    async def _list(self) -> None:
        """One listing since the watermark. When it cannot be read, each job is looked at directly once it
        has been quiet long enough, as for a job the list leaves out."""
        since = self._watermark
        if since is None:
            since = self._now() - START_LOOKBACK
        try:
            jobs, complete, newest = await self._client.list_updated_jobs(
                since, max_pages=self._max_pages, wanted=self._news
            )
        except ScenarioError as exc:
            level = logging.WARNING if is_retryable(exc) else logging.ERROR
            log.log(level, "Listing Scenario's jobs failed; looking at quiet jobs one by one: %s", exc)
            return
        self._fetch_assets(jobs)
        now = self._clock()
        for job in jobs:
            for waiter in self._waiters.get(job.job_id, ()):
                waiter.report(job, now)
                waiter.quiet = self._quiet
        if complete:
            if newest is not None:
                self._watermark = max(since, newest - self._overlap)
            else:
                self._watermark = since
        else:
            # Stopped with pages left (sorted newest first): what was not read is older than what was.
            log.warning("More than %d pages of jobs changed in one tick; the watermark stays", self._max_pages)
            self._watermark = since

    def _news(self, raw: Mapping[str, Any]) -> bool:
        """Whether a listed job (raw) is waited for and says something its waiters have not heard; a job
        listed again with nothing new only counts as reported."""
        waiters = self._waiters.get(raw.get("jobId"))  # type: ignore[arg-type]
        if not waiters:
            return False
        now = self._clock()
        news = False
        for waiter in waiters:
            latest = waiter.latest
            listed = (raw.get("status"), raw.get("progress"))
            if latest is not None and (latest.status.value, latest.progress) == listed:
                waiter.reported_at = now
            elif not waiter.holds(raw, now):
                news = True
                continue
            waiter.quiet = self._quiet
        return news

    def _fetch_assets(self, jobs: list[Job]) -> None:
        """Start one get-bulk for the assets of every waited-for job that has just succeeded; `take_assets`
        waits for it. Best effort: a job whose assets are not fetched here fetches them itself."""
        wanted = [
            asset_id
            for job in jobs
            if job.status is JobStatus.SUCCESS
            and job.job_id in self._waiters
            and not any(w.latest is not None and w.latest.status.terminal for w in self._waiters[job.job_id])
            for asset_id in job.metadata.asset_ids or []
            if asset_id not in self._assets and asset_id not in self._fetching
        ]
        if not wanted:
            return
        task = asyncio.create_task(self._fetch(wanted), context=contextvars.Context())
        for asset_id in wanted:
            self._fetching[asset_id] = task
        self._hints.add(task)
        task.add_done_callback(self._hints.discard)

    async def _fetch(self, asset_ids: list[str]) -> None:
        try:
            assets = await self._client.get_assets(asset_ids)
        except ScenarioError as exc:
            log.warning("Fetching the assets of finished jobs failed; each job will ask again: %s", exc)
            return
        finally:
            for asset_id in asset_ids:
                self._fetching.pop(asset_id, None)
        for asset in assets:
            self._assets[asset.id] = asset
        while len(self._assets) > ASSET_MEMORY:
            self._assets.popitem(last=False)

    async def _look_directly(self, job_ids: list[str]) -> None:
        limit = asyncio.Semaphore(_DIRECT_CONCURRENCY)

        async def look(job_id: str) -> None:
            async with limit:
                try:
                    job = await self._client.get_job(job_id)
                except ScenarioError as exc:
                    waiters = self._waiters.get(job_id, [])
                    if not is_retryable(exc):
                        for waiter in waiters:
                            waiter.fail(exc)
                    else:
                        log.warning("Looking at job %s failed, will try again: %s", job_id, exc)
                        for waiter in waiters:
                            waiter.reported_at = self._clock()
                    return
            now = self._clock()
            for waiter in self._waiters.get(job_id, []):
                unchanged = waiter.latest is not None and (waiter.latest.status, waiter.latest.progress) == (
                    job.status,
                    job.progress,
                )
                waiter.direct_due = False
                waiter.report(job, now)
                # A job that stays as it was is looked at less and less often, up to `max_quiet_seconds`.
                waiter.quiet = min(waiter.quiet * 2, self._max_quiet) if unchanged else self._quiet

        await asyncio.gather(*(look(job_id) for job_id in job_ids))
