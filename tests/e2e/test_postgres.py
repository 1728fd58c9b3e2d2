"""`python -m bot` with its jobs in PostgreSQL: `DATABASE_URL=postgresql://…` on a fresh database.

Needs the server TEST_DATABASE_URL names (tests/conftest.py: skipped with a reason without one, failed in CI).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from bot.jobs.postgres import MIGRATIONS
from tests.e2e.conftest import TERMINAL, WAIT, MakeE2E, job_id_of
from tests.e2e.test_process import VALID, run_to_exit

PASSWORD = "e2e-pg-password-" + "do-not-print"


def with_password(url: str) -> str:
    """The URL with a user and password: trust auth ignores the password, and the bot must never print it."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://postgres:{PASSWORD}@{rest.rpartition('@')[2]}"


async def job_states(url: str) -> dict[str, str]:
    connection = await asyncpg.connect(url)
    try:
        return {row["id"]: row["state"] for row in await connection.fetch("SELECT id, state FROM jobs")}
    finally:
        await connection.close()


async def finished(url: str, job_id: str) -> str | None:
    """The job's state once terminal (it turns `delivered` just after the post), or its last state after WAIT."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while (state := (await job_states(url)).get(job_id)) not in TERMINAL and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return state


async def test_an_imagine_is_delivered_and_recorded_in_postgresql(postgres_url: str, make_e2e: MakeE2E) -> None:
    e2e = await make_e2e(env={"DATABASE_URL": with_password(postgres_url)})
    e2e.secrets["the PostgreSQL password"] = PASSWORD

    interaction = await e2e.imagine("a lighthouse kept in PostgreSQL")
    message = await e2e.wait_for(
        lambda: interaction.original is not None and interaction.original.attachments and interaction.original
    )
    job_id = job_id_of(message)

    assert await finished(postgres_url, job_id) == "delivered"
    assert list(await job_states(postgres_url)) == [job_id]
    assert len(e2e.paid_generates()) == 1 and len(e2e.result_posts()) == 1
    assert not (e2e.workdir / "data").exists()  # nothing went to the default SQLite file
    where = postgres_url.rpartition("@")[2]
    assert f"Job store open at PostgreSQL {where} (schema version {MIGRATIONS[-1][0]})" in e2e.bot.log()


async def test_an_unreachable_postgresql_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    url = f"postgresql://bot:{PASSWORD}@127.0.0.1:9/jobs"  # port 9 (discard): nothing listens there

    code, lines = await run_to_exit(tmp_path, {**VALID, "DATABASE_URL": url})

    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("Configuration error: DATABASE_URL: cannot open the database (PostgreSQL 127.0.0.1:9/")
    assert PASSWORD not in lines[0]
