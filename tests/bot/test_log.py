"""Logging: JSON lines carrying the job's fields where a job is worked on, readable text, and no secret in either."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot import logcontext
from bot.jobs.models import JobRecord
from bot.log import LogFormat, setup_logging
from bot.scenario import ScenarioClient
from bot.settings import load_settings
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario
from tests.bot.jobs.conftest import Harness, RecordingDelivery, new_job
from tests.bot.test_settings import REQUIRED

GUILD = 1_234_567_890_123_456_789  # above 2**53: a JSON number would lose its last digits in many tools
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) +[\w.]+: ")

Capture = Callable[..., io.StringIO]


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Capture]:
    """`capture(level, fmt, secrets=...)`: run `setup_logging` into a string; logging is put back afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.excepthook, logcontext._shard_count)
    quiet = {name: logging.getLogger(name).level for name in ("discord.http", "discord.webhook")}

    def start(level: str = "DEBUG", fmt: LogFormat = "json", secrets: tuple[str, ...] = ()) -> io.StringIO:
        stream = io.StringIO()
        monkeypatch.setattr(sys, "stderr", stream)
        setup_logging(level, fmt, secrets=secrets)
        return stream

    yield start
    root.handlers[:], _, sys.excepthook, logcontext._shard_count = saved
    root.setLevel(saved[1])
    logging.captureWarnings(False)
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def entries(stream: io.StringIO) -> list[dict[str, object]]:
    """Every line parsed as JSON (a line that is not JSON fails the test)."""
    lines = stream.getvalue().splitlines()
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]


def by_message(stream: io.StringIO) -> dict[str, dict[str, object]]:
    return {str(entry["message"]): entry for entry in entries(stream)}


# -- JSON ------------------------------------------------------------------------------------------------------


async def test_json_lines_carry_the_fields_of_the_job_they_were_logged_for(capture: Capture) -> None:
    stream = capture("DEBUG", "json")
    log = logging.getLogger("bot.jobs.test")

    async def spawned() -> None:
        log.info("from a task the job spawned")

    async def job(job_id: str, guild_id: int | None, gate: asyncio.Event) -> None:
        logcontext.bind_job(job_id, guild_id)
        log.info("started %s", job_id)
        await gate.wait()  # both jobs are bound at once: neither sees the other's fields
        logcontext.bind(scenario_job_id=f"job_{job_id}")
        if job_id == "aaaaaaaaaaaa":
            await asyncio.create_task(spawned())
        log.warning("running %s", job_id)

    log.info("before any job")
    gate = asyncio.Event()
    tasks = [
        asyncio.create_task(job("aaaaaaaaaaaa", GUILD, gate)),
        asyncio.create_task(job("bbbbbbbbbbbb", None, gate)),
    ]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    log.info("after the jobs")

    lines = by_message(stream)
    assert set(lines["before any job"]) == {"timestamp", "level", "logger", "message"}
    assert set(lines["after the jobs"]) == {"timestamp", "level", "logger", "message"}
    started = lines["started aaaaaaaaaaaa"]
    assert started == {
        "timestamp": started["timestamp"],
        "level": "INFO",
        "logger": "bot.jobs.test",
        "message": "started aaaaaaaaaaaa",
        "job_id": "aaaaaaaaaaaa",
        "guild_id": str(GUILD),
        "shard_id": 0,
    }
    assert lines["running aaaaaaaaaaaa"]["scenario_job_id"] == "job_aaaaaaaaaaaa"
    assert lines["running aaaaaaaaaaaa"]["level"] == "WARNING"
    assert lines["from a task the job spawned"]["job_id"] == "aaaaaaaaaaaa"
    assert lines["from a task the job spawned"]["scenario_job_id"] == "job_aaaaaaaaaaaa"
    # A DM job: no guild, shard 0 (where Discord sends DMs).
    assert lines["started bbbbbbbbbbbb"]["job_id"] == "bbbbbbbbbbbb"
    assert "guild_id" not in lines["started bbbbbbbbbbbb"]
    assert lines["started bbbbbbbbbbbb"]["shard_id"] == 0
    assert lines["running bbbbbbbbbbbb"]["scenario_job_id"] == "job_bbbbbbbbbbbb"


def test_json_timestamp_is_iso_8601_utc_and_exceptions_are_kept(capture: Capture) -> None:
    stream = capture("INFO", "json")
    before = datetime.now(UTC)
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        logging.getLogger("bot").exception("It broke:\nsecond line")
    logging.getLogger("bot").debug("below the level")

    [entry] = entries(stream)
    stamp = datetime.fromisoformat(str(entry["timestamp"]))
    assert stamp.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= stamp <= datetime.now(UTC)
    assert (entry["level"], entry["logger"], entry["message"]) == ("ERROR", "bot", "It broke:\nsecond line")
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].endswith("ValueError: bad\nthing")


