"""The line of waiting jobs, kept in PostgreSQL so that every bot process works one queue (issue: many processes).

Each statement here is one short transaction on the store's pool:

* **Fair order without a scheduler in memory.** A job entering the line gets a `turn`: one past the larger
  of the last turn served and its requester's last waiting turn (a trigger, whatever path inserts it). The line
  is `ORDER BY turn, seq`, which is round-robin by requester: someone's twentieth request waits behind
  everyone's first, whichever process took it.
* **A claim** takes the head of the line under `pg_advisory_xact_lock`, only if the jobs holding a Scenario slot
  (claimed and not yet handed to delivery) stay within the plan's ceiling, counted across every process; the
  ceiling learned from Scenario is the `plan` row, shared by all.
* **Leases.** Every job a process works on (queued ones it speaks for included) carries `lease_owner` and
  `lease_until`; the owner renews them, and another process takes over a job whose lease lapsed, exactly as a
  restart resumes it. A graceful stop hands its jobs back at once (`lease_until = '-infinity'`).
* **Wake-ups.** `NOTIFY bot_line` with `queued` (a new job), `released` (jobs handed back) or `claimed <id>` (a
  job left the line: places moved); a periodic look covers notifications lost while a listener reconnected.

Times are the database's own (`now()`), so processes on machines whose clocks differ still agree on leases.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg

from bot.jobs import _records
from bot.jobs._records import ACTIVE, COLUMNS
from bot.jobs.models import JobRecord

log = logging.getLogger(__name__)

CHANNEL = "bot_line"
_LINE_LOCK = 7_316_284_905_112_403
"""The `pg_advisory_xact_lock` key of every claim and requeue: one change to the line at a time."""
_HOLDS_SLOT = "(state IN ('submitting', 'running') OR (state = 'queued' AND claimed))"
"""A job counting against the plan's ceiling: taken from the line, and Scenario not done with it."""
_WAITING = "state = 'queued' AND NOT claimed"

MIGRATION = f"""
-- The shared line: a job's turn in the fair order, whether a process took it from the line, and its lease.
ALTER TABLE jobs ADD COLUMN turn bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN claimed boolean NOT NULL DEFAULT false;
ALTER TABLE jobs ADD COLUMN lease_owner text;
ALTER TABLE jobs ADD COLUMN lease_until timestamptz;
CREATE INDEX jobs_line ON jobs (turn, seq) WHERE {_WAITING};
CREATE INDEX jobs_user_waiting ON jobs (user_id) WHERE {_WAITING};
CREATE INDEX jobs_leases ON jobs (lease_owner, lease_until)
    WHERE state IN ('queued', 'submitting', 'running', 'delivering');
-- Jobs left unfinished by a bot from before this version: the first process to start takes them over.
UPDATE jobs SET lease_until = '-infinity', claimed = state <> 'queued'
    WHERE state IN ('queued', 'submitting', 'running', 'delivering');
-- The plan, shared by every process: its learned ceiling, a pause after Scenario said it was full, the last turn.
CREATE TABLE plan (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    ceiling integer,
    blocked_until timestamptz,
    served_turn bigint NOT NULL DEFAULT 0
);
INSERT INTO plan DEFAULT VALUES;
CREATE FUNCTION jobs_enter_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'queued' THEN
        NEW.turn := 1 + GREATEST(
            (SELECT served_turn FROM plan),
            (SELECT max(turn) FROM jobs WHERE user_id = NEW.user_id AND {_WAITING}));
        PERFORM pg_notify('{CHANNEL}', 'queued');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER jobs_enter_line BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_enter_line();
"""


@dataclass(frozen=True, slots=True)
class Claim:
    """What a claim found: the job taken (or None), and the plan as it stood."""

    job: JobRecord | None
    ceiling: int | None
    """The plan's learned ceiling (None: not learned yet)."""
    in_flight: int
    """Jobs holding a Scenario slot across every process, before this claim."""
    waiting: int
    """Jobs in line, before this claim."""
    probe: bool = False
    """The job was taken one beyond the ceiling, to see whether the plan grew."""


@dataclass(frozen=True, slots=True)
class Taken:
    """Jobs a process took over: those still in line (it now speaks for them) and those to resume."""

    waiting: Sequence[JobRecord]
    resumed: Sequence[JobRecord]


