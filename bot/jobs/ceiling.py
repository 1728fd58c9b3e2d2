"""The plan's parallel-job ceiling, learned from Scenario's own answers (`MAX_PARALLEL_JOBS=auto`).

Scenario answers a generate request beyond the plan's parallel jobs with 429 `PlanLimitReachedError`, whose
`details.actionLimit` is the plan's number. So the ceiling need not be configured:

* **Not known yet** (a fresh start): jobs are sent one POST at a time while work waits — each next one only
  once Scenario has answered the last — so the first 429 arrives alone and sets the ceiling exactly.
* **Known**: the fair line starts jobs up to it; every later 429 sets it again (down, or up).
* **Growing**: while work has waited at the ceiling for `ceiling_probe_seconds`, one job more is tried. If
  Scenario takes it the ceiling rises by one; a 429 keeps it and doubles the wait before the next try (up to
  32 times), so a whole run sees a handful of 429s, never a loop into the ceiling.
* **A number** (`MAX_PARALLEL_JOBS=8`) caps all of this, for a team that shares the plan with other tools.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.jobs.scheduler import FairScheduler

log = logging.getLogger(__name__)

MAX_PROBE_BACKOFF = 32


class Probing:
    """What learning the ceiling needs, whoever keeps the line (this process's `Ceiling`, or the shared line's
    queue): the POSTs sent while the ceiling is unknown and not answered yet, the one job tried beyond it, and
    since when work has waited at it (the wait before a probe doubles after each probe Scenario refuses)."""

    def __init__(self, probe_seconds: float, clock: Clock) -> None:
        self._probe_seconds = probe_seconds
        self._clock = clock
        self.wait = probe_seconds
        self.unanswered: set[str] = set()
        """Jobs started while the ceiling is unknown whose POST Scenario has not answered yet."""
        self.probe: str | None = None
        self.waiting_since: float | None = None

    def may_probe(self, limit: int | None, cap: int | None) -> bool:
        """Whether one job beyond the ceiling `limit` may be tried now (never beyond the configured `cap`)."""
        if self.probe is not None or limit is None or (cap is not None and limit >= cap):
            return False
        since = self.waiting_since
        return since is not None and self._clock.monotonic() - since >= self.wait

    def started(self, job_id: str, *, unknown: bool = False, probe_beyond: int | None = None) -> None:
        """A job started: `unknown`, while the ceiling is unknown (its POST's answer is awaited); `probe_beyond`,
        as the one job tried beyond that ceiling."""
        if unknown:
            self.unanswered.add(job_id)
        if probe_beyond is not None:
            self.probe = job_id
            log.info("Work has waited at the ceiling of %d: trying one job more", probe_beyond)

    def note_waiting(self, waiting: bool) -> None:
        """Whether work waits now: the wait at the ceiling starts, goes on, or ends."""
        if not waiting:
            self.waiting_since = None
        elif self.waiting_since is None:
            self.waiting_since = self._clock.monotonic()

    def restart_wait(self) -> None:
        """The ceiling changed: work waiting now waits at the new one, from now."""
        self.waiting_since = self._clock.monotonic()

    def forget(self, job_id: str) -> bool:
        """Scenario answered the job's POST, or its run ended: True if it was the probe."""
        self.unanswered.discard(job_id)
        if job_id != self.probe:
            return False
        self.probe = None
        return True

    def refused(self, job_id: str, *, known: bool) -> None:
        """Scenario answered 429; `known`: a ceiling was in force, so it was too high (a probe's guess), and the
        next probe waits twice as long."""
        self.forget(job_id)
        if known:
            self.wait = min(self.wait * 2, self._probe_seconds * MAX_PROBE_BACKOFF)
        self.restart_wait()


class Ceiling:
    """Decides which job may start now under the ceiling, and learns the ceiling from Scenario's answers."""

    def __init__(self, scheduler: FairScheduler, *, cap: int | None, probe_seconds: float, clock: Clock) -> None:
        self._scheduler = scheduler
        self._cap = cap
        self._probing = Probing(probe_seconds, clock)

    @property
    def known(self) -> int | None:
        """The ceiling in force, or None while it is being learned."""
        return self._scheduler.limit

    def next_job(self) -> str | None:
        """The next job (in the line's fair order) that may start now, or None."""
        scheduler, probing = self._scheduler, self._probing
        if scheduler.limit is None:
            if probing.unanswered:
                return None
            job_id = scheduler.next_job()
            if job_id is not None:
                probing.started(job_id, unknown=True)
            return job_id
        job_id = scheduler.next_job()
        if job_id is None and probing.may_probe(scheduler.limit, self._cap):
            job_id = scheduler.next_job(beyond_limit=True)
            if job_id is not None:
                probing.started(job_id, probe_beyond=scheduler.limit)
        return job_id

    def after_pump(self) -> None:
        """Note whether work is still waiting, for how long work has waited at the ceiling."""
        self._probing.note_waiting(self._scheduler.has_waiting)

    def answered(self, job_id: str, *, accepted: bool) -> None:
        """Scenario answered a job's POST other than with 429; `accepted` when it created the job."""
        if self._probing.forget(job_id) and accepted and self._scheduler.limit is not None:
            # One more fitted, though perhaps only because a job had ended unnoticed: the next 429 will say.
            # The wait between probes never shrinks, so such a guess costs a handful of 429s at most.
            self._scheduler.set_limit(self._scheduler.limit + 1)
            self._probing.restart_wait()
            log.warning("Scenario took one job more: the ceiling is now %d", self._scheduler.limit)

    def refused(self, job_id: str, plan_limit: int | None) -> None:
        """Scenario answered 429 (the caller has freed the job's slot): learn the ceiling from it."""
        self._probing.refused(job_id, known=self._scheduler.limit is not None)
        learned = plan_limit or max(len(self._scheduler.running), 1)
        if self._cap is not None:
            learned = min(learned, self._cap)
        if self._scheduler.set_limit(learned):
            log.warning("Scenario's plan allows %d parallel jobs: the ceiling is now %d", plan_limit or 0, learned)

    def forget(self, job_id: str) -> None:
        """A job's run ended without a word from Scenario about its POST."""
        self._probing.forget(job_id)
