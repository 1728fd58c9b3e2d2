"""The PostgreSQL job store: an asyncpg pool, versioned migrations under an advisory lock.

Every method is one statement, and so one transaction: a write is committed (and, with PostgreSQL's default
`synchronous_commit`, flushed to its WAL) before the awaiting coroutine continues, whatever then happens to
the bot's process. `transition` is `UPDATE … WHERE id = $1 AND state = ANY($2)`: under READ COMMITTED the
second of two racing updates waits for the first, re-reads the row and no longer matches.

The DSN can hold a password: it is kept private, and neither logs nor exceptions ever repeat it; they name
the server as `host[:port]/database` (`PostgresJobStore.where`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from bot.clock import utcnow
from bot.jobs import _library_postgres, _records
from bot.jobs._library_postgres import PostgresLibrary
from bot.jobs._postgres_line import MIGRATION as LINE_MIGRATION
from bot.jobs._postgres_line import PostgresLine
from bot.jobs._postgres_sessions import MIGRATION as SESSIONS_MIGRATION
from bot.jobs._postgres_sessions import PostgresSessions
from bot.jobs._records import ACTIVE, COLUMNS, DATETIME_FIELDS, FIELDS, JSON_FIELDS, as_utc
from bot.jobs.models import FinishedJob, JobRecord, JobState
from bot.jobs.spend import CHARGE_SQL, CONFIRMATION_TTL, BudgetLimit, Charge, limit_filter
from bot.servers._settings import ServerSettings

log = logging.getLogger(__name__)

MIGRATIONS: Sequence[tuple[int, str]] = (
    (
        1,
        """
        CREATE TABLE jobs (
            seq bigint GENERATED ALWAYS AS IDENTITY,   -- insertion order: breaks ties between equal created_at
            id text PRIMARY KEY,
            state text NOT NULL,
            command text NOT NULL,
            model_id text NOT NULL,
            inputs jsonb NOT NULL,
            uploaded_asset_ids jsonb NOT NULL,
            user_id bigint NOT NULL,                   -- Discord snowflakes are unsigned 64-bit, below 2**63
            user_name text NOT NULL,
            guild_id bigint,
            channel_id bigint,
            application_id bigint,
            interaction_id bigint,
            interaction_token text,
            token_expires_at timestamptz,
            filesize_limit bigint NOT NULL,
            bot_in_guild boolean NOT NULL,
            parent_job_id text,
            parent_message_url text,
            submit_started_at timestamptz,
            scenario_job_id text,
            scenario_status text,
            progress double precision NOT NULL,
            output_asset_ids jsonb NOT NULL,
            seeds jsonb NOT NULL,
            cost double precision,
            delivered_message_ids jsonb NOT NULL,
            delivered_via text,
            delivery_note text,
            attempts integer NOT NULL,
            last_error text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            finished_at timestamptz
        );
        CREATE INDEX jobs_state ON jobs (state);
        CREATE INDEX jobs_user_created ON jobs (user_id, created_at);
        CREATE INDEX jobs_claimed ON jobs (updated_at) WHERE scenario_job_id IS NOT NULL;
        """,
    ),
    (
        2,
        """
        -- /status reads the jobs that finished in the last hour and today.
        CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
        """,
    ),
    (
        3,
        """
        -- Spending: each job's price quote (its reservation until Scenario charges), admins' budgets and blocks,
        -- and the requests waiting for their requester's Run or Cancel.
        ALTER TABLE jobs ADD COLUMN estimate_cu double precision;
        CREATE INDEX jobs_created ON jobs (created_at);
        CREATE INDEX jobs_guild_created ON jobs (guild_id, created_at);
        CREATE TABLE budget_overrides (
            guild_id bigint NOT NULL,
            user_id bigint NOT NULL,                   -- 0: the server's own monthly budget
            limit_cu double precision NOT NULL,
            PRIMARY KEY (guild_id, user_id)
        );
        CREATE TABLE budget_blocks (
            guild_id bigint NOT NULL,
            user_id bigint NOT NULL,
            PRIMARY KEY (guild_id, user_id)
        );
        CREATE TABLE confirmations (
            job_id text PRIMARY KEY,
            user_id bigint NOT NULL,
            record jsonb NOT NULL,
            created_at timestamptz NOT NULL
        );
        """,
    ),
    (
        4,
        """
        -- /config: one settings document per server; NSFW labels of a job's outputs; where it was asked for.
        CREATE TABLE server_settings (
            guild_id bigint PRIMARY KEY,
            settings jsonb NOT NULL,
            updated_at timestamptz NOT NULL
        );
        ALTER TABLE jobs ADD COLUMN nsfw_labels jsonb NOT NULL DEFAULT '{}';
        ALTER TABLE jobs ADD COLUMN channel_parent_id bigint;
        ALTER TABLE jobs ADD COLUMN channel_age_restricted boolean NOT NULL DEFAULT false;
        """,
    ),
    (5, SESSIONS_MIGRATION),
    (6, _library_postgres.MIGRATION),
    (7, LINE_MIGRATION),
)
"""Schema changes, in order. Never edit a released entry: append a new version instead."""

_VERSIONS = """
CREATE TABLE schema_migrations (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
_MIGRATION_LOCK = 7_316_284_905_112_401
"""The `pg_advisory_xact_lock` key every version of the bot takes to migrate: any number, but always this one."""

_BUDGET_LOCK = 7_316_284_905_112_402
"""The `pg_advisory_xact_lock` key every admission within budgets takes: one at a time, across processes."""
_PLACES = ", ".join(f"${n}" for n in range(1, len(FIELDS) + 1))
_INSERT = (
    f"INSERT INTO jobs ({COLUMNS}, lease_owner, lease_until) VALUES ({_PLACES}, ${len(FIELDS) + 1},"
    f" now() + ${len(FIELDS) + 2} * interval '1 second')"
)
"""A new job, leased to the process that admitted it (it speaks for the job while it waits in line)."""


class PostgresUnavailable(ConnectionError):
    """The server could not be reached, or refused the connection. The text names host/database, never the DSN."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"PostgreSQL {where}: {reason}")
        self.strerror = str(self)  # what `python -m bot` prints for an OSError it cannot open the store with


class PostgresJobStore(PostgresSessions, PostgresLibrary):
    """The `JobStore` on a PostgreSQL database; every method is one atomic statement on a pooled connection.

    `migrations` defaults to the module's `MIGRATIONS`; `clock` gives `updated_at`/`finished_at`.
    """

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 5,
        migrations: Sequence[tuple[int, str]] | None = None,
        connect_timeout: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._dsn = dsn
        self.where = server_name(dsn)
        self._min_size = min_size
        self._max_size = max_size
        self._migrations = sorted(MIGRATIONS if migrations is None else migrations)
        self._connect_timeout = connect_timeout
        self._clock = clock
        self._pool: asyncpg.Pool | None = None
        self._line: PostgresLine | None = None

    def __repr__(self) -> str:
        return f"<PostgresJobStore {self.where}>"

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- lifecycle ---------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect the pool, apply pending migrations and check the schema has every JobRecord field.

        Raises `PostgresUnavailable` when the server cannot be reached or refuses us, and RuntimeError for a
        database a newer bot has migrated.
        """
        if self._pool is not None:
            return
        try:
            pool = await asyncpg.create_pool(
                self._dsn, min_size=self._min_size, max_size=self._max_size, timeout=self._connect_timeout
            )
        except Exception as exc:
            # `from None`: a chained driver error could repeat what it was given, password included.
            raise PostgresUnavailable(self.where, self._redacted(exc)) from None
        try:
            async with pool.acquire() as conn:
                await self._migrate(conn)
                columns = await conn.fetch(
                    "SELECT attname FROM pg_attribute WHERE attrelid = 'jobs'::regclass AND attnum > 0"
                    " AND NOT attisdropped"
                )
            _records.check_columns(row["attname"] for row in columns)
        except BaseException:
            pool.terminate()
            raise
        self._pool = pool
        log.info("Job store open at PostgreSQL %s (schema version %d)", self.where, self.schema_version)

    async def close(self) -> None:
        """Wait for statements in flight, then disconnect; every write was already committed."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def ping(self) -> None:
        """`SELECT 1` on a pooled connection: raises when the store is not open or the server does not answer."""
        await self._db.fetchval("SELECT 1")

    @property
    def schema_version(self) -> int:
        """The latest migration this store knows."""
        return self._migrations[-1][0] if self._migrations else 0

    async def _migrate(self, conn: asyncpg.Connection) -> None:
        """Apply every pending migration in one transaction, one process at a time."""
        applied = []
        async with conn.transaction():
            # Processes starting together queue here; each then sees what the one before it applied.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
                await conn.execute(_VERSIONS)  # only now: a role without CREATE can run a migrated database
            current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
            if current > self.schema_version:
                raise RuntimeError(
                    f"The job database at PostgreSQL {self.where} is at schema version {current}, newer than this "
                    f"bot ({self.schema_version}). Upgrade the bot, or restore a backup made by this version."
                )
            for version, sql in self._migrations:
                if version > current:
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
                    applied.append(version)
        for version in applied:
            log.info("Migrated the job database at PostgreSQL %s to schema version %d", self.where, version)

    def line(self, owner: str, lease_seconds: float) -> PostgresLine:
        """The shared line (`bot.jobs._postgres_line`) for this process: every job it adds from now on is leased
        to `owner`. One per store."""
        self._line = PostgresLine(lambda: self._db, self._connect_one, owner, lease_seconds)
        return self._line

    async def _connect_one(self) -> asyncpg.Connection:
        """A connection outside the pool (the line's listener); errors name the server, never the DSN."""
        try:
            return await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
        except Exception as exc:
            raise PostgresUnavailable(self.where, self._redacted(exc)) from None

    def _owner(self) -> list[Any]:
        line = self._line
        return [line.owner, line.lease_seconds] if line is not None else [None, None]

    @property
    def _db(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("The job store is not open; call open() first")
        return self._pool

    def _redacted(self, exc: BaseException) -> str:
        """The first line of an error's text, without the DSN or its password."""
        lines = str(exc).strip().splitlines()
        text = lines[0] if lines else ""
        parts = urlsplit(self._dsn)
        passwords = [parts.password or "", *parse_qs(parts.query).get("password", [])]  # asyncpg takes either
        for secret in (self._dsn, *passwords, *map(unquote, passwords)):
            if secret:
                text = text.replace(secret, "***")
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    # --- reads and writes --------------------------------------------------------------------------------

    async def add(self, job: JobRecord) -> None:
        """Insert a new record; ValueError if its id is taken."""
        values = [_to_column(name, getattr(job, name)) for name in FIELDS]
        try:
            await self._db.execute(_INSERT, *values, *self._owner())
        except asyncpg.UniqueViolationError as exc:
            raise ValueError(f"A job with id {job.id} already exists") from exc

    async def get(self, job_id: str) -> JobRecord | None:
        """The record with this id, or None."""
        row = await self._db.fetchrow(f"SELECT {COLUMNS} FROM jobs WHERE id = $1", job_id)
        return _from_row(row) if row is not None else None

    async def update(self, job_id: str, **fields: Any) -> JobRecord:
        """Set some fields and `updated_at`, returning the new record.

        ValueError for a field JobRecord does not have (or `id`), KeyError if there is no such job. Setting a
        terminal `state` also sets `finished_at`, unless given.
        """
        assignments, params = self._assignments(fields)
        row = await self._db.fetchrow(
            f"UPDATE jobs SET {assignments} WHERE id = ${len(params) + 1} RETURNING {COLUMNS}", *params, job_id
        )
        if row is None:
            raise KeyError(job_id)
        return _from_row(row)

    async def transition(
        self, job_id: str, from_states: Iterable[JobState], to_state: JobState, **fields: Any
    ) -> JobRecord | None:
        """Move to `to_state` (and set `fields`) only if now in one of `from_states`; None if it was not.

        One `UPDATE … WHERE id = $n AND state = ANY($m)`, so two racing transitions cannot both win. Entering a
        terminal state sets `finished_at`, unless given.
        """
        changes = _records.transition_fields(fields, to_state)
        sources = _records.state_values(from_states)
        if not sources:
            return None
        assignments, params = self._assignments(changes)
        n = len(params)
        row = await self._db.fetchrow(
            f"UPDATE jobs SET {assignments} WHERE id = ${n + 1} AND state = ANY(${n + 2}::text[]) RETURNING {COLUMNS}",
            *params,
            job_id,
            sources,
        )
        return _from_row(row) if row is not None else None

    async def unfinished(self) -> Sequence[JobRecord]:
        """Every record the engine still works on (`ACTIVE_STATES`), oldest first."""
        rows = await self._db.fetch(
            f"SELECT {COLUMNS} FROM jobs WHERE state = ANY($1::text[]) ORDER BY created_at, seq", list(ACTIVE)
        )
        return [_from_row(row) for row in rows]

    async def for_user(
        self, user_id: int, *, states: Iterable[JobState] | None = None, limit: int = 25, offset: int = 0
    ) -> Sequence[JobRecord]:
        """A user's records, newest first, optionally only in `states`; `limit`/`offset` page through them."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        where, params = "user_id = $1", [user_id]
        if states is not None:
            wanted = _records.state_values(states)
            if not wanted:
                return []
            where += " AND state = ANY($2::text[])"
            params.append(wanted)
        n = len(params)
        rows = await self._db.fetch(
            f"SELECT {COLUMNS} FROM jobs WHERE {where} ORDER BY created_at DESC, seq DESC"
            f" LIMIT ${n + 1} OFFSET ${n + 2}",
            *params,
            limit,
            offset,
        )
        return [_from_row(row) for row in rows]

    async def scenario_job_ids_since(self, since: datetime) -> set[str]:
        """Scenario job ids claimed by any record written at or after `since` (filtered on `updated_at`).

        See `SQLiteJobStore.scenario_job_ids_since` for why `updated_at` and not `created_at`.
        """
        rows = await self._db.fetch(
            "SELECT scenario_job_id FROM jobs WHERE scenario_job_id IS NOT NULL AND updated_at >= $1",
            _records.as_utc(since),
        )
        return {row[0] for row in rows}

    async def finished_since(self, since: datetime) -> Sequence[FinishedJob]:
        """Jobs that came to rest at or after `since` (a naive datetime is UTC), in the order they did."""
        rows = await self._db.fetch(
            "SELECT id, state, created_at, finished_at, cost FROM jobs WHERE finished_at >= $1"
            " ORDER BY finished_at, seq",
            as_utc(since),
        )
        return [
            FinishedJob(
                row["id"], JobState(row["state"]), as_utc(row["created_at"]), as_utc(row["finished_at"]), row["cost"]
            )
            for row in rows
        ]

    # --- spending ---------------------------------------------------------------------------------------------

    async def add_within_budgets(self, job: JobRecord, limits: Sequence[BudgetLimit]) -> BudgetLimit | None:
        """Insert the job only if its `estimate_cu` fits every limit; else return the first it would exceed.

        One transaction under an advisory lock: every process sharing the database admits one job at a time,
        so two admissions can never both fit into the same remainder.
        """
        estimate = job.estimate_cu or 0.0
        values = [_to_column(name, getattr(job, name)) for name in FIELDS]
        async with self._db.acquire() as conn, conn.transaction():
            if limits:
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _BUDGET_LOCK)
            for limit in limits:
                if await _spent(conn, limit) + estimate > limit.limit_cu:
                    return limit
            try:
                await conn.execute(_INSERT, *values, *self._owner())
            except asyncpg.UniqueViolationError as exc:
                raise ValueError(f"A job with id {job.id} already exists") from exc
        return None

    async def spent(self, limit: BudgetLimit) -> float:
        """The CU charged (or reserved) so far in a budget's window."""
        async with self._db.acquire() as conn:
            return await _spent(conn, limit)

    async def charges(
        self, since: datetime, *, user_id: int | None = None, guild_id: int | None = None
    ) -> Sequence[Charge]:
        """Jobs created at or after `since` (a person's, or a server's where the bot is a member), oldest first."""
        where, params = "created_at >= $1", [as_utc(since)]
        if user_id is not None:
            params.append(user_id)
            where += f" AND user_id = ${len(params)}"
        if guild_id is not None:
            params.append(guild_id)
            where += f" AND guild_id = ${len(params)} AND bot_in_guild"
        rows = await self._db.fetch(
            "SELECT id, user_id, user_name, guild_id, state, created_at, estimate_cu, cost,"
            f" {CHARGE_SQL} AS charge FROM jobs WHERE {where} ORDER BY created_at, seq",
            *params,
        )
        return [Charge.from_row(row, as_utc(row["created_at"])) for row in rows]

    async def budget_overrides(self, guild_id: int) -> dict[int, float]:
        """A server's budgets set by its admins: {user id: daily CU}, with key 0 for the server's monthly CU."""
        rows = await self._db.fetch("SELECT user_id, limit_cu FROM budget_overrides WHERE guild_id = $1", guild_id)
        return {row["user_id"]: row["limit_cu"] for row in rows}

    async def set_budget_override(self, guild_id: int, user_id: int, limit_cu: float | None) -> None:
        """Set (or with None, remove) a budget override; `user_id` 0 is the server's own monthly budget."""
        if limit_cu is None:
            await self._db.execute(
                "DELETE FROM budget_overrides WHERE guild_id = $1 AND user_id = $2", guild_id, user_id
            )
        else:
            await self._db.execute(
                "INSERT INTO budget_overrides (guild_id, user_id, limit_cu) VALUES ($1, $2, $3)"
                " ON CONFLICT (guild_id, user_id) DO UPDATE SET limit_cu = excluded.limit_cu",
                guild_id, user_id, limit_cu,
            )  # fmt: skip

    async def blocked_users(self, guild_id: int) -> set[int]:
        """The members blocked from starting jobs in a server."""
        rows = await self._db.fetch("SELECT user_id FROM budget_blocks WHERE guild_id = $1", guild_id)
        return {row[0] for row in rows}

    async def set_blocked(self, guild_id: int, user_id: int, blocked: bool) -> None:
        """Block a member from starting jobs in a server, or lift the block."""
        if blocked:
            await self._db.execute(
                "INSERT INTO budget_blocks (guild_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                guild_id,
                user_id,
            )
        else:
            await self._db.execute("DELETE FROM budget_blocks WHERE guild_id = $1 AND user_id = $2", guild_id, user_id)

    async def add_confirmation(self, job: JobRecord) -> None:
        """Keep a request that waits for its requester's Run (replacing one with the same id); drop expired ones."""
        now = as_utc(self._clock())
        await self._db.execute("DELETE FROM confirmations WHERE created_at < $1", now - CONFIRMATION_TTL)
        await self._db.execute(
            "INSERT INTO confirmations (job_id, user_id, record, created_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (job_id) DO UPDATE SET record = excluded.record, created_at = excluded.created_at",
            job.id, job.user_id, job.model_dump_json(), now,
        )  # fmt: skip

    async def take_confirmation(self, job_id: str) -> JobRecord | None:
        """Remove and return a waiting request; None if it was run or canceled already (one taker wins), or expired."""
        row = await self._db.fetchrow(
            "DELETE FROM confirmations WHERE job_id = $1 RETURNING record, created_at", job_id
        )
        if row is None or row["created_at"] < as_utc(self._clock()) - CONFIRMATION_TTL:
            return None
        return JobRecord.model_validate_json(row["record"])

    async def server_settings(self, guild_id: int) -> ServerSettings:
        """A server's `/config` settings (the defaults when it never set any)."""
        text = await self._db.fetchval("SELECT settings::text FROM server_settings WHERE guild_id = $1", guild_id)
        return ServerSettings.model_validate_json(text) if text is not None else ServerSettings()

    async def save_server_settings(self, guild_id: int, settings: ServerSettings) -> None:
        """Replace a server's `/config` settings in one statement."""
        await self._db.execute(
            "INSERT INTO server_settings (guild_id, settings, updated_at) VALUES ($1, $2::jsonb, $3)"
            " ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            guild_id,
            settings.model_dump_json(),
            as_utc(self._clock()),
        )

    def _assignments(self, fields: dict[str, Any]) -> tuple[str, list[Any]]:
        """`col = $1, …` and its parameters for a validated update, with `updated_at` (and `finished_at`)."""
        values = _records.changes(fields, self._clock())
        assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(values, start=1))
        return assignments, [_to_column(name, value) for name, value in values.items()]


async def _spent(conn: asyncpg.Connection, limit: BudgetLimit) -> float:
    where, values = limit_filter(limit)
    for n in range(1, len(values) + 1):
        where = where.replace("?", f"${n}", 1)
    values = [as_utc(v) if isinstance(v, datetime) else v for v in values]
    return float(await conn.fetchval(f"SELECT COALESCE(SUM({CHARGE_SQL}), 0) FROM jobs WHERE {where}", *values))


def server_name(dsn: str) -> str:
    """`host[:port]/database` from a PostgreSQL DSN, without user or password (for logs and errors)."""
    parts = urlsplit(dsn)
    query = parse_qs(parts.query)
    host = parts.netloc.rpartition("@")[2] or query.get("host", ["localhost"])[0]
    database = unquote(parts.path.lstrip("/")) or query.get("dbname", [""])[0]
    return f"{host}/{database}"


# --- encoding ----------------------------------------------------------------------------------------------


def _to_column(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in JSON_FIELDS:
        return _records.to_json(name, value)  # asyncpg sends jsonb as JSON text
    if name in DATETIME_FIELDS:
        return _records.as_utc(value)
    if isinstance(value, str):
        return str(value)  # a StrEnum (state, command) is stored as its plain value
    return value


def _from_row(row: asyncpg.Record) -> JobRecord:
    return _records.to_record(row)  # asyncpg already gives timestamptz as an aware datetime
