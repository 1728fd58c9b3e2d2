"""Starting and stopping `python -m bot` as an operator does: configuration errors, and a quick stop."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.bot.test_settings import MALFORMED
from tests.e2e._process import BotProcess
from tests.e2e.conftest import E2E

VALID = {
    "DISCORD_TOKEN": "operator-token-do-not-print",
    "SCENARIO_SDK_API_KEY": "operator-key-do-not-print",
    "SCENARIO_SDK_API_SECRET": "operator-secret-do-not-print",
    "DATABASE_URL": "sqlite:///bot.db",
    "DISCORD_API_BASE_URL": "http://127.0.0.1:9/api/v10",  # never the real Discord, whatever happens
}


async def exits_at_once(tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    """Start the bot and wait (up to 30 s) for it to exit on its own; its exit code and output."""
    process = BotProcess(env, tmp_path)
    await process.start()
    assert process.process is not None
    try:
        code = await asyncio.wait_for(process.process.wait(), 30.0)
    finally:
        if process.running:
            await process.stop()
    return code, process.log()


async def run_to_exit(tmp_path: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    """`python -m bot` configured by `env` alone (no other setting, no `.env`); its exit code and stderr lines."""
    names = {name.upper() for name in Settings.model_fields}
    environment = {key: value for key, value in os.environ.items() if key not in names}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env={**environment, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 30.0)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError("python -m bot did not stop on its own within 30 s") from None
    assert process.returncode is not None
    return process.returncode, stderr.decode(errors="replace").strip().splitlines()


@pytest.mark.parametrize(("name", "value"), sorted(MALFORMED.items()))
async def test_every_malformed_setting_stops_the_bot_with_one_line(tmp_path: Path, name: str, value: str) -> None:
    code, lines = await run_to_exit(tmp_path, {**VALID, name: value})
    assert code == 2
    assert len(lines) == 1, lines  # no traceback, no log
    assert lines[0].startswith(f"Configuration error: {name} ")
    assert not value or value.lower() not in lines[0].lower()


@pytest.mark.parametrize("kind", ["a directory", "under a file"])
async def test_a_database_file_that_cannot_be_opened_is_one_line(tmp_path: Path, kind: str) -> None:
    if kind == "a directory":
        (tmp_path / "private-e7b2.db").mkdir()
        url = "sqlite:///private-e7b2.db"
    else:
        (tmp_path / "private-e7b2").write_text("not a directory")
        url = "sqlite:///private-e7b2/bot.db"
    code, lines = await run_to_exit(tmp_path, {**VALID, "DATABASE_URL": url})
    assert code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("Configuration error: DATABASE_URL: cannot open the database")
    assert "private-e7b2" not in lines[0]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DISCORD_TOKEN": None}, "DISCORD_TOKEN is required but not set"),
        ({"SCENARIO_SDK_API_SECRET": None}, "SCENARIO_SDK_API_SECRET is required but not set"),
        # A PostgreSQL that does not answer (the host "db" does not resolve): one line, exit 2.
        ({"DATABASE_URL": "postgres://db/bot"}, "DATABASE_URL"),
    ],
)
async def test_a_bad_setting_stops_the_bot_with_one_line_naming_it(
    tmp_path: Path, change: dict[str, str | None], named: str
) -> None:
    env = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    code, log = await exits_at_once(tmp_path, env)
    assert code == 2
    assert named in log and "Configuration error" in log
    assert "Traceback" not in log
    assert not any(secret in log for secret in VALID.values() if "do-not-print" in secret)


async def test_a_stop_right_after_start_is_clean(e2e: E2E) -> None:
    """SIGTERM before discord.py's "ready" (2 s after the last server arrives): exit 0, a clean log.

    The fixture's teardown stops and checks. (discord.py's pending "ready" used to fail after close with
    "Task exception was never retrieved" when the stop landed in that window; `ScenarioBot.close` cancels it.)
    """
    assert e2e.bot.running
