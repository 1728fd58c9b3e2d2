"""Pydantic models of what the Scenario API returns: jobs, assets, generate results, error bodies.

Attributes are snake_case with the API's camelCase names as aliases (either can be used to build one).
Unknown fields are ignored, because Scenario adds fields over time; job statuses are a closed set (the
SDK's enum), so an unknown one is an error rather than something to guess about.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "Asset",
    "AssetMetadata",
    "AssetProperties",
    "ErrorBody",
    "GenerateResult",
    "Job",
    "JobBilling",
    "JobMetadata",
    "JobStatus",
    "StatusChange",
]


def _as_utc(value: datetime) -> datetime:
    # Scenario sends "...Z"; a time without a zone is taken as UTC so comparisons never mix naive and aware.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UTCDateTime = Annotated[datetime, AfterValidator(_as_utc)]


class _APIModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class JobStatus(StrEnum):
    """Every status a Scenario job can have; `success`, `failure` and `canceled` are final."""

    PENDING = "pending"
    QUEUED = "queued"
    WARMING_UP = "warming-up"
    IN_PROGRESS = "in-progress"
    FINALIZING = "finalizing"
    SUCCESS = "success"
    FAILURE = "failure"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        """True once the job can no longer change."""
        return self in _TERMINAL

    @classmethod
    def parse(cls, value: Any) -> JobStatus:
        """The status for `value`, or a ValueError naming the statuses known."""
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown job status {value!r} (known: {known})") from None


_TERMINAL = frozenset({JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.CANCELED})


def _status(value: Any) -> Any:
    return value if isinstance(value, JobStatus) else JobStatus.parse(value)


class StatusChange(_APIModel):
    """One entry of a job's `statusHistory`."""

    status: JobStatus
    date: UTCDateTime

    _check_status = field_validator("status", mode="before")(_status)


class JobMetadata(_APIModel):
    """A job's metadata: its outputs (`asset_ids`), its failure (`error`, `hint`), its `input` echo."""

    asset_ids: list[str] = Field(default_factory=list)
    error: str | None = None
    hint: str | None = None
    input: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    model_id: str | None = None
    workflow_id: str | None = None
    workflow_job_id: str | None = None

    @field_validator("asset_ids", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class JobBilling(_APIModel):
    """What a job cost in creative units (CU); failures are refunded unless `disable_refund`."""

    cu_cost: float | None = None
    cu_discount: float | None = None
    cu_cost_details: dict[str, float | None] | None = None
    disable_refund: bool | None = None


class Job(_APIModel):
    """A Scenario job, as returned by GET /jobs/{id}, GET /jobs and POST /generate."""

    job_id: str
    status: JobStatus
    job_type: str | None = None
    progress: float = 0.0
    status_history: list[StatusChange] = Field(default_factory=list)
    metadata: JobMetadata = Field(default_factory=JobMetadata)
    billing: JobBilling | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None
    owner_id: str | None = None
    author_id: str | None = None

    _check_status = field_validator("status", mode="before")(_status)

    @field_validator("progress", "status_history", "metadata", mode="before")
    @classmethod
    def _null_is_default(cls, value: Any, info: Any) -> Any:
        if value is not None:
            return value
        return {"progress": 0.0, "status_history": [], "metadata": {}}[info.field_name]

    @property
    def asset_ids(self) -> list[str]:
        """The ids of the assets the job produced (empty until it succeeds)."""
        return list(self.metadata.asset_ids)


class AssetMetadata(_APIModel):
    """The generation details of an asset (size, seed, model, parent job...)."""

    kind: str | None = None
    type: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    prompt: str | None = None
    seed: str | None = None
    model_id: str | None = None
    parent_job_id: str | None = None

    @field_validator("seed", mode="before")
    @classmethod
    def _seed_as_text(cls, value: Any) -> Any:
        # The SDK types the seed as a string; some responses carry a number.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(int(value))
        return value


class AssetProperties(_APIModel):
    """The stored file: its size in bytes, its pixel size and format."""

    size: int | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None


class Asset(_APIModel):
    """A Scenario asset; `url` is a signed CDN link that expires, so fetch a fresh asset to renew it."""

    id: str
    url: str
    mime_type: str | None = None
    kind: str | None = None
    status: str | None = None
    source: str | None = None
    output_index: int | None = None
    metadata: AssetMetadata = Field(default_factory=AssetMetadata)
    properties: AssetProperties = Field(default_factory=AssetProperties)
    nsfw: list[str] | None = None
    """Scenario's NSFW labels for the image; absent or empty = none."""
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class GenerateResult(_APIModel):
    """The answer to POST /generate/custom/{model}: the new job and what it will cost."""

    job: Job
    creative_units_cost: float | None = None
    creative_units_discount: float | None = None
    cost_details: dict[str, float] | None = None


class ErrorBody(_APIModel):
    """Scenario's error body: `{"reason": ..., "name": ..., "details": {...}}` (all optional)."""

    reason: str | None = None
    name: str | None = None
    details: dict[str, Any] | None = None