class PostgresLine:
    """The shared line's statements, for one process (`owner`) holding leases of `lease_seconds`."""

    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        owner: str,
        lease_seconds: float,
    ) -> None:
        self._pool = pool
        self._connect = connect
        self.owner = owner
        self.lease_seconds = lease_seconds

    async def listen(self, on_notice: Callable[[str], None]) -> asyncpg.Connection:
        """A connection of its own, listening: `on_notice` hears each notification's payload. Close it to stop."""
        conn = await self._connect()
        try:
            await conn.add_listener(CHANNEL, lambda _conn, _pid, _channel, payload: on_notice(payload))
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def claim(self, *, cap: int | None, unknown_ok: bool, probe_ok: bool) -> Claim:
        """Take the head of the line if the plan has a slot: below the ceiling (capped by `cap`); with no ceiling
        learned, only if `unknown_ok`; one beyond it if `probe_ok`. Never while the plan is paused."""
        async with self._pool().acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LINE_LOCK)
            plan = await conn.fetchrow(
                f"SELECT ceiling, coalesce(blocked_until > now(), false) AS blocked, served_turn,"
                f" (SELECT count(*) FROM jobs WHERE {_HOLDS_SLOT}) AS in_flight,"
                f" (SELECT count(*) FROM jobs WHERE {_WAITING}) AS waiting FROM plan"
            )
            ceiling, in_flight, waiting = plan["ceiling"], plan["in_flight"], plan["waiting"]
            limit = ceiling if cap is None else min(ceiling or cap, cap)
            probe = False
            if plan["blocked"] or not waiting:
                allowed = False
            elif limit is None:
                allowed = unknown_ok
            else:
                allowed = in_flight < limit or (probe := probe_ok and in_flight < limit + 1)
            if not allowed:
                return Claim(None, ceiling, in_flight, waiting)
            row = await conn.fetchrow(
                f"UPDATE jobs SET claimed = true, lease_owner = $1, lease_until = now() + $2 * interval '1 second'"
                f" WHERE id = (SELECT id FROM jobs WHERE {_WAITING} ORDER BY turn, seq LIMIT 1 FOR UPDATE SKIP LOCKED)"
                f" RETURNING turn, {COLUMNS}",
                self.owner,
                self.lease_seconds,
            )
            if row is None:
                return Claim(None, ceiling, in_flight, waiting)
            if row["turn"] > plan["served_turn"]:
                await conn.execute("UPDATE plan SET served_turn = $1", row["turn"])
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"claimed {row['id']}")
            return Claim(_records.to_record(row), ceiling, in_flight, waiting, probe)

    async def requeue_front(self, job_id: str, ceiling: int, pause_seconds: float) -> JobRecord | None:
        """Scenario answered 429: the job goes back to the head of the line, the plan's ceiling is `ceiling`, and
        nobody starts a job for `pause_seconds`. None if the job was no longer submitting (canceled, taken)."""
        async with self._pool().acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _LINE_LOCK)
            await conn.execute(
                "UPDATE plan SET ceiling = $1, blocked_until = now() + $2 * interval '1 second'", ceiling, pause_seconds
            )
            row = await conn.fetchrow(
                f"UPDATE jobs SET state = 'queued', claimed = false, submit_started_at = NULL, updated_at = now(),"
                f" turn = (SELECT coalesce(min(turn), 1) - 1 FROM jobs WHERE {_WAITING})"
                f" WHERE id = $1 AND state = 'submitting' RETURNING {COLUMNS}",
                job_id,
            )
            return _records.to_record(row) if row is not None else None

    async def grow(self, ceiling: int) -> bool:
        """Scenario took one job more than `ceiling`: the ceiling is one higher (unless it changed meanwhile)."""
        status = await self._pool().execute("UPDATE plan SET ceiling = $1 + 1 WHERE ceiling = $1", ceiling)
        return status == "UPDATE 1"

    async def slot_freed(self) -> None:
        """A job no longer holds a slot: the pause after a 429 is over (the plan has room again)."""
        await self._pool().execute("UPDATE plan SET blocked_until = NULL WHERE blocked_until IS NOT NULL")

    async def ceiling(self) -> int | None:
        return await self._pool().fetchval("SELECT ceiling FROM plan")

    async def position(self, job_id: str) -> int | None:
        """One waiting job's 1-based place in the whole line, or None."""
        return await self._pool().fetchval(
            f"SELECT 1 + (SELECT count(*) FROM jobs w WHERE {_WAITING} AND (w.turn, w.seq) < (j.turn, j.seq))"
            f" FROM jobs j WHERE j.id = $1 AND j.state = 'queued' AND NOT j.claimed",
            job_id,
        )

    async def positions(self) -> dict[str, int]:
        """Every waiting job's 1-based place in the whole line, whichever process took it."""
        rows = await self._pool().fetch(
            f"SELECT id, row_number() OVER (ORDER BY turn, seq) AS place FROM jobs WHERE {_WAITING}"
        )
        return {row["id"]: row["place"] for row in rows}

    async def counts(self) -> tuple[int, int]:
        """(jobs waiting in line, jobs holding a Scenario slot), across every process."""
        row = await self._pool().fetchrow(
            f"SELECT count(*) FILTER (WHERE {_WAITING}) AS waiting, count(*) FILTER (WHERE {_HOLDS_SLOT}) AS running"
            " FROM jobs WHERE state IN ('queued', 'submitting', 'running')"
        )
        return row["waiting"], row["running"]

    async def waiting_for(self, user_id: int, guild_id: int | None) -> tuple[int, int]:
        """(a requester's jobs waiting in line, those of them from `guild_id`), across every process."""
        row = await self._pool().fetchrow(
            f"SELECT count(*) AS everywhere, count(*) FILTER (WHERE guild_id = $2) AS here FROM jobs"
            f" WHERE user_id = $1 AND {_WAITING}",
            user_id,
            guild_id,
        )
        return row["everywhere"], row["here"]

    async def renew(self) -> set[str]:
        """Extend every lease this process holds; returns the ids it still holds (the others were taken over)."""
        rows = await self._pool().fetch(
            "UPDATE jobs SET lease_until = now() + $2 * interval '1 second'"
            " WHERE lease_owner = $1 AND state = ANY($3::text[]) RETURNING id",
            self.owner,
            self.lease_seconds,
            list(ACTIVE),
        )
        return {row["id"] for row in rows}

    async def lost(self, job_ids: Sequence[str]) -> set[str]:
        """Which of these jobs, still unfinished, another process holds now (it took them over)."""
        rows = await self._pool().fetch(
            "SELECT id FROM jobs WHERE id = ANY($1::text[]) AND state = ANY($2::text[])"
            " AND lease_owner IS DISTINCT FROM $3",
            list(job_ids),
            list(ACTIVE),
            self.owner,
        )
        return {row["id"] for row in rows}

    async def take_over(self, limit: int = 500) -> Taken:
        """Take every unfinished job whose lease lapsed (its process died, or handed it back). A job taken from the
        line but not yet sent goes back in line at its old turn (near the front); the others are to resume."""
        rows = await self._pool().fetch(
            f"UPDATE jobs SET lease_owner = $1, lease_until = now() + $2 * interval '1 second',"
            f" claimed = claimed AND state <> 'queued'"
            f" WHERE id IN (SELECT id FROM jobs WHERE state = ANY($3::text[]) AND lease_until < now()"
            f" AND lease_owner IS DISTINCT FROM $1"  # its own jobs this process renews, never takes
            f" ORDER BY turn, seq LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}",
            self.owner,
            self.lease_seconds,
            list(ACTIVE),
            limit,
        )
        jobs = [_records.to_record(row) for row in rows]
        if jobs:
            log.info("Took over %d job(s) whose process stopped", len(jobs))
        waiting = [job for job in jobs if job.state.value == "queued"]
        return Taken(waiting, [job for job in jobs if job.state.value != "queued"])

    async def hand_back(self) -> int:
        """A graceful stop: every job this process holds is free for another process at once."""
        status = await self._pool().execute(
            "UPDATE jobs SET lease_owner = NULL, lease_until = '-infinity', claimed = claimed AND state <> 'queued'"
            " WHERE lease_owner = $1 AND state = ANY($2::text[])",
            self.owner,
            list(ACTIVE),
        )
        handed = int(status.rsplit(" ", 1)[-1])
        if handed:
            await self._pool().execute("SELECT pg_notify($1, 'released')", CHANNEL)
        return handed
