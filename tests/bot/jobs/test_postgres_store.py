"""What only the PostgreSQL job store does: column types, migrations under an advisory lock, several stores on
one database, and a DSN (which may hold a password) that never reaches an error or a log.

Each test that needs the server has a fresh database of its own (`postgres_url`, tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import asyncpg
import pytest

from bot.jobs import postgres as postgres_module
from bot.jobs.models import JobState
from bot.jobs.postgres import MIGRATIONS, PostgresJobStore, PostgresUnavailable, server_name
from bot.jobs.store import open_store
from tests.bot.jobs.conftest import full_record, record
from tests.conftest import database_url

LATEST = MIGRATIONS[-1][0]
VERSIONS = [version for version, _ in MIGRATIONS]  # a version number may be skipped (each branch has its own)
PASSWORD = "hunter2-Zq9"


def with_password(url: str) -> str:
    """The same URL with a user and password (trust auth ignores the password; it must still never leak)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://postgres:{PASSWORD}@{rest.rpartition('@')[2]}"


async def fetch(url: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(sql)
    finally:
        await connection.close()


async def versions(url: str) -> list[int]:
    return [row["version"] for row in await fetch(url, "SELECT version FROM schema_migrations ORDER BY version")]


# --- schema ------------------------------------------------------------------------------------------------


async def test_columns_use_native_types_and_are_readable_without_the_bot(postgres_url: str) -> None:
    async with PostgresJobStore(postgres_url) as store:
        await store.add(full_record())

    types = {
        row["column_name"]: row["data_type"]
        for row in await fetch(
            postgres_url, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'jobs'"
        )
    }
    assert types["inputs"] == types["seeds"] == types["delivered_message_ids"] == "jsonb"
    assert types["created_at"] == types["token_expires_at"] == "timestamp with time zone"
    assert types["user_id"] == types["guild_id"] == types["interaction_id"] == "bigint"
    assert types["state"] == types["command"] == "text"
    assert types["bot_in_guild"] == "boolean"
    [row] = await fetch(
        postgres_url,
        "SELECT state, inputs->>'prompt' AS prompt, seeds->1 AS seed, created_at, bot_in_guild, user_id FROM jobs",
    )
    assert row["state"] == "running"
    assert row["prompt"].startswith("naïve café ☕")
    assert row["seed"] == "null"
    assert row["created_at"] == datetime(2025, 3, 1, 12, 0, 0, 999999, tzinfo=UTC)
    assert row["bot_in_guild"] is False and row["user_id"] == 2**63 - 1


async def test_open_logs_where_and_the_version_but_never_the_credentials(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = with_password(postgres_url)
    caplog.set_level(logging.INFO, logger="bot.jobs.postgres")

    async with PostgresJobStore(url) as store:
        assert PASSWORD not in repr(store)

    where = postgres_url.rpartition("@")[2]
    assert f"Job store open at PostgreSQL {where} (schema version {LATEST})" in caplog.text
    assert f"Migrated the job database at PostgreSQL {where} to schema version 1" in caplog.text
    assert PASSWORD not in caplog.text and "postgres@" not in caplog.text


# --- migrations --------------------------------------------------------------------------------------------


async def test_racing_migrations_end_at_the_right_version(postgres_url: str) -> None:
    """Four processes starting together on a fresh database: one migrates, the others wait and find it done."""
    slow = [*MIGRATIONS, (LATEST + 1, "SELECT pg_sleep(0.3); CREATE TABLE extra (x integer);")]
    stores = [PostgresJobStore(postgres_url, migrations=slow) for _ in range(4)]

    await asyncio.gather(*(store.open() for store in stores))
    try:
        job = record()
        await stores[0].add(job)
        assert [await store.get(job.id) for store in stores] == [job] * 4
    finally:
        await asyncio.gather(*(store.close() for store in stores))

    assert await versions(postgres_url) == [*(version for version, _ in MIGRATIONS), LATEST + 1]


async def test_a_pool_of_two_stores_on_one_database(postgres_url: str) -> None:
    """Two stores (two pools, as two processes have) share records, and every race between them has one winner."""
    async with (
        PostgresJobStore(postgres_url, max_size=3) as first,
        PostgresJobStore(postgres_url, max_size=3) as second,
    ):
        jobs = [record(user_id=n) for n in range(10)]
        for job in jobs:
            await (first if job.user_id % 2 else second).add(job)

        results = await asyncio.gather(
            *(
                store.transition(job.id, [JobState.QUEUED], JobState.SUBMITTING, attempts=n)
                for job in jobs
                for n, store in enumerate((first, second, first, second))
            )
        )

        winners = [result for result in results if result is not None]
        assert sorted(w.id for w in winners) == sorted(job.id for job in jobs)
        assert await first.unfinished() == await second.unfinished() == sorted(winners, key=lambda w: w.user_id)


async def test_a_newer_migration_is_applied_once(postgres_url: str) -> None:
    job = record()
    async with PostgresJobStore(postgres_url) as store:
        await store.add(job)
    newer = [*MIGRATIONS, (LATEST + 1, "ALTER TABLE jobs ADD COLUMN note text; UPDATE jobs SET note = 'migrated';")]

    for _ in range(2):  # the second open has nothing left to apply
        async with PostgresJobStore(postgres_url, migrations=newer) as store:
            assert await store.get(job.id) == job

    assert await versions(postgres_url) == [*(version for version, _ in MIGRATIONS), LATEST + 1]
    assert [row["note"] for row in await fetch(postgres_url, "SELECT note FROM jobs")] == ["migrated"]


async def test_the_module_list_is_what_open_applies(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_module, "MIGRATIONS", (*MIGRATIONS, (LATEST + 1, "CREATE TABLE extra (x integer)")))

    async with PostgresJobStore(postgres_url) as store:
        assert store.schema_version == LATEST + 1

    assert await fetch(postgres_url, "SELECT x FROM extra") == []


async def test_a_failing_migration_changes_nothing(postgres_url: str) -> None:
    async with PostgresJobStore(postgres_url) as store:
        await store.add(record())
    broken = [*MIGRATIONS, (LATEST + 1, "ALTER TABLE jobs ADD COLUMN half text; THIS IS NOT SQL;")]

    with pytest.raises(asyncpg.PostgresSyntaxError):
        await PostgresJobStore(postgres_url, migrations=broken).open()

    assert await versions(postgres_url) == [version for version, _ in MIGRATIONS]
    columns = await fetch(postgres_url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs'")
    assert "half" not in {row["column_name"] for row in columns}


async def test_a_database_from_a_newer_bot_is_refused(postgres_url: str) -> None:
    async with PostgresJobStore(postgres_url, migrations=[*MIGRATIONS, (LATEST + 1, "SELECT 1")]):
        pass

    with pytest.raises(RuntimeError, match="newer than this bot") as caught:
        await PostgresJobStore(with_password(postgres_url)).open()

    assert PASSWORD not in str(caught.value)


async def test_a_field_without_a_column_fails_at_open(postgres_url: str) -> None:
    dropped = MIGRATIONS[0][1].replace("delivery_note text,", "")

    with pytest.raises(RuntimeError, match="delivery_note"):
        await PostgresJobStore(postgres_url, migrations=[(1, dropped)]).open()


# --- the DSN stays secret ----------------------------------------------------------------------------------


def assert_secret_kept(error: BaseException) -> None:
    """One line, no password, and no chained driver error that could repeat the DSN."""
    text = str(error)
    assert PASSWORD not in text and PASSWORD not in repr(error)
    assert "\n" not in text
    assert error.__cause__ is None and error.__suppress_context__


async def test_an_unknown_database_is_one_line_without_the_password(postgres_url: str) -> None:
    url = with_password(database_url("no_such_database_here"))

    with pytest.raises(PostgresUnavailable, match='database "no_such_database_here" does not exist') as caught:
        await PostgresJobStore(url).open()

    assert_secret_kept(caught.value)
    assert str(caught.value).startswith(f"PostgreSQL {server_name(url)}: ")


async def test_a_server_that_does_not_answer_is_one_line_without_the_password() -> None:
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1:9/bot"  # port 9 (discard): nothing listens there

    with pytest.raises(PostgresUnavailable) as caught:
        await PostgresJobStore(url, connect_timeout=5).open()

    assert_secret_kept(caught.value)
    assert str(caught.value).startswith("PostgreSQL 127.0.0.1:9/bot: ")
    assert isinstance(caught.value, OSError) and caught.value.strerror == str(caught.value)


@pytest.mark.parametrize(
    "url", [f"postgresql://bot:{PASSWORD}%2F@db.example/bot", f"postgresql://bot@db.example/bot?password={PASSWORD}/"]
)
async def test_a_driver_error_that_repeats_the_dsn_is_redacted(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing_pool(dsn: str, **options: object) -> None:
        raise ValueError(f"cannot parse {dsn!r} (password {PASSWORD}/)\nsecond line")

    monkeypatch.setattr(asyncpg, "create_pool", failing_pool)

    with pytest.raises(PostgresUnavailable) as caught:
        await PostgresJobStore(url).open()

    assert_secret_kept(caught.value)
    assert str(caught.value) == "PostgreSQL db.example/bot: ValueError: cannot parse '***' (password ***)"


# --- DATABASE_URL ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [f"postgres://admin:{PASSWORD}@db/bot", f"postgresql://admin:{PASSWORD}@db:6543/bot"])
def test_open_store_builds_a_postgres_store(url: str) -> None:
    store = open_store(url)

    assert isinstance(store, PostgresJobStore)
    assert PASSWORD not in repr(store) and PASSWORD not in store.where


def test_open_store_refuses_other_schemes_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="DATABASE_URL") as caught:
        open_store(f"mysql://admin:{PASSWORD}@db/bot")

    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("dsn", "where"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test", "127.0.0.1:5432/test"),
        (f"postgres://bot:{PASSWORD}@db.example/jobs", "db.example/jobs"),
        ("postgresql://bot@h1:5432,h2:5433/jobs", "h1:5432,h2:5433/jobs"),
        ("postgresql:///jobs?host=/var/run/postgresql", "/var/run/postgresql/jobs"),
        ("postgresql://db/my%20jobs", "db/my jobs"),
    ],
)
def test_server_name_leaves_out_the_credentials(dsn: str, where: str) -> None:
    assert server_name(dsn) == where
