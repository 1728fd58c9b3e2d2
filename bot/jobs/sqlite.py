"""The SQLite job store: one connection (statements on the event loop, `_sqlite_connection`), WAL journal,
versioned migrations.

Durability: the database runs in WAL mode with `synchronous=NORMAL`, and every write is its own committed
transaction before the awaiting coroutine continues. A commit is then in the WAL file (the operating system's
page cache) when `await` returns, so killing the process at any instant, even with SIGKILL, never loses it;
only an operating-system crash or power cut can lose the last few commits, and never corrupts the database.
`synchronous=FULL` would cover that too, at the cost of an fsync per write (progress updates write often);
pass `synchronous="FULL"` to choose it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote

from bot.clock import utcnow
from bot.jobs import _library_sqlite, _records
from bot.jobs._library_sqlite import SQLiteLibrary
from bot.jobs._records import ACTIVE, COLUMNS, DATETIME_FIELDS, FIELDS, JSON_FIELDS
from bot.jobs._remembered import Remembered
from bot.jobs._sqlite_connection import Connection
from bot.jobs._sqlite_sessions import MIGRATION as SESSIONS_MIGRATION
from bot.jobs._sqlite_sessions import SQLiteSessions
from bot.jobs.models import FinishedJob, JobRecord, JobState
from bot.jobs.spend import CHARGE_SQL, CONFIRMATION_TTL, BudgetLimit, Charge, limit_filter
from bot.servers._settings import ServerSettings

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
    (
        4,
        """
        -- Spending: each job's price quote (its reservation until Scenario charges), admins' budgets and blocks,
        -- and the requests waiting for their requester's Run or Cancel.
        ALTER TABLE jobs ADD COLUMN estimate_cu REAL;
        CREATE INDEX jobs_created ON jobs (created_at);
        CREATE INDEX jobs_guild_created ON jobs (guild_id, created_at);
        CREATE TABLE budget_overrides (
            guild_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,                  -- 0: the server's own monthly budget
            limit_cu REAL NOT NULL,
            PRIMARY KEY (guild_id, user_id)
        );
        CREATE TABLE budget_blocks (
            guild_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            PRIMARY KEY (guild_id, user_id)
        );
        CREATE TABLE confirmations (
            job_id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL,
            record TEXT NOT NULL,                      -- the JobRecord as JSON
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        5,
        """
        -- /config: one settings document per server; NSFW labels of a job's outputs; where it was asked for.
        CREATE TABLE server_settings (
            guild_id INTEGER PRIMARY KEY,
            settings TEXT NOT NULL,                    -- JSON object (bot.servers.ServerSettings)
            updated_at TEXT NOT NULL
        );
        ALTER TABLE jobs ADD COLUMN nsfw_labels TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE jobs ADD COLUMN channel_parent_id INTEGER;
        ALTER TABLE jobs ADD COLUMN channel_age_restricted INTEGER NOT NULL DEFAULT 0;   -- 0 or 1
        """,
    ),
    (6, SESSIONS_MIGRATION),
    (7, _library_sqlite.MIGRATION),
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


