"""Fixtures for every test folder.

`postgres_url`: a fresh PostgreSQL database for one test, on the server `TEST_DATABASE_URL` names (default
`postgresql://postgres@127.0.0.1:5432/test`, trust auth). Each test gets a database `test_<random>` of its
own, created from that server's template and dropped after the test, so tests never see each other's rows,
can run again and again, and can run beside other runs on the same server. When the server does not answer,
the tests that need it are skipped with a reason, except under CI (`CI` set), where that is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.jobs.postgres import server_name

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
_unanswered: list[str] = []
"""Why the server did not answer, once it has not: later tests skip (or fail) at once instead of waiting again."""


def in_ci() -> bool:
    """Whether this run is CI's (`CI=true`, as CI services set it), where nothing may be silently skipped."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def database_url(name: str) -> str:
    """TEST_DATABASE_URL with another database name."""
    return urlsplit(TEST_DATABASE_URL)._replace(path=f"/{name}").geturl()


async def _admin() -> asyncpg.Connection:
    """A connection to TEST_DATABASE_URL's own database; skips or fails the test if there is none."""
    if not _unanswered:
        try:
            return await asyncpg.connect(TEST_DATABASE_URL, timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _unanswered.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    where = server_name(TEST_DATABASE_URL)
    if in_ci():
        pytest.fail(
            f"PostgreSQL at {where} does not answer ({_unanswered[0]}), and CI must run the PostgreSQL tests: "
            ".ci/run starts one there before the tests",
            pytrace=False,
        )
    pytest.skip(
        f"PostgreSQL at {where} does not answer ({_unanswered[0]}). To run the PostgreSQL tests, start one there "
        "with trust auth and a database `test` (bash .ci/run does), or set TEST_DATABASE_URL"
    )


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database of this test's own, dropped after it."""
    name = f"test_{secrets.token_hex(6)}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield database_url(name)
    finally:
        admin = await asyncpg.connect(TEST_DATABASE_URL, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
