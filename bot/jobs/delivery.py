"""What the engine needs from whoever shows progress and posts results (Discord, in production)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.jobs.models import JobRecord


@dataclass(frozen=True)
class OutputImage:
    """One generated image, downloaded from Scenario and ready to post."""

    asset_id: str
    data: bytes
    mime_type: str
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    nsfw: tuple[str, ...] = ()
    """Scenario's NSFW labels for this image (empty: none); the server's `/config nsfw` policy decides."""


@dataclass(frozen=True)
class Delivered:
    """Where a result was posted."""

    message_ids: list[int]
    via: str
    """`interaction`, `channel` or `dm`."""
    note: str | None = None


@dataclass(frozen=True)
class Reply:
    """Another interaction to post a result through (`/show`), instead of the job's own message."""

    application_id: int
    token: str
    expires_at: datetime
    filesize_limit: int
    guild_id: int | None = None
    """The server it is posted in (its `/config nsfw` policy applies), None in a DM."""
    age_restricted: bool = False
    """Whether it is posted in an age-restricted channel."""

    def __repr__(self) -> str:  # the token is a credential for 15 minutes
        return f"Reply(application_id={self.application_id}, token=<hidden>)"


class DeliveryError(Exception):
    """A result could not be posted anywhere; the message says why (it is shown to the requester later)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class Delivery(Protocol):
    """The engine's view of Discord: progress, results and failure notices for one job at a time."""

    async def show_progress(self, job: JobRecord, text: str) -> None:
        """Best effort: replace the job's status text. Never raises."""

    async def deliver(
        self, job: JobRecord, images: Sequence[OutputImage], *, resumed: bool, reply: Reply | None = None
    ) -> Delivered:
        """Post the result exactly once. With `resumed`, first check whether an earlier attempt already did.

        With `reply`, post it through that interaction instead (a result asked for again). Every failure is
        a `DeliveryError` that says whether trying again may help."""

    async def report_failure(self, job: JobRecord, text: str) -> None:
        """Best effort: tell the requester their job ended without images, and why. Never raises."""
