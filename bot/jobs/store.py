"""The job store interface, and opening one from a `DATABASE_URL`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from bot.jobs.models import FinishedJob, JobRecord, JobState
from bot.jobs.spend import BudgetLimit, Charge
from bot.library.models import Preferences, SavedCharacter, SavedStyle
from bot.servers._settings import ServerSettings
from bot.sessions.models import SessionRecord


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

    # Spending (see `bot.jobs.spend`).
    async def add_within_budgets(self, job: JobRecord, limits: Sequence[BudgetLimit]) -> BudgetLimit | None:
        """Atomically: insert the job if its `estimate_cu` fits every limit, else return the first it exceeds."""

    async def spent(self, limit: BudgetLimit) -> float:
        """The CU charged (or reserved) so far in a budget's window."""

    async def charges(self, since: Any, *, user_id: int | None = None, guild_id: int | None = None) -> Sequence[Charge]:
        """Jobs created at or after `since` (a person's, or a server's where the bot is a member), oldest first."""

    async def budget_overrides(self, guild_id: int) -> dict[int, float]:
        """A server's budgets set by its admins: {user id: daily CU}, key 0 for the server's monthly CU."""

    async def set_budget_override(self, guild_id: int, user_id: int, limit_cu: float | None) -> None:
        """Set (or with None, remove) a budget override; `user_id` 0 is the server's own monthly budget."""

    async def blocked_users(self, guild_id: int) -> set[int]:
        """The members blocked from starting jobs in a server."""

    async def set_blocked(self, guild_id: int, user_id: int, blocked: bool) -> None:
        """Block a member from starting jobs in a server, or lift the block."""

    async def add_confirmation(self, job: JobRecord) -> None:
        """Keep a request that waits for its requester's Run."""

    async def take_confirmation(self, job_id: str) -> JobRecord | None:
        """Remove and return a waiting request; None if it was run or canceled already."""

    async def server_settings(self, guild_id: int) -> ServerSettings:
        """A server's `/config` settings (the defaults when it never set any)."""

    async def save_server_settings(self, guild_id: int, settings: ServerSettings) -> None:
        """Replace a server's `/config` settings (one statement: every process reads the new ones at once)."""

    # -- the library: saved characters and styles, personal defaults (`bot.library`) ---------------------
    # Names are unique per owner and per server (shared items), case-insensitively: a clash raises
    # `bot.library.models.NameTakenError`, atomically, whoever saves at the same moment.

    async def save_character(self, character: SavedCharacter) -> None:
        """Insert a saved character; `NameTakenError` if the name is taken."""

    async def characters_for(
        self, user_id: int, guild_id: int | None, *, thumbnails: bool = False
    ) -> Sequence[SavedCharacter]:
        """The person's own characters and those shared with this server, by name (thumbnails only if asked)."""

    async def get_character(self, character_id: str) -> SavedCharacter | None:
        """The character with this id, or None."""

    async def rename_character(self, character_id: str, name: str) -> SavedCharacter | None:
        """Rename (None if it no longer exists); `NameTakenError` if the name is taken."""

    async def delete_character(self, character_id: str) -> bool:
        """Delete; False if it did not exist."""

    async def save_style(self, style: SavedStyle) -> None:
        """Insert a saved style; `NameTakenError` if the name is taken."""

    async def styles_for(self, user_id: int, guild_id: int | None) -> Sequence[SavedStyle]:
        """The person's own styles and those shared with this server, by name."""

    async def get_style(self, style_id: str) -> SavedStyle | None:
        """The style with this id, or None."""

    async def delete_style(self, style_id: str) -> bool:
        """Delete; False if it did not exist."""

    async def get_preferences(self, user_id: int) -> Preferences:
        """The person's `/prefer` defaults (nothing set when they never chose any)."""

    async def set_preferences(self, preferences: Preferences) -> None:
        """Replace the person's defaults with these."""

    async def delete_preferences(self, user_id: int) -> None:
        """Forget the person's defaults (`/prefer reset`)."""

    # -- brainstorm sessions (bot/sessions) --------------------------------------------------------------
    async def add_session(self, session: SessionRecord) -> None:
        """Insert a new session; ValueError if its thread already has one."""

    async def get_session(self, thread_id: int) -> SessionRecord | None:
        """The session of this thread, or None."""

    async def take_session_number(self, thread_id: int) -> int | None:
        """Atomically give the next idea number of an open session (1, 2, …); None if ended or unknown.

        Two processes admitting ideas at once never get the same number."""

    async def end_session(self, thread_id: int, ended_at: Any) -> SessionRecord | None:
        """Mark an open session ended and return it; None if it was already ended (or unknown): ends once."""

    async def session_jobs(self, thread_id: int) -> Sequence[JobRecord]:
        """Every job of a session, by number."""

    async def toggle_vote(self, job_id: str, user_id: int) -> tuple[bool, int]:
        """Add this person's vote for a result, or take it back if they had voted: (voted now, vote count)."""

    async def session_votes(self, thread_id: int) -> dict[str, int]:
        """Vote counts of a session's results, by job id (results without votes left out)."""


def open_store(database_url: str) -> JobStore:
    """Build (not yet open) the store a `DATABASE_URL` names."""
    if database_url.startswith("sqlite:"):
        from bot.jobs.sqlite import SQLiteJobStore, sqlite_path

        return SQLiteJobStore(sqlite_path(database_url))
    if database_url.startswith(("postgres://", "postgresql://")):
        from bot.jobs.postgres import PostgresJobStore

        return PostgresJobStore(database_url)
    raise ValueError("DATABASE_URL must start with sqlite:/// (for example sqlite:///data/bot.db) or postgresql://")
