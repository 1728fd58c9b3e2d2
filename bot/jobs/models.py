"""The durable job record and the states it moves through."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from bot.clock import utcnow


class JobState(StrEnum):
    """Where a request is in its life. Terminal states never change again.

    `undelivered` is not terminal: the images were made (and paid for) but could not be posted; the job rests
    there until its requester asks for it with `/show`, which moves it to `delivered`.
    """

    QUEUED = "queued"
    SUBMITTING = "submitting"
    RUNNING = "running"
    DELIVERING = "delivering"
    UNDELIVERED = "undelivered"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def active(self) -> bool:
        """Whether the engine is still working on it (it resumes such jobs after a restart)."""
        return self in ACTIVE_STATES


TERMINAL_STATES = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.CANCELED})
ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.SUBMITTING, JobState.RUNNING, JobState.DELIVERING})
PUBLIC_VIA = frozenset({"interaction", "channel"})
"""Where a delivered result is visible to everyone in its channel (a DM is not)."""


class Command(StrEnum):
    """The slash command (and so the Scenario model) a job runs."""

    IMAGINE = "imagine"
    CHARACTER = "character"


@dataclass(frozen=True, slots=True)
class FinishedJob:
    """A job that came to rest, as `/status` reads it: how it ended, when it was asked for and ended, its cost."""

    id: str
    state: JobState
    created_at: datetime
    finished_at: datetime
    cost: float | None


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
    channel_parent_id: int | None = None
    """The parent channel when the job was asked for in a thread (a server's allowed channels cover its threads)."""
    channel_age_restricted: bool = False
    """Whether that channel was age-restricted when asked (for a process whose cache does not hold it)."""
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_token: str | None = None
    token_expires_at: datetime | None = None
    filesize_limit: int = 10 * 1024 * 1024
    bot_in_guild: bool = True
    """False for a user install used in a server that has not added the bot: only the interaction can reply."""
    parent_job_id: str | None = None
    parent_message_url: str | None = None
    session_id: int | None = None
    """The brainstorm session (its thread's id) this job is an idea of; set at admission."""
    session_number: int | None = None
    """The idea's number in its session (#1, #2, …), given atomically by the store at admission."""

    # Scenario side.
    submit_started_at: datetime | None = None
    scenario_job_id: str | None = None
    scenario_status: str | None = None
    progress: float = 0.0
    output_asset_ids: list[str] = Field(default_factory=list)
    seeds: list[int | None] = Field(default_factory=list)
    cost: float | None = None
    """What Scenario charged, in CU (0 once it refunded a failure)."""
    estimate_cu: float | None = None
    """Scenario's price quote (a dry run) taken at admission: the job's reservation until `cost` is known."""
    nsfw_labels: dict[str, list[str]] = Field(default_factory=dict)
    """Scenario's NSFW labels (`asset.nsfw`) by output asset id, for the outputs that have any."""

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

    def visible_to(self, user_id: int, guild_id: int | None) -> bool:
        """Who may act on this job by its id (`/show`, result buttons): the requester always; in the same server,
        anyone once the result was posted publicly there. A job from a DM is its requester's alone."""
        if user_id == self.user_id:
            return True
        return (
            guild_id is not None
            and self.guild_id == guild_id
            and self.state is JobState.DELIVERED
            and self.delivered_via in PUBLIC_VIA
        )

    def token_valid(self, now: datetime, margin_seconds: float = 60.0) -> bool:
        """Whether the interaction token can still be used, with a safety margin."""
        if self.interaction_token is None or self.token_expires_at is None:
            return False
        return (self.token_expires_at - now).total_seconds() > margin_seconds
