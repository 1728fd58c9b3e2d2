"""The SQLite store's brainstorm-session tables: sessions, their atomic numbering, and votes.

Each method is one statement (or, for a vote, a delete then an insert that cannot both win), so a process
killed at any instant and two processes on one database never leave a number given twice or a vote counted
twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.jobs import _records
from bot.jobs._records import COLUMNS
from bot.jobs.models import JobRecord
from bot.sessions.models import SessionDefaults, SessionRecord

if TYPE_CHECKING:
    from bot.jobs._sqlite_connection import Connection

MIGRATION = """
-- Brainstorm sessions (/session): a job may be an idea of a session, numbered in it; votes per person.
ALTER TABLE jobs ADD COLUMN session_id INTEGER;
ALTER TABLE jobs ADD COLUMN session_number INTEGER;
CREATE INDEX jobs_session ON jobs (session_id, session_number) WHERE session_id IS NOT NULL;
CREATE TABLE sessions (
    thread_id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    starter_id INTEGER NOT NULL,
    starter_name TEXT NOT NULL,
    defaults TEXT NOT NULL,                    -- JSON object
    budget_cu REAL,
    header_message_id INTEGER,
    last_number INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE TABLE session_votes (
    job_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (job_id, user_id)
);
"""
SESSION_COLUMNS = (
    "thread_id, guild_id, channel_id, title, starter_id, starter_name, defaults, budget_cu, header_message_id,"
    " last_number,"
    " created_at, ended_at"
)


class SQLiteSessions:
    """Mixed into `SQLiteJobStore`: the session methods of the `JobStore` protocol."""

    _conn: Connection

    async def add_session(self, session: SessionRecord) -> None:
        """Insert a new session; ValueError if its thread already has one."""
        values = [
            session.thread_id, session.guild_id, session.channel_id, session.title, session.starter_id,
            session.starter_name, session.defaults.model_dump_json(), session.budget_cu, session.header_message_id,
            session.last_number,
            _when(session.created_at), _when(session.ended_at) if session.ended_at else None,
        ]  # fmt: skip
        try:
            await self._conn.execute(
                f"INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values
            )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"Thread {session.thread_id} already has a session") from exc

    async def get_session(self, thread_id: int) -> SessionRecord | None:
        rows = await self._conn.execute_fetchall(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE thread_id = ?", (thread_id,)
        )
        return _session(rows[0]) if rows else None

    async def take_session_number(self, thread_id: int) -> int | None:
        # One UPDATE … RETURNING: SQLite's write lock makes it atomic across processes too.
        rows = await self._conn.execute_fetchall(
            "UPDATE sessions SET last_number = last_number + 1 WHERE thread_id = ? AND ended_at IS NULL"
            " RETURNING last_number",
            (thread_id,),
        )
        return int(rows[0][0]) if rows else None

    async def end_session(self, thread_id: int, ended_at: datetime) -> SessionRecord | None:
        rows = await self._conn.execute_fetchall(
            f"UPDATE sessions SET ended_at = ? WHERE thread_id = ? AND ended_at IS NULL RETURNING {SESSION_COLUMNS}",
            (_when(ended_at), thread_id),
        )
        return _session(rows[0]) if rows else None

    async def session_jobs(self, thread_id: int) -> Sequence[JobRecord]:
        rows = await self._conn.execute_fetchall(
            f"SELECT {COLUMNS} FROM jobs WHERE session_id = ? ORDER BY session_number, created_at", (thread_id,)
        )
        return [_records.to_record(row, datetime.fromisoformat) for row in rows]

    async def toggle_vote(self, job_id: str, user_id: int) -> tuple[bool, int]:
        taken_back = await self._conn.execute_fetchall(
            "DELETE FROM session_votes WHERE job_id = ? AND user_id = ? RETURNING 1", (job_id, user_id)
        )
        if not taken_back:
            await self._conn.execute(
                "INSERT INTO session_votes (job_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", (job_id, user_id)
            )
        rows = await self._conn.execute_fetchall("SELECT count(*) FROM session_votes WHERE job_id = ?", (job_id,))
        return not taken_back, int(rows[0][0])

    async def session_votes(self, thread_id: int) -> dict[str, int]:
        rows = await self._conn.execute_fetchall(
            "SELECT v.job_id, count(*) FROM session_votes v JOIN jobs j ON j.id = v.job_id"
            " WHERE j.session_id = ? GROUP BY v.job_id",
            (thread_id,),
        )
        return {row[0]: int(row[1]) for row in rows}


def _when(value: datetime) -> str:
    return _records.as_utc(value).isoformat(timespec="microseconds")


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
        created_at=_records.as_utc(datetime.fromisoformat(row["created_at"])),
        ended_at=_records.as_utc(datetime.fromisoformat(row["ended_at"])) if row["ended_at"] else None,
    )
