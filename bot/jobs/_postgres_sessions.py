"""The PostgreSQL store's brainstorm-session tables: sessions, their atomic numbering, and votes.

Numbering is one `UPDATE … RETURNING` (the row lock serialises processes); a vote is toggled in one
transaction whose delete-or-insert cannot count a person twice (the primary key).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from bot.jobs import _records
from bot.jobs._records import COLUMNS
from bot.jobs.models import JobRecord
from bot.sessions.models import SessionDefaults, SessionRecord

MIGRATION = """
-- Brainstorm sessions (/session): a job may be an idea of a session, numbered in it; votes per person.
ALTER TABLE jobs ADD COLUMN session_id bigint;
ALTER TABLE jobs ADD COLUMN session_number integer;
CREATE INDEX jobs_session ON jobs (session_id, session_number) WHERE session_id IS NOT NULL;
CREATE TABLE sessions (
    thread_id bigint PRIMARY KEY,
    guild_id bigint NOT NULL,
    channel_id bigint NOT NULL,
    title text NOT NULL,
    starter_id bigint NOT NULL,
    starter_name text NOT NULL,
    defaults jsonb NOT NULL,
    budget_cu double precision,
    header_message_id bigint,
    last_number integer NOT NULL,
    created_at timestamptz NOT NULL,
    ended_at timestamptz
);
CREATE TABLE session_votes (
    job_id text NOT NULL,
    user_id bigint NOT NULL,
    PRIMARY KEY (job_id, user_id)
);
"""
SESSION_COLUMNS = (
    "thread_id, guild_id, channel_id, title, starter_id, starter_name, defaults, budget_cu, header_message_id,"
    " last_number,"
    " created_at, ended_at"
)


class PostgresSessions:
    """Mixed into `PostgresJobStore`: the session methods of the `JobStore` protocol."""

    _db: asyncpg.Pool

    async def add_session(self, session: SessionRecord) -> None:
        """Insert a new session; ValueError if its thread already has one."""
        try:
            await self._db.execute(
                f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                session.thread_id, session.guild_id, session.channel_id, session.title, session.starter_id,
                session.starter_name, session.defaults.model_dump_json(), session.budget_cu, session.header_message_id,
                session.last_number,
                _records.as_utc(session.created_at), _records.as_utc(session.ended_at) if session.ended_at else None,
            )  # fmt: skip
        except asyncpg.UniqueViolationError as exc:
            raise ValueError(f"Thread {session.thread_id} already has a session") from exc

    async def get_session(self, thread_id: int) -> SessionRecord | None:
        row = await self._db.fetchrow(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE thread_id = $1", thread_id)
        return _session(row) if row is not None else None

    async def take_session_number(self, thread_id: int) -> int | None:
        return await self._db.fetchval(
            "UPDATE sessions SET last_number = last_number + 1 WHERE thread_id = $1 AND ended_at IS NULL"
            " RETURNING last_number",
            thread_id,
        )

    async def end_session(self, thread_id: int, ended_at: datetime) -> SessionRecord | None:
        row = await self._db.fetchrow(
            f"UPDATE sessions SET ended_at = $1 WHERE thread_id = $2 AND ended_at IS NULL RETURNING {SESSION_COLUMNS}",
            _records.as_utc(ended_at),
            thread_id,
        )
        return _session(row) if row is not None else None

    async def session_jobs(self, thread_id: int) -> Sequence[JobRecord]:
        rows = await self._db.fetch(
            f"SELECT {COLUMNS} FROM jobs WHERE session_id = $1 ORDER BY session_number, created_at, seq", thread_id
        )
        return [_records.to_record(row) for row in rows]

    async def toggle_vote(self, job_id: str, user_id: int) -> tuple[bool, int]:
        async with self._db.acquire() as conn, conn.transaction():
            taken_back = await conn.fetchval(
                "DELETE FROM session_votes WHERE job_id = $1 AND user_id = $2 RETURNING 1", job_id, user_id
            )
            if taken_back is None:
                await conn.execute(
                    "INSERT INTO session_votes (job_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    job_id,
                    user_id,
                )
            count = await conn.fetchval("SELECT count(*) FROM session_votes WHERE job_id = $1", job_id)
        return taken_back is None, int(count)

    async def session_votes(self, thread_id: int) -> dict[str, int]:
        rows = await self._db.fetch(
            "SELECT v.job_id, count(*) AS n FROM session_votes v JOIN jobs j ON j.id = v.job_id"
            " WHERE j.session_id = $1 GROUP BY v.job_id",
            thread_id,
        )
        return {row["job_id"]: int(row["n"]) for row in rows}


def _session(row: Any) -> SessionRecord:
    return SessionRecord(
        thread_id=row["thread_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        title=row["title"],
        starter_id=row["starter_id"],
        starter_name=row["starter_name"],
        defaults=SessionDefaults.model_validate(json.loads(row["defaults"])),
        budget_cu=row["budget_cu"],
        header_message_id=row["header_message_id"],
        last_number=row["last_number"],
        created_at=_records.as_utc(row["created_at"]),
        ended_at=_records.as_utc(row["ended_at"]) if row["ended_at"] else None,
    )
