"""The fake's records: jobs with a lifecycle computed from the clock, assets, and calls received."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Fractions of a job's duration at which it enters each status on the way to success.
_PHASES: tuple[tuple[str, float], ...] = (
    ("queued", 0.0),
    ("warming-up", 0.1),
    ("in-progress", 0.25),
    ("finalizing", 0.9),
)
PROGRESS_STEPS = 17
"""While `in-progress`, progress rises in this many even steps from 0.10 to 0.95, as providers report it;
each step is an update of the job, so `updatedAt` moves with it and `GET /jobs?updatedAfter=` lists it."""
TERMINAL_STATUSES = frozenset({"success", "failure", "canceled"})
JOB_STATUSES = (
    "pending",
    "queued",
    "warming-up",
    "in-progress",
    "finalizing",
    "success",
    "failure",
    "canceled",
)


class Timebase:
    """Maps the fake's monotonic clock onto wall-clock milliseconds and ISO-8601 strings."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._origin = clock()
        self._epoch_ms = int(time.time() * 1000)

    def now(self) -> float:
        """Current monotonic time of the fake's clock."""
        return self._clock()

    def to_ms(self, t: float) -> int:
        """Wall-clock epoch milliseconds for a monotonic time `t`."""
        return self._epoch_ms + round((t - self._origin) * 1000)

    def from_ms(self, ms: int) -> float:
        """The monotonic time matching wall-clock epoch milliseconds `ms`."""
        return self._origin + (ms - self._epoch_ms) / 1000

    def iso(self, t: float) -> str:
        """ISO-8601 UTC with milliseconds and `Z`, the API's date format."""
        ms = self.to_ms(t)
        stamp = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{stamp}.{ms % 1000:03d}Z"


def parse_iso_ms(value: str) -> int:
    """Epoch milliseconds of an ISO-8601 date; naive dates count as UTC. Raises ValueError."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


@dataclass
class GenerateCall:
    """One POST /generate/custom/{modelId} as received, and what the fake answered."""

    model_id: str
    body: dict[str, Any] | None
    job_id: str | None = None
    status: int | None = None  # None when the connection was dropped without a response


@dataclass
class JobView:
    """A job as seen at one instant."""

    status: str
    progress: float
    history: list[tuple[str, float]]
    updated_at: float


@dataclass
class FakeJob:
    """A generation job; its status is a pure function of the clock."""

    job_id: str
    model_id: str
    input: dict[str, Any]
    created_at: float
    duration: float
    cost: int
    owner_id: str
    author_id: str
    fail: tuple[str, str] | None = None
    canceled: bool = False
    listed: bool = True
    """False: `GET /jobs` leaves this job out (a misbehaving list, for tests); `GET /jobs/{id}` still has it."""
    disable_refund: bool = False
    asset_ids: list[str] = field(default_factory=list)

    @property
    def end_at(self) -> float:
        """Clock time at which the job reaches its terminal status."""
        return self.created_at + self.duration

    @property
    def success_at(self) -> float | None:
        """Clock time at which the job turns (or turned) `success`; None if it never will."""
        return None if self.fail or self.canceled else self.end_at

    @property
    def final_status(self) -> str:
        """The terminal status this job is heading for."""
        if self.fail:
            return "failure"
        return "canceled" if self.canceled else "success"

    def refunded(self, now: float) -> bool:
        """Whether its charge was given back: it failed (or was canceled) and refunds were not disabled."""
        return self.final_status != "success" and now >= self.end_at and not self.disable_refund

    def is_active(self, now: float) -> bool:
        """True while the job is not terminal (it counts against the parallel limit)."""
        return self.created_at <= now < self.end_at

    def timeline(self) -> list[tuple[str, float]]:
        """Every status the job will go through, with the clock time it enters each."""
        phases = _PHASES if self.final_status == "success" else _PHASES[:3]
        steps = [(status, self.created_at + frac * self.duration) for status, frac in phases]
        steps.append((self.final_status, self.end_at))
        return steps

    def view(self, now: float) -> JobView:
        """The job's status, progress and history at clock time `now`."""
        history = [step for step in self.timeline() if step[1] <= now] or [self.timeline()[0]]
        status, since = history[-1]
        if status != "in-progress":
            return JobView(status, self._progress(status), history, since)
        # The job was last updated at its latest progress step.
        start = self.created_at + 0.25 * self.duration
        span = 0.65 * self.duration
        fraction = min(max((now - start) / span, 0.0), 1.0) if span > 0 else 1.0
        step = min(int(fraction * PROGRESS_STEPS + 1e-9), PROGRESS_STEPS - 1)
        progress = round(0.1 + 0.85 * step / PROGRESS_STEPS, 3)
        return JobView(status, progress, history, max(since, start + span * step / PROGRESS_STEPS))

    def _progress(self, status: str) -> float:
        if status == "success":
            return 1.0
        return 0.95 if status == "finalizing" else 0.0


@dataclass
class FakeAsset:
    """An image asset: uploaded (bytes as sent) or generated (rendered lazily, then cached)."""

    asset_id: str
    mime_type: str
    width: int
    height: int
    source: str  # "upload" | "txt2img" | "img2img"
    created_at: float
    seed: int | None = None
    name: str | None = None
    job_id: str | None = None
    model_id: str | None = None
    prompt: str | None = None
    output_index: int | None = None
    nsfw: list[str] = field(default_factory=list)
    owner_id: str = "proj_sandbox"
    author_id: str = "user_sandbox"
    render: Callable[[], bytes] | None = field(default=None, repr=False)
    _data: bytes | None = field(default=None, repr=False)

    @property
    def data(self) -> bytes:
        """The asset's bytes (a generated image is rendered on first access)."""
        if self._data is None:
            if self.render is None:
                raise RuntimeError(f"asset {self.asset_id} has neither data nor a renderer")
            self._data = self.render()
        return self._data

    @data.setter
    def data(self, value: bytes) -> None:
        self._data = value
