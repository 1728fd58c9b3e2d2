"""`LOG_FORMAT=json` as an operator runs it: `python -m bot` at DEBUG, one /imagine, the whole log read back."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

from tests.e2e.conftest import _start, _stop, job_id_of

HARNESS_LINE = re.compile(r"^===== start #\d+ =====$")
"""What `BotProcess` itself writes into the log file before each start."""


async def test_json_logs_are_one_object_per_line_with_the_job_bound_and_no_secret(tmp_path: Path) -> None:
    e2e = await _start(tmp_path, {"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}, None, {})
    try:
        interaction = await e2e.imagine("a lighthouse at dusk")
        job_id = job_id_of(await e2e.result_of(interaction))
    finally:
        await _stop(e2e)  # SIGTERM, exit 0, and the fixtures' secret check: no token, key, secret or interaction token
    [generate] = e2e.paid_generates()

    lines = [line for line in e2e.bot.log().splitlines() if line and not HARNESS_LINE.match(line)]
    entries = []
    for number, line in enumerate(lines, 1):
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"line {number} of the bot's log is not JSON: {line!r}") from None
    assert all({"timestamp", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert all(datetime.fromisoformat(entry["timestamp"]).utcoffset() == timedelta(0) for entry in entries)
    assert any(entry["level"] == "DEBUG" for entry in entries)

    mine = [entry for entry in entries if entry.get("job_id") == job_id]
    assert mine, "no line carries the job's id"
    assert {entry["guild_id"] for entry in mine} == {str(interaction.guild_id)}
    assert {entry["shard_id"] for entry in mine} == {0}
    assert any(entry.get("scenario_job_id") == generate.job_id for entry in mine)
    # Lines of the bot's start and stop belong to no job.
    assert not any("job_id" in entry for entry in entries if entry["message"].startswith(("Synced", "Stopped")))
    e2e.assert_clean_log()
