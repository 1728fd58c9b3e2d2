"""The job store interface, and opening one from a `DATABASE_URL`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from bot.jobs.models import FinishedJob, JobRecord, JobState
from bot.servers._settings import ServerSettings


class JobStore(Protocol):
    """Durable storage for job records.

    Every method is a single atomic operation, so a process killed at any instant leaves each record either
    before or after a change, never half-way. Two implementations: `SQLiteJobStore` (the embedded default)
    and `PostgresJobStore`; `tests/bot/jobs/test_store_contract.py` runs the same suite against both.
    """

    async def open(self) -> None:
        """Connect and apply any pending schema migrations."""

    async def close(self) -> None:
        """Finish pending writes and disconnect."""

    async def ping(self) -> None:
        """Run a trivial query (`SELECT 1`); raises when the database does not answer (readiness checks)."""

    async def add(self, job: JobRecord) -> None:
        """Insert a new record."""

    async def get(self, job_id: str) -> JobRecord | None:
        """The record with this id, or None."""

    async def update(self, job_id: str, **fields: Any) -> JobRecord:
        """Set some fields (and `updated_at`), returning the new record. Raises KeyError if unknown."""

    async def transition(
        self, job_id: str, from_states: Iterable[JobState], to_state: JobState, **fields: Any
    ) -> JobRecord | None:
        """Move to `to_state` only if currently in one of `from_states`; None if it was not."""

    async def unfinished(self) -> Sequence[JobRecord]:
        """Every record the engine still works on (`ACTIVE_STATES`), oldest first."""

    async def for_user(
        self, user_id: int, *, states: Iterable[JobState] | None = None, limit: int = 25, offset: int = 0
    ) -> Sequence[JobRecord]:
        """A user's records, newest first."""

    async def scenario_job_ids_since(self, since: Any) -> set[str]:
        """Scenario job ids already claimed by records touched at or after `since` (a superset is harmless)."""

    async def finished_since(self, since: Any) -> Sequence[FinishedJob]:
        """Jobs that came to rest (`finished_at`) at or after `since`, in the order they did."""

    async def server_settings(self, guild_id: int) -> ServerSettings:
        """A server's `/config` settings (the defaults when it never set any)."""

    async def save_server_settings(self, guild_id: int, settings: ServerSettings) -> None:
        """Replace a server's `/config` settings (one statement: every process reads the new ones at once)."""


def open_store(database_url: str) -> JobStore:
    """Build (not yet open) the store a `DATABASE_URL` names."""
    if database_url.startswith("sqlite:"):
        from bot.jobs.sqlite import SQLiteJobStore, sqlite_path

        return SQLiteJobStore(sqlite_path(database_url))
    if database_url.startswith(("postgres://", "postgresql://")):
        from bot.jobs.postgres import PostgresJobStore

        return PostgresJobStore(database_url)
    raise ValueError("DATABASE_URL must start with sqlite:/// (for example sqlite:///data/bot.db) or postgresql://")
