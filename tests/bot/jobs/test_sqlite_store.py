"""Tests for the SQLite job store, on real files in tmp_path."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.jobs import sqlite as sqlite_module
from bot.jobs.models import Command, JobRecord, JobState
from bot.jobs.sqlite import MIGRATIONS, SQLiteJobStore, sqlite_path
from bot.jobs.store import open_store

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def job(user_id: int = 1, *, created: datetime = T0, state: JobState = JobState.QUEUED, **fields: object) -> JobRecord:
    return JobRecord(
        command=Command.IMAGINE,
        model_id="model_ideogram-v4",
        inputs={"prompt": "a lighthouse"},
        user_id=user_id,
        state=state,
        created_at=created,
        updated_at=created,
        **fields,  # type: ignore[arg-type]
    )


def full_job() -> JobRecord:
    """A record with every field away from its default, including awkward values."""
    return JobRecord(
        id="abcdef123456",
        state=JobState.RUNNING,
        command=Command.CHARACTER,
        model_id="model_ideogram-character",
        inputs={"prompt": "naïve café ☕ \"quoted\" 'single'", "numOutputs": 2, "nested": {"a": [1, None, True]}},
        uploaded_asset_ids={"reference": "asset_ref", "mask": "asset_mask"},
        user_id=2**63 - 1,  # snowflakes use the full signed 64-bit range SQLite stores
        user_name="Zoë",
        guild_id=1_234_567_890_123_456_789,
        channel_id=222,
        application_id=333,
        interaction_id=444,
        interaction_token="tok.en-value",
        token_expires_at=datetime(2025, 3, 1, 12, 15, tzinfo=UTC),
        filesize_limit=25 * 1024 * 1024,
        bot_in_guild=False,
        parent_job_id="parent000001",
        parent_message_url="https://discord.com/channels/1/2/3",
        submit_started_at=datetime(2025, 3, 1, 12, 0, 1, 5, tzinfo=UTC),
        scenario_job_id="job_abc",
        scenario_status="in-progress",
        progress=0.42,
        output_asset_ids=["asset_1", "asset_2"],
        seeds=[123, None],
        cost=12.5,
        delivered_message_ids=[777, 888],
        delivered_via="interaction",
        delivery_note="scaled down",
        attempts=3,
        last_error="temporary",
        # A non-UTC offset: it must come back as the same instant, in UTC.
        created_at=datetime(2025, 3, 1, 14, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2))),
        updated_at=datetime(2025, 3, 1, 12, 5, tzinfo=UTC),
        finished_at=datetime(2025, 3, 1, 12, 6, tzinfo=UTC),
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteJobStore]:
    s = SQLiteJobStore(tmp_path / "data" / "jobs.db")
    await s.open()
    yield s
    await s.close()


# --- records -----------------------------------------------------------------------------------------------


async def test_a_fully_populated_record_round_trips_through_a_reopen(tmp_path: Path) -> None:
    original = full_job()
    async with SQLiteJobStore(tmp_path / "jobs.db") as s:
        await s.add(original)

    async with SQLiteJobStore(tmp_path / "jobs.db") as s:
        loaded = await s.get(original.id)

    assert loaded is not None
    assert loaded.model_dump() == original.model_dump()
    for name in ("token_expires_at", "submit_started_at", "created_at", "updated_at", "finished_at"):
        value = getattr(loaded, name)
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0), name
    assert loaded.created_at == datetime(2025, 3, 1, 12, 0, 0, 999999, tzinfo=UTC)
    assert loaded.state is JobState.RUNNING and loaded.command is Command.CHARACTER


async def test_defaults_round_trip(store: SQLiteJobStore) -> None:
    record = job()
    await store.add(record)

    assert await store.get(record.id) == record


async def test_columns_are_readable_without_the_bot(store: SQLiteJobStore, tmp_path: Path) -> None:
    await store.add(full_job())

    with sqlite3.connect(tmp_path / "data" / "jobs.db") as db:
        state, inputs, created, bot_in_guild = db.execute(
            "SELECT state, inputs, created_at, bot_in_guild FROM jobs"
        ).fetchone()

    assert state == "running"
    assert '"naïve café ☕' in inputs
    assert created == "2025-03-01T12:00:00.999999+00:00"
    assert bot_in_guild == 0


async def test_get_unknown_is_none_and_duplicate_add_is_refused(store: SQLiteJobStore) -> None:
    record = job()
    await store.add(record)

    assert await store.get("nope") is None
    with pytest.raises(ValueError, match="already exists"):
        await store.add(record)


# --- update and transition ---------------------------------------------------------------------------------


async def test_update_sets_fields_and_updated_at(tmp_path: Path) -> None:
    now = datetime(2025, 3, 2, tzinfo=UTC)
    async with SQLiteJobStore(tmp_path / "jobs.db", clock=lambda: now) as s:
        record = job()
        await s.add(record)

        updated = await s.update(record.id, progress=0.5, seeds=[1, 2], scenario_status="processing")

        assert (updated.progress, updated.seeds, updated.scenario_status) == (0.5, [1, 2], "processing")
        assert updated.updated_at == now and updated.created_at == T0
        assert updated.finished_at is None
        assert await s.get(record.id) == updated


async def test_update_validates_names_and_values(store: SQLiteJobStore) -> None:
    record = job()
    await store.add(record)

    with pytest.raises(ValueError, match="no_such_field"):
        await store.update(record.id, no_such_field=1)
    with pytest.raises(ValueError, match="id"):
        await store.update(record.id, id="other")
    with pytest.raises(ValidationError):
        await store.update(record.id, progress="lots")
    with pytest.raises(KeyError):
        await store.update("missing", progress=1.0)
    assert await store.get(record.id) == record


async def test_update_coerces_like_the_model(store: SQLiteJobStore) -> None:
    record = job()
    await store.add(record)

    updated = await store.update(record.id, state="failed", submit_started_at="2025-03-01T13:00:00+01:00")

    assert updated.state is JobState.FAILED
    assert updated.submit_started_at == datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert updated.finished_at is not None  # a terminal state set through update still finishes the job


async def test_transition_is_compare_and_set(store: SQLiteJobStore) -> None:
    record = job()
    await store.add(record)

    refused = await store.transition(record.id, [JobState.RUNNING], JobState.DELIVERING, progress=1.0)

    assert refused is None
    assert await store.get(record.id) == record

    moved = await store.transition(record.id, [JobState.QUEUED, JobState.SUBMITTING], JobState.SUBMITTING, attempts=1)
    assert moved is not None
    assert moved.state is JobState.SUBMITTING and moved.attempts == 1
    assert moved.updated_at > record.updated_at and moved.finished_at is None
    assert await store.get(record.id) == moved


async def test_transition_of_an_unknown_job_or_from_no_states_is_none(store: SQLiteJobStore) -> None:
    record = job()
    await store.add(record)

    assert await store.transition("missing", [JobState.QUEUED], JobState.CANCELED) is None
    assert await store.transition(record.id, [], JobState.CANCELED) is None
    assert (await store.get(record.id)).state is JobState.QUEUED  # type: ignore[union-attr]


async def test_only_one_of_two_racing_transitions_wins(store: SQLiteJobStore) -> None:
    record = job()
    await store.add(record)

    results = await asyncio.gather(
        store.transition(record.id, [JobState.QUEUED], JobState.CANCELED, last_error="Canceled"),
        store.transition(record.id, [JobState.QUEUED], JobState.SUBMITTING),
    )

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert (await store.get(record.id)) == winners[0]


async def test_entering_a_terminal_state_sets_finished_at(tmp_path: Path) -> None:
    now = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    async with SQLiteJobStore(tmp_path / "jobs.db", clock=lambda: now) as s:
        record = job(state=JobState.DELIVERING)
        await s.add(record)

        done = await s.transition(record.id, [JobState.DELIVERING], JobState.DELIVERED, delivered_via="channel")

    assert done is not None
    assert done.finished_at == now and done.delivered_via == "channel"


async def test_transition_rejects_state_and_unknown_fields(store: SQLiteJobStore) -> None:
    record = job()
    await store.add(record)

    with pytest.raises(ValueError, match="state"):
        await store.transition(record.id, [JobState.QUEUED], JobState.RUNNING, state=JobState.FAILED)
    with pytest.raises(ValueError, match="bogus"):
        await store.transition(record.id, [JobState.QUEUED], JobState.RUNNING, bogus=True)
    assert await store.get(record.id) == record


# --- queries -----------------------------------------------------------------------------------------------


async def test_unfinished_lists_active_jobs_oldest_first(store: SQLiteJobStore) -> None:
    minute = timedelta(minutes=1)
    records = [
        job(created=T0 + 3 * minute, state=JobState.RUNNING),
        job(created=T0 + 1 * minute, state=JobState.QUEUED),
        job(created=T0 + 2 * minute, state=JobState.DELIVERED),
        job(created=T0 + 0 * minute, state=JobState.DELIVERING),
        job(created=T0 + 4 * minute, state=JobState.CANCELED),
        job(created=T0 + 5 * minute, state=JobState.SUBMITTING),
        job(created=T0 + 6 * minute, state=JobState.FAILED),
    ]
    for record in records:
        await store.add(record)

    unfinished = await store.unfinished()

    assert [r.id for r in unfinished] == [records[i].id for i in (3, 1, 0, 5)]


async def test_for_user_pages_newest_first_and_filters_by_state(store: SQLiteJobStore) -> None:
    mine = [
        job(7, created=T0 + timedelta(seconds=n), state=JobState.DELIVERED if n % 2 else JobState.QUEUED)
        for n in range(7)
    ]
    for record in [*mine, job(8), job(8)]:
        await store.add(record)
    newest_first = [r.id for r in reversed(mine)]

    first = await store.for_user(7, limit=3)
    second = await store.for_user(7, limit=3, offset=3)
    last = await store.for_user(7, limit=3, offset=6)

    assert [r.id for r in first + second + last] == newest_first  # type: ignore[operator]
    assert len(last) == 1
    delivered = await store.for_user(7, states=[JobState.DELIVERED])
    assert [r.id for r in delivered] == [mine[5].id, mine[3].id, mine[1].id]
    assert await store.for_user(7, states=[]) == []
    assert await store.for_user(9) == []


async def test_scenario_job_ids_include_old_records_submitted_recently(tmp_path: Path) -> None:
    clock = {"now": T0}
    async with SQLiteJobStore(tmp_path / "jobs.db", clock=lambda: clock["now"]) as s:
        stale = job(created=T0 - timedelta(days=5), scenario_job_id="job_stale")
        stale = stale.model_copy(update={"updated_at": T0 - timedelta(days=5)})
        # Queued yesterday, only submitted now: its Scenario job is recent even though the record is old.
        queued_long = job(created=T0 - timedelta(days=1))
        unclaimed = job(created=T0)
        for record in (stale, queued_long, unclaimed):
            await s.add(record)
        await s.transition(queued_long.id, [JobState.QUEUED], JobState.RUNNING, scenario_job_id="job_recent")

        claimed = await s.scenario_job_ids_since(T0 - timedelta(minutes=1))

    assert claimed == {"job_recent"}


# --- durability and migrations -----------------------------------------------------------------------------

LATEST = MIGRATIONS[-1][0]


async def test_open_creates_the_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "jobs.db"
    async with SQLiteJobStore(path) as s:
        await s.add(job())

    assert path.exists()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == MIGRATIONS[-1][0]


async def test_reopening_is_idempotent(tmp_path: Path) -> None:
    record = job()
    async with SQLiteJobStore(tmp_path / "jobs.db") as s:
        await s.add(record)
    for _ in range(2):
        async with SQLiteJobStore(tmp_path / "jobs.db") as s:
            assert await s.get(record.id) == record


async def test_a_database_at_version_1_is_migrated_to_the_latest(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    record = job()
    async with SQLiteJobStore(path, migrations=MIGRATIONS[:1]) as s:
        await s.add(record)
    newer = [
        *MIGRATIONS,
        (LATEST + 1, "ALTER TABLE jobs ADD COLUMN note TEXT; UPDATE jobs SET note = 'migrated';"),
        (LATEST + 2, "CREATE INDEX jobs_note ON jobs (note) -- a comment; with a semicolon\n;"),
    ]

    async with SQLiteJobStore(path, migrations=newer) as s:
        assert await s.get(record.id) == record
    async with SQLiteJobStore(path, migrations=newer) as s:  # nothing left to apply
        assert await s.get(record.id) == record

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST + 2
        assert db.execute("SELECT note FROM jobs").fetchone()[0] == "migrated"


async def test_version_2_drops_the_unused_column_and_marks_failed_jobs_with_images_undelivered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "jobs.db"
    undelivered = job(output_asset_ids=["asset_1"], state=JobState.FAILED, last_error="Undelivered: 403")
    failed = job(state=JobState.FAILED, last_error="Scenario could not make this image")
    delivered = job(output_asset_ids=["asset_2"], delivered_message_ids=[9], state=JobState.DELIVERED)
    async with SQLiteJobStore(path, migrations=MIGRATIONS[:1]) as s:  # written by the bot before version 2
        for record in (undelivered, failed, delivered):
            await s.add(record)

    async with SQLiteJobStore(path) as s:
        assert (await s.get(undelivered.id)).state is JobState.UNDELIVERED
        assert (await s.get(failed.id)).state is JobState.FAILED
        assert (await s.get(delivered.id)).state is JobState.DELIVERED

    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
    assert "response_message_id" not in columns


async def test_the_module_list_is_what_open_applies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extended = (*MIGRATIONS, (LATEST + 1, "CREATE TABLE extra (x INTEGER)"))
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", extended)

    async with SQLiteJobStore(tmp_path / "jobs.db") as s:
        assert s.schema_version == LATEST + 1

    with sqlite3.connect(tmp_path / "jobs.db") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'extra'").fetchone() is not None


async def test_a_failing_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    async with SQLiteJobStore(path) as s:
        await s.add(job())
    broken = [*MIGRATIONS, (LATEST + 1, "ALTER TABLE jobs ADD COLUMN half TEXT; THIS IS NOT SQL;")]

    with pytest.raises(sqlite3.OperationalError):
        await SQLiteJobStore(path, migrations=broken).open()

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
    assert "half" not in columns


async def test_a_database_from_a_newer_bot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    async with SQLiteJobStore(path, migrations=[*MIGRATIONS, (LATEST + 1, "SELECT 1")]):
        pass

    with pytest.raises(RuntimeError, match="newer than this bot"):
        await SQLiteJobStore(path).open()


async def test_a_field_without_a_column_fails_at_open(tmp_path: Path) -> None:
    dropped = MIGRATIONS[0][1].replace("delivery_note TEXT,", "")

    with pytest.raises(RuntimeError, match="delivery_note"):
        await SQLiteJobStore(tmp_path / "jobs.db", migrations=[(1, dropped)]).open()


async def test_a_committed_write_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    child = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from bot.jobs.models import Command, JobRecord, JobState
        from bot.jobs.sqlite import SQLiteJobStore

        async def main():
            store = SQLiteJobStore({str(path)!r})
            await store.open()
            record = JobRecord(id="killed000001", command=Command.IMAGINE, model_id="m", inputs={{}}, user_id=1)
            await store.add(record)
            await store.transition(record.id, [JobState.QUEUED], JobState.RUNNING, scenario_job_id="job_x")
            print("ok", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )

    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)

    assert result.returncode == -signal.SIGKILL, result.stderr
    assert result.stdout.strip() == "ok"
    async with SQLiteJobStore(path) as s:
        survived = await s.get("killed000001")
    assert survived is not None
    assert survived.state is JobState.RUNNING and survived.scenario_job_id == "job_x"


async def test_in_memory_store_works(tmp_path: Path) -> None:
    async with SQLiteJobStore(sqlite_path("sqlite:///:memory:")) as s:
        record = job()
        await s.add(record)
        assert await s.get(record.id) == record
    assert list(tmp_path.iterdir()) == []


async def test_using_a_closed_store_says_so() -> None:
    with pytest.raises(RuntimeError, match="not open"):
        await SQLiteJobStore(":memory:").get("x")


# --- DATABASE_URL ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/bot.db", Path("data/bot.db")),
        ("sqlite:///bot.db", Path("bot.db")),
        ("sqlite:////var/lib/bot/jobs.db", Path("/var/lib/bot/jobs.db")),
        ("sqlite:///my%20data/bot.db", Path("my data/bot.db")),
        ("sqlite:///:memory:", Path(":memory:")),
    ],
)
def test_sqlite_path(url: str, expected: Path) -> None:
    assert sqlite_path(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///",
        "sqlite:///data/",
        "sqlite://host/bot.db",
        "sqlite:bot.db",
        "sqlite:///bot.db?mode=ro",
        "postgres://admin:hunter2@db/bot",
        "bot.db",
    ],
)
def test_sqlite_path_refuses_other_urls_without_echoing_them(url: str) -> None:
    with pytest.raises(ValueError, match=r"SQLite URL|database file") as caught:
        sqlite_path(url)

    assert "hunter2" not in str(caught.value)
    assert "sqlite:///" in str(caught.value)  # says what would work


@pytest.mark.parametrize("url", ["postgres://admin:hunter2@db/bot", "postgresql://admin:hunter2@db/bot"])
def test_open_store_refuses_postgres_clearly(url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL") as caught:
        open_store(url)

    assert "hunter2" not in str(caught.value)


def test_open_store_builds_a_sqlite_store() -> None:
    store = open_store("sqlite:///data/bot.db")

    assert isinstance(store, SQLiteJobStore)
    assert store.path == Path("data/bot.db")


async def test_open_store_result_opens(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/nested/bot.db")
    await store.open()
    try:
        await store.add(job())
        assert [record.user_id for record in await store.unfinished()] == [1]
    finally:
        await store.close()
    assert (tmp_path / "nested" / "bot.db").exists()
