"""The SQLite job store: one aiosqlite connection, WAL journal, versioned migrations.

Durability: the database runs in WAL mode with `synchronous=NORMAL`, and every write is its own committed
transaction before the awaiting coroutine continues. A commit is then in the WAL file (the operating system's
page cache) when `await` returns, so killing the process at any instant, even with SIGKILL, never loses it;
only an operating-system crash or power cut can lose the last few commits, and never corrupts the database.
`synchronous=FULL` would cover that too, at the cost of an fsync per write (progress updates write often);
pass `synchronous="FULL"` to choose it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote

import aiosqlite

from bot.clock import utcnow
from bot.jobs import _records
from bot.jobs._records import ACTIVE, COLUMNS, DATETIME_FIELDS, FIELDS, JSON_FIELDS
from bot.jobs.models import FinishedJob, JobRecord, JobState

log = logging.getLogger(__name__)

MEMORY = ":memory:"
SQLITE_FORMS = "sqlite:///relative/path.db or sqlite:////absolute/path.db"

MIGRATIONS: Sequence[tuple[int, str]] = (
    (
        1,
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            command TEXT NOT NULL,
            model_id TEXT NOT NULL,
            inputs TEXT NOT NULL,                      -- JSON object
            uploaded_asset_ids TEXT NOT NULL,          -- JSON object
            user_id INTEGER NOT NULL,
            user_name TEXT NOT NULL,
            guild_id INTEGER,
            channel_id INTEGER,
            application_id INTEGER,
            interaction_id INTEGER,
            interaction_token TEXT,
            token_expires_at TEXT,                     -- ISO-8601 UTC, like every *_at column
            response_message_id INTEGER,
            filesize_limit INTEGER NOT NULL,
            bot_in_guild INTEGER NOT NULL,             -- 0 or 1
            parent_job_id TEXT,
            parent_message_url TEXT,
            submit_started_at TEXT,
            scenario_job_id TEXT,
            scenario_status TEXT,
            progress REAL NOT NULL,
            output_asset_ids TEXT NOT NULL,            -- JSON array
            seeds TEXT NOT NULL,                       -- JSON array
            cost REAL,
            delivered_message_ids TEXT NOT NULL,       -- JSON array
            delivered_via TEXT,
            delivery_note TEXT,
            attempts INTEGER NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE INDEX jobs_state ON jobs (state);
        CREATE INDEX jobs_user_created ON jobs (user_id, created_at);
        CREATE INDEX jobs_scenario_job ON jobs (scenario_job_id);
        """,
    ),
    (
        2,
        """
        ALTER TABLE jobs DROP COLUMN response_message_id;
        -- A failed job that has images but no posted message could not be delivered: `undelivered` now.
        UPDATE jobs SET state = 'undelivered'
            WHERE state = 'failed' AND output_asset_ids != '[]' AND delivered_message_ids = '[]';
        """,
    ),
    (
        3,
        """
        -- /status reads the jobs that finished in the last hour and today.
        CREATE INDEX jobs_finished ON jobs (finished_at);
        """,
    ),
)
"""Schema changes, in order. Never edit a released entry: append a new version instead."""


def sqlite_path(database_url: str) -> Path:
    """The file a `sqlite:///…` DATABASE_URL names: three slashes for a relative path, four for an absolute one.

    `sqlite:///:memory:` gives an in-memory database (for tests). Anything else raises ValueError.
    """
    example = f"use {SQLITE_FORMS}"
    scheme, sep, rest = database_url.partition("://")
    if not sep or scheme != "sqlite":
        # The URL itself is not repeated: other schemes can carry a password.
        raise ValueError(f"is not a SQLite URL; {example}")
    if not rest.startswith("/"):
        raise ValueError(f"a SQLite URL has no host part; {example}")
    if "?" in rest or "#" in rest:
        raise ValueError(f"SQLite URL options (?…) are not supported; {example}")
    path = unquote(rest[1:])
    if not path or path.endswith("/"):
        raise ValueError(f"names no database file; {example}")
    return Path(path)


