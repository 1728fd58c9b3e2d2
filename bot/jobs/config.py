"""The engine's knobs, typed, with the defaults `python -m bot` derives from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.retry import RetryPolicy
from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """How many jobs run, how long they may take, and how patiently the engine retries."""

    max_parallel: int | None = None
    """A cap on Scenario jobs at once; None (`MAX_PARALLEL_JOBS=auto`): the plan's own ceiling, learned."""
    ceiling_probe_seconds: float = 60.0
    """With a learned ceiling and work waiting at it this long, one job more is tried, in case the plan grew;
    a probe that meets a 429 doubles the wait (up to 32 times), so a whole run sees only a handful of 429s."""
    max_queued_per_user: int = 5
    lease_seconds: float = 30.0
    """With PostgreSQL: how long a job stays with a process that stopped answering before another takes it over
    (renewed every third of it, at most every 5 s)."""
    job_timeout: float = 900.0
    download_cap: int = 64 * 1024 * 1024
    progress_interval: float = 5.0
    """Seconds between two edits of a job's status message (its progress bar, its place in line); the latest
    text waits for the next allowed edit. Every 2 s cost 6.3 progress edits per job of 12.5 s on average
    (`bench/load.py`), each a Discord request; every 5 s, a bar still moves about three times in such a job."""
    slot_retry_seconds: float = 10.0
    """How long to start nothing after Scenario answered that the plan runs as many jobs as it allows."""
    submit_settle_seconds: float = 75.0
    """Longer than a request to Scenario may take: by then an interrupted `POST /generate` has created its
    job or never will, so not finding it means it is safe to send again."""
    max_submit_attempts: int = 3
    """The budget of paid `POST /generate` requests for one job, across restarts (see `_submission.py`)."""
    max_delivery_attempts: int = 3
    status_mode: str = "batched"
    """`batched`: one `GET /jobs` a tick watches every job in flight (`bot.scenario.StatusWatch`);
    `per_job`: each job polls `GET /jobs/{id}` on its own (`bot.scenario.poll_job`)."""
    status_tick: float = 0.3
    """Seconds between two batched status looks."""
    budget_user_daily_cu: float | None = None
    """CU one person may spend per UTC day (None: unlimited); a server's admins can override it there."""
    budget_server_monthly_cu: float | None = None
    """CU one server may spend per calendar month (None: unlimited); its admins can override it."""
    budget_total_monthly_cu: float | None = None
    """CU the whole bot may spend per calendar month (None: unlimited)."""
    confirm_above_cu: float | None = None
    """Above this estimate the requester confirms with Run first (None: never asked)."""
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(initial=2.0, maximum=30.0))
    """Waits between the engine's own attempts (a resent submission, a retried delivery)."""

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> EngineConfig:
        """The configuration `python -m bot` runs with."""
        values: dict[str, object] = {
            "max_parallel": None if settings.max_parallel_jobs == "auto" else settings.max_parallel_jobs,
            "max_queued_per_user": settings.max_queued_per_user,
            "lease_seconds": settings.job_lease_seconds,
            "job_timeout": settings.job_timeout_seconds,
            "submit_settle_seconds": settings.scenario_timeout_seconds * 1.25,
            "status_mode": settings.status_mode,
            "status_tick": settings.status_tick_seconds,
            "budget_user_daily_cu": settings.budget_user_daily_cu,
            "budget_server_monthly_cu": settings.budget_server_monthly_cu,
            "budget_total_monthly_cu": settings.budget_total_monthly_cu,
            "confirm_above_cu": settings.confirm_above_cu,
        }
        return cls(**{**values, **overrides})  # type: ignore[arg-type]