class SQLiteJobStore(SQLiteSessions, SQLiteLibrary):
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
        self._db: Connection | None = None
        # Read for every job, written by this process alone: kept in memory (see `_remembered`).
        self._settings: Remembered[int, str | None] = Remembered()
        self._preference_rows: Remembered[int, sqlite3.Row | None] = Remembered()

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
        db = Connection(str(self.path))
        try:
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

    async def _migrate(self, db: Connection) -> None:
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
    def _conn(self) -> Connection:
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

    # --- spending ---------------------------------------------------------------------------------------------

    async def add_within_budgets(self, job: JobRecord, limits: Sequence[BudgetLimit]) -> BudgetLimit | None:
        """Insert the job only if its `estimate_cu` fits every limit; else return the first it would exceed.

        One `INSERT … SELECT … WHERE <every sum fits>`: SQLite runs a statement under its single writer, so two
        admissions (from any process) can never both fit into the same remainder.
        """
        estimate = job.estimate_cu or 0.0
        conditions, params = [], []
        for limit in limits:
            where, values = limit_filter(limit)
            conditions.append(f"(SELECT COALESCE(SUM({CHARGE_SQL}), 0) FROM jobs WHERE {where}) + ? <= ?")
            params += [*map(_to_param, values), estimate, limit.limit_cu]
        values = [_to_column(name, getattr(job, name)) for name in FIELDS]
        placeholders = ", ".join("?" * len(FIELDS))
        guard = " AND ".join(conditions) or "1"
        try:
            rows = await self._conn.execute_fetchall(
                f"INSERT INTO jobs ({COLUMNS}) SELECT {placeholders} WHERE {guard} RETURNING id", [*values, *params]
            )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"A job with id {job.id} already exists") from exc
        if rows:
            return None
        for limit in limits:
            if await self.spent(limit) + estimate > limit.limit_cu:
                return limit
        return limits[0]

    async def spent(self, limit: BudgetLimit) -> float:
        """The CU charged (or reserved) so far in a budget's window."""
        where, values = limit_filter(limit)
        rows = await self._conn.execute_fetchall(
            f"SELECT COALESCE(SUM({CHARGE_SQL}), 0) FROM jobs WHERE {where}", [_to_param(v) for v in values]
        )
        return float(rows[0][0])

    async def charges(
        self, since: datetime, *, user_id: int | None = None, guild_id: int | None = None
    ) -> Sequence[Charge]:
        """Jobs created at or after `since` (a person's, or a server's where the bot is a member), oldest first."""
        where, params = "created_at >= ?", [_format_datetime(since)]
        if user_id is not None:
            where, params = where + " AND user_id = ?", [*params, user_id]
        if guild_id is not None:
            where, params = where + " AND guild_id = ? AND bot_in_guild = 1", [*params, guild_id]
        rows = await self._conn.execute_fetchall(
            "SELECT id, user_id, user_name, guild_id, state, created_at, estimate_cu, cost,"
            f" {CHARGE_SQL} AS charge FROM jobs WHERE {where} ORDER BY created_at, rowid",
            params,
        )
        return [Charge.from_row(row, _records.as_utc(datetime.fromisoformat(row["created_at"]))) for row in rows]

    async def budget_overrides(self, guild_id: int) -> dict[int, float]:
        """A server's budgets set by its admins: {user id: daily CU}, with key 0 for the server's monthly CU."""
        rows = await self._conn.execute_fetchall(
            "SELECT user_id, limit_cu FROM budget_overrides WHERE guild_id = ?", (guild_id,)
        )
        return {row["user_id"]: row["limit_cu"] for row in rows}

    async def set_budget_override(self, guild_id: int, user_id: int, limit_cu: float | None) -> None:
        """Set (or with None, remove) a budget override; `user_id` 0 is the server's own monthly budget."""
        if limit_cu is None:
            await self._conn.execute(
                "DELETE FROM budget_overrides WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
        else:
            await self._conn.execute(
                "INSERT INTO budget_overrides (guild_id, user_id, limit_cu) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id, user_id) DO UPDATE SET limit_cu = excluded.limit_cu",
                (guild_id, user_id, limit_cu),
            )

    async def blocked_users(self, guild_id: int) -> set[int]:
        """The members blocked from starting jobs in a server."""
        rows = await self._conn.execute_fetchall("SELECT user_id FROM budget_blocks WHERE guild_id = ?", (guild_id,))
        return {row[0] for row in rows}

    async def set_blocked(self, guild_id: int, user_id: int, blocked: bool) -> None:
        """Block a member from starting jobs in a server, or lift the block."""
        if blocked:
            await self._conn.execute(
                "INSERT INTO budget_blocks (guild_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (guild_id, user_id),
            )
        else:
            await self._conn.execute(
                "DELETE FROM budget_blocks WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )

    async def add_confirmation(self, job: JobRecord) -> None:
        """Keep a request that waits for its requester's Run (replacing one with the same id); drop expired ones."""
        now = self._clock()
        await self._conn.execute(
            "DELETE FROM confirmations WHERE created_at < ?", (_format_datetime(now - CONFIRMATION_TTL),)
        )
        await self._conn.execute(
            "INSERT OR REPLACE INTO confirmations (job_id, user_id, record, created_at) VALUES (?, ?, ?, ?)",
            (job.id, job.user_id, job.model_dump_json(), _format_datetime(now)),
        )

    async def take_confirmation(self, job_id: str) -> JobRecord | None:
        """Remove and return a waiting request; None if it was run or canceled already (one taker wins), or expired."""
        rows = await self._conn.execute_fetchall(
            "DELETE FROM confirmations WHERE job_id = ? RETURNING record, created_at", (job_id,)
        )
        if not rows or datetime.fromisoformat(rows[0][1]) < self._clock() - CONFIRMATION_TTL:
            return None
        return JobRecord.model_validate_json(rows[0][0])

    async def server_settings(self, guild_id: int) -> ServerSettings:
        """A server's `/config` settings (the defaults when it never set any); remembered (`_remembered`)."""

        async def load() -> str | None:
            rows = await self._conn.execute_fetchall(
                "SELECT settings FROM server_settings WHERE guild_id = ?", (guild_id,)
            )
            return rows[0][0] if rows else None

        text = await self._settings.get(guild_id, load)
        return ServerSettings.model_validate_json(text) if text is not None else ServerSettings()

    async def save_server_settings(self, guild_id: int, settings: ServerSettings) -> None:
        """Replace a server's `/config` settings in one committed statement."""
        await self._settings.write(
            guild_id,
            lambda: self._conn.execute(
                "INSERT INTO server_settings (guild_id, settings, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
                (guild_id, settings.model_dump_json(), _format_datetime(self._clock())),
            ),
        )

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


def _to_param(value: object) -> object:
    if isinstance(value, datetime):
        return _format_datetime(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _from_row(row: sqlite3.Row) -> JobRecord:
    return _records.to_record(row, datetime.fromisoformat)


def _format_datetime(value: datetime) -> str:
    """Fixed-width ISO-8601 in UTC, so text order is time order. A naive datetime is taken as UTC."""
    return _records.as_utc(value).isoformat(timespec="microseconds")


# --- helpers -----------------------------------------------------------------------------------------------


async def _scalar(db: Connection, sql: str) -> Any:
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
