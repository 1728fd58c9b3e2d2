"""Starting and stopping `python -m bot` as an operator does: configuration errors, and a quick stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DISCORD_TOKEN": None}, "DISCORD_TOKEN is required but not set"),
        ({"SCENARIO_SDK_API_SECRET": None}, "SCENARIO_SDK_API_SECRET is required but not set"),
        ({"SCENARIO_BASE_URL": "ftp://example.com"}, "SCENARIO_BASE_URL is invalid"),
        ({"MAX_PARALLEL_JOBS": "lots"}, "MAX_PARALLEL_JOBS is invalid"),
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