class SQLiteJobStore:
    """The `JobStore` on one SQLite file; every method is one atomic, committed statement.

    `migrations` defaults to the module's `MIGRATIONS`; `clock` gives `updated_at`/`finished_at`.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        migrations: Sequence[tuple[int, str]] | None = None,
        synchronous: str = "NORMAL",
        busy_timeout_ms: int = 5000,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.path = path if str(path) == MEMORY else Path(path)
        self._migrations = sorted(MIGRATIONS if migrations is None else migrations)
        self._synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._clock = clock
        self._db: aiosqlite.Connection | None = None

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- lifecycle ---------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Create the parent directory, connect, set the pragmas and apply pending migrations."""
        if self._db is not None:
            return
        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is too old; the job store needs 3.35+")
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(self.path, Path):
            # A file that cannot be opened fails here, not in aiosqlite's thread: after a failed connect that thread
            # answers its own stop request later, on an event loop that the one-line exit may have closed already.
            await asyncio.to_thread(lambda: sqlite3.connect(str(self.path)).close())
        # isolation_level=None: no implicit transactions, so each statement commits as it completes.
        db = await aiosqlite.connect(str(self.path), isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            await db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            mode = await _scalar(db, "PRAGMA journal_mode = WAL")
            if mode != "wal" and self.path != MEMORY:
                log.warning("SQLite refused WAL mode for %s (journal_mode=%s)", self.path, mode)
            await db.execute(f"PRAGMA synchronous = {_pragma_word(self._synchronous)}")
            await db.execute("PRAGMA foreign_keys = ON")
            await self._migrate(db)
            _records.check_columns(row["name"] for row in await db.execute_fetchall("PRAGMA table_info(jobs)"))
        except BaseException:
            await db.close()
            raise
        self._db = db
        log.info("Job store open at %s (schema version %d)", self.path, self.schema_version)

    async def close(self) -> None:
        """Close the connection; every write was already committed."""
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def ping(self) -> None:
        """`SELECT 1`: raises when the store is not open or the database does not answer."""
        await _scalar(self._conn, "SELECT 1")

    @property
    def schema_version(self) -> int:
        """The latest migration this store knows."""
        return self._migrations[-1][0] if self._migrations else 0

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        current = await _scalar(db, "PRAGMA user_version")
        if current > self.schema_version:
            raise RuntimeError(
                f"The job database {self.path} is at schema version {current}, newer than this bot "
                f"({self.schema_version}). Upgrade the bot, or restore a backup made by this version."
            )
        for version, sql in self._migrations:
            if version <= current:
                continue
            await db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while we waited for the write lock.
                if await _scalar(db, "PRAGMA user_version") >= version:
                    await db.execute("ROLLBACK")
                    continue
                for statement in _statements(sql):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {int(version)}")
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            log.info("Migrated the job database %s to schema version %d", self.path, version)

    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("The job store is not open; call open() first")
        return self._db

    # --- reads and writes --------------------------------------------------------------------------------

    async def add(self, job: JobRecord) -> None:
        """Insert a new record; ValueError if its id is taken."""
        values = [_to_column(name, getattr(job, name)) for name in FIELDS]
        placeholders = ", ".join("?" * len(FIELDS))
        try:
            await self._conn.execute(f"INSERT INTO jobs ({COLUMNS}) VALUES ({placeholders})", values)
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"A job with id {job.id} already exists") from exc

    async def get(self, job_id: str) -> JobRecord | None:
        """The record with this id, or None."""
        rows = await self._conn.execute_fetchall(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return _from_row(rows[0]) if rows else None

    async def update(self, job_id: str, **fields: Any) -> JobRecord:
        """Set some fields and `updated_at`, returning the new record.

        ValueError for a field JobRecord does not have (or `id`), KeyError if there is no such job. Setting a
        terminal `state` also sets `finished_at`, unless given.
        """
        assignments, params = self._assignments(fields)
        rows = await self._conn.execute_fetchall(
            f"UPDATE jobs SET {assignments} WHERE id = ? RETURNING {COLUMNS}", [*params, job_id]
        )
        if not rows:
            raise KeyError(job_id)
        return _from_row(rows[0])

    async def transition(
        self, job_id: str, from_states: Iterable[JobState], to_state: JobState, **fields: Any
    ) -> JobRecord | None:
        """Move to `to_state` (and set `fields`) only if now in one of `from_states`; None if it was not.

        One `UPDATE … WHERE id = ? AND state IN (…)`, so two racing transitions cannot both win. Entering a
        terminal state sets `finished_at`, unless given.
        """
        changes = _records.transition_fields(fields, to_state)
        sources = _records.state_values(from_states)
        if not sources:
            return None
        assignments, params = self._assignments(changes)
        marks = ", ".join("?" * len(sources))
        rows = await self._conn.execute_fetchall(
            f"UPDATE jobs SET {assignments} WHERE id = ? AND state IN ({marks}) RETURNING {COLUMNS}",
            [*params, job_id, *sources],
        )
        return _from_row(rows[0]) if rows else None

    async def unfinished(self) -> Sequence[JobRecord]:
        """Every record the engine still works on (`ACTIVE_STATES`), oldest first."""
        marks = ", ".join("?" * len(ACTIVE))
        rows = await self._conn.execute_fetchall(
            f"SELECT {COLUMNS} FROM jobs WHERE state IN ({marks}) ORDER BY created_at, rowid", ACTIVE
        )
        return [_from_row(row) for row in rows]

    async def for_user(
        self, user_id: int, *, states: Iterable[JobState] | None = None, limit: int = 25, offset: int = 0
    ) -> Sequence[JobRecord]:
        """A user's records, newest first, optionally only in `states`; `limit`/`offset` page through them."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        where, params = "user_id = ?", [user_id]
        if states is not None:
            wanted = _records.state_values(states)
            if not wanted:
                return []
            where += f" AND state IN ({', '.join('?' * len(wanted))})"
            params += wanted
        rows = await self._conn.execute_fetchall(
            f"SELECT {COLUMNS} FROM jobs WHERE {where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_from_row(row) for row in rows]

    async def scenario_job_ids_since(self, since: datetime) -> set[str]:
        """Scenario job ids claimed by any record written at or after `since`.

        Used to keep a recovered submission from adopting a Scenario job another record owns. The filter is
        on `updated_at`, not `created_at`: a record created long ago may have been queued and submitted
        only recently, and the write that stored its Scenario job id moved `updated_at` past the moment that
        Scenario job was created. `updated_at >= since` includes every record created or submitted since,
        and returning extra ids is harmless (they are claimed either way).
        """
        rows = await self._conn.execute_fetchall(
            "SELECT scenario_job_id FROM jobs WHERE scenario_job_id IS NOT NULL AND updated_at >= ?",
            (_format_datetime(since),),
        )
        return {row[0] for row in rows}

    async def finished_since(self, since: datetime) -> Sequence[FinishedJob]:
        """Jobs that came to rest at or after `since` (a naive datetime is UTC), in the order they did."""
        rows = await self._conn.execute_fetchall(
            "SELECT id, state, created_at, finished_at, cost FROM jobs WHERE finished_at >= ?"
            " ORDER BY finished_at, rowid",
            (_format_datetime(since),),
        )
        return [
            FinishedJob(
                id=row["id"],
                state=JobState(row["state"]),
                created_at=_records.as_utc(datetime.fromisoformat(row["created_at"])),
                finished_at=_records.as_utc(datetime.fromisoformat(row["finished_at"])),
                cost=row["cost"],
            )
            for row in rows
        ]

    def _assignments(self, fields: dict[str, Any]) -> tuple[str, list[Any]]:
        """`col = ?, …` and its parameters for a validated update, with `updated_at` (and `finished_at`)."""
        values = _records.changes(fields, self._clock())
        assignments = ", ".join(f"{name} = ?" for name in values)
        return assignments, [_to_column(name, value) for name, value in values.items()]


# --- encoding ----------------------------------------------------------------------------------------------


def _to_column(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in JSON_FIELDS:
        return _records.to_json(name, value)
    if name in DATETIME_FIELDS:
        return _format_datetime(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return str(value)  # a StrEnum (state, command) is stored as its plain value
    return value


def _from_row(row: sqlite3.Row) -> JobRecord:
    return _records.to_record(row, datetime.fromisoformat)


def _format_datetime(value: datetime) -> str:
    """Fixed-width ISO-8601 in UTC, so text order is time order. A naive datetime is taken as UTC."""
    return _records.as_utc(value).isoformat(timespec="microseconds")


# --- helpers -----------------------------------------------------------------------------------------------


async def _scalar(db: aiosqlite.Connection, sql: str) -> Any:
    rows = await db.execute_fetchall(sql)
    return rows[0][0] if rows else None


def _pragma_word(value: str) -> str:
    word = value.upper()
    if word not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {value!r}")
    return word


def _statements(sql: str) -> Iterator[str]:
    """Split a migration script into complete statements (semicolons inside strings or triggers are fine)."""
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            pending = ""
            if statement != ";":
                yield statement
    if pending.strip(" \n\t;"):
        yield pending
