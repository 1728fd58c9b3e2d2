"""What only the SQLite job store does: its file, WAL, migrations, SIGKILL durability and `sqlite:` URLs.

The JobStore contract itself runs against SQLite and PostgreSQL alike in `test_store_contract.py`.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs import sqlite as sqlite_module
from bot.jobs.models import JobRecord, JobState
from bot.jobs.sqlite import MIGRATIONS, SQLiteJobStore, sqlite_path
from bot.jobs.store import open_store
from tests.bot.jobs.conftest import full_record
from tests.bot.jobs.conftest import record as job


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteJobStore]:
    s = SQLiteJobStore(tmp_path / "data" / "jobs.db")
    await s.open()
    yield s
    await s.close()


async def test_columns_are_readable_without_the_bot(store: SQLiteJobStore, tmp_path: Path) -> None:
    await store.add(full_record())

    with sqlite3.connect(tmp_path / "data" / "jobs.db") as db:
        state, inputs, created, bot_in_guild = db.execute(
            "SELECT state, inputs, created_at, bot_in_guild FROM jobs"
        ).fetchone()

    assert state == "running"
    assert '"naïve café ☕' in inputs
    assert created == "2025-03-01T12:00:00.999999+00:00"
    assert bot_in_guild == 0


# --- durability and migrations -----------------------------------------------------------------------------

LATEST = MIGRATIONS[-1][0]


def write_version_1(path: Path, *records: JobRecord) -> None:
    """A database as the first released bot left it: schema version 1, holding `records` (only the columns that
    version had; a field added since reads back as its default)."""
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0][1])
        db.execute("PRAGMA user_version = 1")
        columns = [row[1] for row in db.execute("PRAGMA table_info(jobs)") if row[1] in JobRecord.model_fields]
        for record in records:
            values = [sqlite_module._to_column(name, getattr(record, name)) for name in columns]
            db.execute(f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", values)


async def test_open_creates_the_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "jobs.db"
    async with SQLiteJobStore(path) as s:
        await s.add(job())

    assert path.exists()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == MIGRATIONS[-1][0]


async def test_a_database_at_version_1_is_migrated_to_the_latest(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    record = job()
    write_version_1(path, record)
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
    write_version_1(path, undelivered, failed, delivered)  # written by the bot before version 2

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


async def test_a_database_another_program_locks_is_reported_without_the_statements_values(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Statements run on the event loop: one that waits for another program's write lock waits at most the
    # busy timeout (kept short here: it is SQLite's own real-time wait), fails clearly and is logged, its values
    # (an interaction token among them) left out.
    s = SQLiteJobStore(tmp_path / "jobs.db", busy_timeout_ms=150)
    await s.open()
    other = sqlite3.connect(tmp_path / "jobs.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. an operator's sqlite3 shell in the middle of a change
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await s.add(job(interaction_token="secret-interaction-token"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    warning = next(r for r in caplog.records if r.name == "bot.jobs._sqlite_connection")
    assert "held the bot" in warning.getMessage() and "INSERT INTO jobs" in warning.getMessage()
    assert "secret-interaction-token" not in caplog.text
    await s.add(job())  # the lock is gone: the store works on
    await s.close()


async def test_in_memory_store_works(tmp_path: Path) -> None:
    async with SQLiteJobStore(sqlite_path("sqlite:///:memory:")) as s:
        record = job()
        await s.add(record)
        assert await s.get(record.id) == record
    assert list(tmp_path.iterdir()) == []


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


def test_open_store_builds_a_sqlite_store() -> None:
    store = open_store("sqlite:///data/bot.db")

    assert isinstance(store, SQLiteJobStore)
    assert store.path == Path("data/bot.db")


async def test_open_store_creates_the_file_and_its_directory(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/nested/bot.db")
    await store.open()
    await store.close()

    assert (tmp_path / "nested" / "bot.db").exists()