def test_json_keeps_a_line_whose_arguments_do_not_fit(capture: Capture) -> None:
    stream = capture("INFO", "json")
    logging.getLogger("bot").info("two %s %s", "but one")
    [entry] = entries(stream)
    assert entry["message"].startswith("two %s %s")


def test_the_shard_follows_the_guild_and_the_shard_count(capture: Capture) -> None:
    stream = capture("INFO", "json")
    logcontext.set_shard_count(4)
    with logcontext.job_context("cccccccccccc", GUILD, "job_c"):
        logging.getLogger("bot").info("sharded")
    with logcontext.job_context("dddddddddddd"):
        logging.getLogger("bot").info("a DM")
    lines = by_message(stream)
    assert lines["sharded"]["shard_id"] == (GUILD >> 22) % 4 != 0
    assert lines["sharded"]["scenario_job_id"] == "job_c"
    assert lines["a DM"]["shard_id"] == 0


def test_a_job_context_ends_with_its_block(capture: Capture) -> None:
    stream = capture("INFO", "json")
    with logcontext.job_context("eeeeeeeeeeee", 7):
        logging.getLogger("bot").info("inside")
    logging.getLogger("bot").info("outside")
    lines = by_message(stream)
    assert lines["inside"]["job_id"] == "eeeeeeeeeeee"
    assert "job_id" not in lines["outside"]


class LoggingDelivery(RecordingDelivery):
    """Logs each progress text, as Discord's delivery does when an edit fails."""

    async def show_progress(self, job: JobRecord, text: str) -> None:
        logging.getLogger("bot.posting.test").info("Progress of job %s: %s", job.id, text.splitlines()[0])
        await super().show_progress(job, text)


async def test_the_engine_binds_each_job_and_its_scenario_job(capture: Capture, tmp_path) -> None:
    """Jobs through the real engine (fake Scenario), one at a time: each line names its own job, then its Scenario
    job, and never another's (the next job, and the queue's position updates, start from a finished job's task)."""
    from bot.jobs.sqlite import SQLiteJobStore

    stream = capture("DEBUG", "json")
    clock = FakeClock()
    fake = FakeScenario(api_key="key", api_secret="secret", clock=clock, job_duration=6.0, sleep=clock.sleep)
    store = SQLiteJobStore(tmp_path / "jobs.db")
    await store.open()
    try:
        async with aiohttp.ClientSession() as session:
            client = ScenarioClient(session, "key", "secret", await fake.start(), clock=clock, sleep=clock.sleep)
            harness = Harness(clock, fake, client, store, LoggingDelivery(), [])
            engine = harness.engine(max_parallel=1, progress_interval=0.0)
            await engine.start()
            jobs = [new_job(user_id=user, prompt=f"prompt {user}") for user in (1, 2, 3)]
            for job in jobs:
                await engine.submit(job)
            await harness.settle()
            await engine.shutdown()
            records = {job.id: await store.get(job.id) for job in jobs}
    finally:
        await store.close()
        await fake.stop()

    lines = entries(stream)
    for job_id, record in records.items():
        assert record is not None and record.scenario_job_id
        mine = [entry for entry in lines if entry.get("job_id") == job_id]
        assert mine, f"no line for job {job_id}"
        assert all(entry["guild_id"] == "20" and entry["shard_id"] == 0 for entry in mine)
        assert all(entry.get("scenario_job_id") in (None, record.scenario_job_id) for entry in mine)
        polls = [entry for entry in mine if str(entry["message"]).startswith(f"Job {record.scenario_job_id} is ")]
        assert polls and all(entry["scenario_job_id"] == record.scenario_job_id for entry in polls)
        # A line naming a job in its text carries that job's fields, or none (a position update from the queue).
        named = [entry for entry in lines if job_id in str(entry["message"])]
        assert all(entry.get("job_id") in (job_id, None) for entry in named), named
        assert any(entry.get("job_id") == job_id for entry in named)
    assert "job_id" not in next(e for e in lines if str(e["message"]).startswith("Job engine stopped"))


# -- redaction ---------------------------------------------------------------------------------------------------

