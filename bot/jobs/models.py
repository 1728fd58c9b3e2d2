"""The durable job record and the states it moves through."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class JobState(StrEnum):
    """Where a request is in its life. Terminal states never change again."""

    QUEUED = "queued"
    SUBMITTING = "submitting"
    RUNNING = "running"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.CANCELED})
ACTIVE_STATES = frozenset(set(JobState) - TERMINAL_STATES)


class Command(StrEnum):
    """The slash command (and so the Scenario model) a job runs."""

    IMAGINE = "imagine"
    CHARACTER = "character"


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_job_id() -> str:
    """A short, URL- and custom_id-safe id (12 hex characters)."""
    return secrets.token_hex(6)


class JobRecord(BaseModel):
    """Everything needed to run, resume and deliver one request, whatever happens to the process."""

    id: str = Field(default_factory=new_job_id)
    state: JobState = JobState.QUEUED
    command: Command
    model_id: str
    inputs: dict[str, Any]
    """The validated Scenario request body (camelCase), exactly as it is sent."""
    uploaded_asset_ids: dict[str, str] = Field(default_factory=dict)
    """Inputs uploaded as Scenario assets, by role (`reference`, `image`, `mask`)."""

    # Who and where.
    user_id: int
    user_name: str = ""
    guild_id: int | None = None
    channel_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_token: str | None = None
    token_expires_at: datetime | None = None
    response_message_id: int | None = None
    filesize_limit: int = 10 * 1024 * 1024
    bot_in_guild: bool = True
    """False for a user install used in a server that has not added the bot: only the interaction can reply."""
    parent_job_id: str | None = None
    parent_message_url: str | None = None

    # Scenario side.
    submit_started_at: datetime | None = None
    scenario_job_id: str | None = None
    scenario_status: str | None = None
    progress: float = 0.0
    output_asset_ids: list[str] = Field(default_factory=list)
    seeds: list[int | None] = Field(default_factory=list)
    cost: float | None = None

    # Delivery.
    delivered_message_ids: list[int] = Field(default_factory=list)
    delivered_via: str | None = None
    delivery_note: str | None = None

    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def prompt(self) -> str:
        return str(self.inputs.get("prompt", ""))

    def token_valid(self, now: datetime, margin_seconds: float = 60.0) -> bool:
        """Whether the interaction token can still be used, with a safety margin."""
        if self.interaction_token is None or self.token_expires_at is None:
            return False
        return (self.token_expires_at - now).total_seconds() > margin_seconds
