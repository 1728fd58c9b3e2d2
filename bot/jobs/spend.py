"""What spending is made of: a job's charge, the budget windows it counts in, and the rows `/usage` reads.

A job's charge is its real `cost` once Scenario answered, else its `estimate_cu` while it is still worked on
(the reservation made at admission); a failed or canceled job counts its `cost` only when Scenario kept it
(the runner sets `cost` to 0 when Scenario refunds a failure). Both stores compute it with `CHARGE_SQL`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

CHARGE_SQL = "CASE WHEN state IN ('failed', 'canceled') THEN COALESCE(cost, 0) ELSE COALESCE(cost, estimate_cu, 0) END"
"""A job's charge in CU, as SQL over the jobs table (the same text on SQLite and PostgreSQL)."""
CONFIRMATION_TTL = timedelta(days=1)
"""How long a request waits for its requester's Run: after that, Run answers that it was already run or canceled
(a price quoted yesterday should be asked for again), and the stored request is dropped."""


class Scope(StrEnum):
    """Whose budget: a person's per UTC day, a server's per calendar month, the whole bot's per month, or a
    brainstorm session's `budget_cu` for its whole life."""

    USER = "user"
    SERVER = "server"
    TOTAL = "total"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class BudgetLimit:
    """One budget that applies to a request: at most `limit_cu` for jobs created in [`since`, `resets`).

    `USER` counts the person's jobs everywhere (servers, DMs, user installs); `SERVER` counts the jobs made in
    that server where the bot is a member (a user install elsewhere counts under the person only); `TOTAL`
    counts every job.
    """

    scope: Scope
    limit_cu: float
    since: datetime
    resets: datetime
    user_id: int | None = None
    guild_id: int | None = None
    session_id: int | None = None


@dataclass(frozen=True, slots=True)
class Charge:
    """One job as spending reads it (`/usage`, its CSV)."""

    job_id: str
    user_id: int
    user_name: str
    guild_id: int | None
    state: str
    created_at: datetime
    estimate_cu: float | None
    cost: float | None
    charge: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any], created_at: datetime) -> Charge:
        """From a row of `charges`' query (`created_at` as the backend reads it, in UTC)."""
        return cls(
            row["id"], row["user_id"], row["user_name"], row["guild_id"], row["state"], created_at,
            row["estimate_cu"], row["cost"], float(row["charge"]),
        )  # fmt: skip


def day_window(now: datetime) -> tuple[datetime, datetime]:
    """The UTC day `now` is in: its start and the next day's."""
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def month_window(now: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar month `now` is in: its start and the next month's."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def limit_filter(limit: BudgetLimit) -> tuple[str, list[object]]:
    """The WHERE condition (with `?` placeholders) selecting the jobs a budget counts, and its parameters."""
    if limit.scope is Scope.USER:
        return "user_id = ? AND created_at >= ?", [limit.user_id, limit.since]
    if limit.scope is Scope.SESSION:
        return "session_id = ?", [limit.session_id]
    if limit.scope is Scope.SERVER:
        return "guild_id = ? AND bot_in_guild = ? AND created_at >= ?", [limit.guild_id, True, limit.since]
    return "created_at >= ?", [limit.since]