LEAKS = [
    (
        "POST https://discord.com/api/v10/interactions/1234567/aW50ZXJhY3Rpb246dG9rZW4/callback",
        "aW50ZXJhY3Rpb246dG9rZW4",
    ),
    ("PATCH /api/v10/webhooks/99887766/aW50ZXJhY3Rpb246dG9rZW4/messages/@original", "aW50ZXJhY3Rpb246dG9rZW4"),
    ("GET https://discord.com/api/webhooks/99887766/tok.en_value-X?wait=true", "tok.en_value-X"),
    ("headers: Authorization: Basic a2V5OnNlY3JldA==", "a2V5OnNlY3JldA=="),
    ("{'Authorization': 'Basic a2V5OnNlY3JldA==', 'Accept': 'application/json'}", "a2V5OnNlY3JldA=="),
    ('{"authorization": "Bot MTIz.NDU2.Nzg5"}', "MTIz.NDU2.Nzg5"),
    ("connecting to postgresql://bot:hunter2@db.example:5432/bot", "hunter2"),
    ("dsn=postgres://bot:p@ss:w0rd@db/bot sslmode=require", "p@ss:w0rd"),
    ("using postgresql+asyncpg://bot:hunter2@db/bot", "hunter2"),
]


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize(("message", "secret"), LEAKS)
def test_tokens_credentials_and_passwords_are_masked(
    capture: Capture, fmt: LogFormat, message: str, secret: str
) -> None:
    stream = capture("INFO", fmt)
    logging.getLogger("bot").info("%s", message)
    try:
        raise RuntimeError(message)
    except RuntimeError:
        logging.getLogger("bot").exception("failed")
    text = stream.getvalue()
    assert secret not in text
    if fmt == "json":
        logged, failed = entries(stream)
        assert "***" in str(logged["message"]) and "***" in str(failed["exception"])
    else:
        assert text.count("***") == 2, text


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_what_is_not_a_secret_is_left_alone(capture: Capture, fmt: LogFormat) -> None:
    stream = capture("INFO", fmt, secrets=("short", "the-bot-token-value"))
    plain = [
        "GET /webhooks/123 has no token",
        "postgresql://bot@db.example:5432/bot has no password",
        "a short word and an Authorization header without credentials",
    ]
    for message in plain:
        logging.getLogger("bot").info(message)
    logging.getLogger("bot").info("token the-bot-token-value")
    text = stream.getvalue()
    for message in plain:
        assert message in text.replace('\\"', '"')
    assert "the-bot-token-value" not in text and "token ***" in text


def test_chatty_loggers_stay_quiet_in_both_formats(capture: Capture) -> None:
    for fmt in ("json", "text"):
        stream = capture("DEBUG", fmt)
        logging.getLogger("discord.http").debug("PATCH /webhooks/1/secret-token/messages/@original")
        logging.getLogger("discord.webhook").debug("webhook token debug")
        logging.getLogger("bot").debug("kept")
        assert stream.getvalue().count("\n") == 1 and "kept" in stream.getvalue()


# -- text --------------------------------------------------------------------------------------------------------


def test_text_stays_readable_with_the_fields_at_the_end(capture: Capture) -> None:
    stream = capture("INFO", "text")
    logging.getLogger("bot").info("no job here")
    with logcontext.job_context("ffffffffffff", GUILD, "job_f"):
        logging.getLogger("bot.jobs").warning("Job %s is slow", "ffffffffffff")
        try:
            raise KeyError("boom")
        except KeyError:
            logging.getLogger("bot.jobs").exception("Job failed")
    lines = stream.getvalue().splitlines()
    assert TEXT_LINE.match(lines[0]) and lines[0].endswith(" INFO    bot: no job here")
    assert TEXT_LINE.match(lines[1])
    assert lines[1].endswith(
        f"WARNING bot.jobs: Job ffffffffffff is slow [job=ffffffffffff guild={GUILD} shard=0 scenario_job=job_f]"
    )
    assert lines[2].endswith(
        f"ERROR   bot.jobs: Job failed [job=ffffffffffff guild={GUILD} shard=0 scenario_job=job_f]"
    )
    assert lines[3] == "Traceback (most recent call last):" and lines[-1] == "KeyError: 'boom'"


# -- the setting -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "fmt"), [(None, "text"), ("JSON", "json"), (" Text ", "text"), ("", "text")])
def test_log_format_setting(monkeypatch: pytest.MonkeyPatch, tmp_path, value: str | None, fmt: str) -> None:
    monkeypatch.chdir(tmp_path)
    for name, secret in REQUIRED.items():
        monkeypatch.setenv(name, secret)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    if value is not None:
        monkeypatch.setenv("LOG_FORMAT", value)
    assert load_settings().log_format == fmt
