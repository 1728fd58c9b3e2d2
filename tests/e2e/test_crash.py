"""Crash tests: `python -m bot` killed at each stage of its jobs, restarted on the same database.

The bot runs as its own process, configured by environment only, against a fake Discord (every request checked
against Discord's OpenAPI description) and a fake Scenario on a real clock, both in the test process. The test
watches the job states in the bot's SQLite file and kills the process (SIGKILL: no cleanup, no last write) at
the moment a job is in the wanted state; the fakes make that state last long enough to be caught:

- `submitting`: Scenario holds the `POST /generate` (a `delay` fault); the job is created after the bot died;
- `running`: Scenario jobs that take a few seconds;
- `delivering`: Discord holds the upload of the result (`fd.slow`) and applies it after the bot died, or
  after the restarted bot already posted it again.

Four jobs from three people under MAX_PARALLEL_JOBS=2, so some are always queued at the kill. After the
restart every job must end delivered exactly once, with exactly one job created at Scenario (one charge) and
its images in exactly one Discord message. A last test stops the bot with SIGTERM instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.jobs.texts import RESTART_NOTE
from fakes.discord import FakeDiscord, FakeInteraction, RecordedRequest
from fakes.scenario import FakeScenario, Fault
from tests.e2e._process import BotProcess, job_states

TOKEN = "crash-test-bot-token"
KEY, SECRET = "crash-key", "crash-secret"
# Made 14.5 minutes ago: the bot never uses such a token for results (it keeps a 90 s margin).
NEARLY_EXPIRED = 15 * 60 - 30
JOB_SECONDS = 1.5
HELD_UNTIL_RELEASED = 120.0  # the fakes hold the request the bot is killed in until the test lets it go
WAIT = 45.0  # generous: a loaded 2-core CI machine must not turn a slow run into a failure
WATCH_INTERVAL = 0.05
GENERATE = r"^/v1/generate/"
WEBHOOK_MESSAGE = r"^/webhooks/\d+/[^/]+/messages/(@original|\d+)$"
CHANNEL_MESSAGES = r"^/channels/\d+/messages$"


class Gate:
    """The fake Scenario's `sleep` (used only by `delay` faults): held until the test opens the gate."""

    def __init__(self) -> None:
        self._open = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._open.wait(), seconds)

    def open(self) -> None:
        self._open.set()


@dataclass
class Crash:
    """The bot process and the fakes it talks to, with what the tests need to watch and judge them."""

    discord: FakeDiscord
    scenario: FakeScenario
    bot: BotProcess
    database: Path
    scenario_gate: Gate
    job_seconds: float = JOB_SECONDS
    interactions: list[FakeInteraction] = field(default_factory=list)

    # -- the process ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start `python -m bot` and wait until it is on the gateway (its engine has resumed by then)."""
        await self.bot.start()
        await self.until(lambda: self.discord.connected, "the bot connects to the gateway")

    async def kill(self) -> dict[str, str]:
        """SIGKILL; returns the job states at that instant."""
        states = job_states(self.database)
        await self.bot.kill()
        await self.until(lambda: not self.discord.connected, "the fake sees the connection drop", alive=False)
        return states

    async def until(self, predicate: Callable[[], Any], what: str, timeout: float = WAIT, alive: bool = True) -> Any:
        """Wait for a condition, failing early if the bot died (when `alive`), with its log in the message."""
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if alive and self.bot.process is not None and not self.bot.running:
                pytest.fail(f"the bot exited ({self.bot.process.returncode}) while waiting until {what}{self.story()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:g}s waiting until {what}{self.story()}")
            await asyncio.sleep(WATCH_INTERVAL)
        return value

    def story(self) -> str:
        """Everything that helps to debug a failure: job rows, recent requests, and the bot's log."""
        rows = "\n".join(f"  {r['id']} {r['state']} {r['prompt']!r} {r['last_error'] or ''}" for r in self.rows())
        recent = "\n".join(f"  {r.method} {r.path} -> {r.status}" for r in self.discord.requests[-15:])
        calls = "\n".join(f"  {c.body and c.body.get('prompt')!r} -> {c.status} {c.job_id}" for c in self.generates)
        return (
            f"\n--- jobs\n{rows}\n--- generate calls\n{calls}\n--- last Discord requests\n{recent}"
            f"\n--- bot log\n{self.bot.log()[-12000:]}"
        )

    # -- what happened --------------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """The bot's job rows, read-only, with the prompt pulled out of the inputs."""
        if not self.database.exists():
            return []
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)
        connection.row_factory = sqlite3.Row
        try:
            rows = [dict(row) for row in connection.execute("SELECT * FROM jobs ORDER BY created_at")]
        except sqlite3.OperationalError:
            return []
        finally:
            connection.close()
        for row in rows:
            row["prompt"] = json.loads(row["inputs"]).get("prompt")
            row["delivered_message_ids"] = json.loads(row["delivered_message_ids"])
        return rows

    def states(self) -> Counter[str]:
        return Counter(job_states(self.database).values())

    @property
    def generates(self) -> list:
        return self.scenario.generate_calls

    def created_jobs(self, prompt: str) -> list[str]:
        """Scenario jobs a `POST /generate` created for this prompt (answered or not): what was charged."""
        return [c.job_id for c in self.generates if c.status == 200 and c.job_id and c.body["prompt"] == prompt]

    def generates_in_flight(self) -> int:
        """`POST /generate` requests Scenario received but has not finished handling (held by a delay)."""
        received = sum(1 for method, path in self.scenario.request_log if method == "POST" and "/generate/" in path)
        return received - sum(1 for c in self.generates if c.status is not None)

    def job_id(self, interaction: FakeInteraction) -> str:
        return next(row["id"] for row in self.rows() if row["interaction_id"] == interaction.id)

    def accepted_uploads(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.discord.requests if r.method == method and r.files and r.status == 200]

    def restart_notes(self, interaction: FakeInteraction) -> list[RecordedRequest]:
        return [
            r
            for r in self.discord.requests
            if r.method == "PATCH"
            and interaction.token in r.path
            and RESTART_NOTE in ((r.json or {}).get("content") or "")
        ]

    def assert_restart_notices(self, states_at_stop: dict[str, str]) -> None:
        """Whoever waited on a job queued, submitting or running when the bot went down was told it restarted.

        A job caught delivering is not: its result may already be posted, and must not be written over.
        """
        for interaction in self.interactions:
            if states_at_stop[self.job_id(interaction)] in ("queued", "submitting", "running"):
                assert self.restart_notes(interaction), f"no restart notice for {interaction.id}{self.story()}"

    # -- users ----------------------------------------------------------------------------------------
    async def send_jobs(self, label: str, **options: Any) -> list[FakeInteraction]:
        """Four /imagine from three people, each with its own prompt; returns when the bot has stored all."""
        people = [self.discord.user(None, name) for name in ("alice", "bob", "carol")]
        plan = [people[0], people[1], people[2], people[0]]
        sent = []
        for n, person in enumerate(plan, start=1):
            prompt = f"{label} job {n} for {person.name}"
            sent.append(
                await self.discord.send_command(
                    "imagine", {"prompt": prompt, "size": "square"}, user_id=person.id, **options
                )
            )
        self.interactions += sent
        await self.until(lambda: len(job_states(self.database)) == len(self.interactions), "every job is stored")
        return sent

    # -- the verdict ----------------------------------------------------------------------------------
    async def assert_each_delivered_once(self) -> None:
        """Every job delivered once, charged once, its images in exactly one Discord message."""
        count = len(self.interactions)
        await self.until(lambda: self.states() == Counter({"delivered": count}), f"all {count} jobs are delivered")
        rows = {row["interaction_id"]: row for row in self.rows()}
        assert len(rows) == count, self.story()
        assert len(self.scenario.jobs) == count, f"Scenario ran {len(self.scenario.jobs)} jobs{self.story()}"
        live = [m for m in self.discord.messages.values() if not m.deleted]

        for interaction in self.interactions:
            row = rows[interaction.id]
            # One successful POST /generate per job: a created job is a charge, whether or not its answer
            # reached the bot.
            created = self.created_jobs(row["prompt"])
            assert created == [row["scenario_job_id"]], f"{row['prompt']!r}: created {created}{self.story()}"
            images = [self.scenario.assets[a].data for a in self.scenario.jobs[created[0]].asset_ids]

            # "Reached Discord twice" means the requester could see the image twice: in two live messages, or
            # twice in one. Uploads are judged by where they landed, not by how many there were: after a
            # crash the bot may re-send the same files as an edit of the interaction's own message, which
            # replaces that message's attachments (idempotent), and a re-sent channel message carries the
            # same nonce with enforce_nonce, so Discord answers with the first message instead of creating
            # another. Every accepted request carrying the images must therefore have landed on one message.
            holders = [m for m in live if any(a.data in images for a in m.attachments)]
            assert len(holders) == 1, f"{row['prompt']!r} is in {len(holders)} messages{self.story()}"
            [message] = holders
            assert sorted(a.data for a in message.attachments) == sorted(images), self.story()
            assert row["delivered_message_ids"] == [message.id], self.story()
            uploads = [r for r in self.discord.requests if r.status < 300 and any(d in images for _, _, d in r.files)]
            targets = {(r.response or {}).get("id") for r in uploads}
            assert targets == {str(message.id)}, f"uploads of {row['prompt']!r} landed on {targets}{self.story()}"
            if row["delivered_via"] == "interaction":
                assert message is interaction.original, self.story()
                assert message.content == "", f"stale text over the result: {message.content!r}{self.story()}"

        failures = [m.content for m in live if "❌" in m.content]
        assert not failures, f"failure notices: {failures}{self.story()}"
        for problem in ("Traceback", "Task exception was never retrieved", "stopped on an unexpected error"):
            assert problem not in self.bot.log(), self.story()
        self.discord.assert_no_violations()


@pytest.fixture
async def crash(tmp_path: Path) -> AsyncIterator[Crash]:
    discord = FakeDiscord(validate=True, token=TOKEN)
    # Acknowledging takes the bot milliseconds; the default 3 s deadline is Discord's, but a loaded CI
    # machine starting a process must not fail a test about durability on it.
    discord.ack_deadline = 15.0
    await discord.start()
    holder: dict[str, Crash] = {}
    gate = Gate()
    scenario = FakeScenario(
        api_key=KEY, api_secret=SECRET, job_duration=lambda: holder["crash"].job_seconds, sleep=gate.sleep
    )
    scenario_url = await scenario.start()
    database = tmp_path / "bot.db"
    env = {
        "DISCORD_TOKEN": TOKEN,
        "SCENARIO_SDK_API_KEY": KEY,
        "SCENARIO_SDK_API_SECRET": SECRET,
        "SCENARIO_BASE_URL": scenario_url,
        "DISCORD_API_BASE_URL": discord.api_base,
        "DATABASE_URL": f"sqlite:///{database}",  # an absolute path: sqlite:////tmp/...
        "MAX_PARALLEL_JOBS": "2",
        # A job killed in `submitting` is looked for again 1.25 x this after the restart before it is resent
        # (75 s by default): short here, as on a fast local network, to keep the suite quick.
        "SCENARIO_TIMEOUT_SECONDS": "5",
        "LOG_LEVEL": "INFO",
    }
    crash = holder["crash"] = Crash(discord, scenario, BotProcess(env, tmp_path), database, gate)
    try:
        yield crash
    finally:
        if crash.bot.running:
            with contextlib.suppress(AssertionError):  # stop() killed it; the test's own failure says more
                await crash.bot.stop(signal.SIGTERM)
        gate.open()
        await discord.stop()
        await scenario.stop()


# -- SIGKILL at each stage ------------------------------------------------------------------------------


async def test_killed_while_submitting(crash: Crash) -> None:
    """The paid POST was sent, Scenario made the job, the answer died with the bot: found, not sent again."""
    crash.scenario.inject(Fault("POST", GENERATE, kind="delay", delay=HELD_UNTIL_RELEASED))
    await crash.start()
    await crash.send_jobs("submitting")

    await crash.until(
        lambda: crash.states()["submitting"] and crash.generates_in_flight(), "a generate request is held"
    )
    states = await crash.kill()
    assert {"submitting", "queued"} <= set(states.values()), crash.story()
    assert crash.generates_in_flight() == 1
    crash.scenario_gate.open()
    await crash.until(lambda: not crash.generates_in_flight(), "Scenario makes the job after the bot died", alive=False)

    await crash.start()
    await crash.assert_each_delivered_once()
    assert "recovered Scenario job" in crash.bot.log(), crash.story()
    crash.assert_restart_notices(states)


async def test_killed_while_running(crash: Crash) -> None:
    """Scenario jobs keep running while the bot is down; the next start polls them instead of sending again."""
    crash.job_seconds = 3.0
    await crash.start()
    await crash.send_jobs("running")

    def running_at_scenario() -> bool:
        rows = [r for r in crash.rows() if r["state"] == "running" and r["scenario_job_id"]]
        now = time.monotonic()  # the fake Scenario's clock
        return any(crash.scenario.jobs[r["scenario_job_id"]].end_at > now + 0.5 for r in rows)

    await crash.until(running_at_scenario, "a job is running at Scenario")
    states = await crash.kill()
    assert {"running", "queued"} <= set(states.values()), crash.story()
    crash.job_seconds = JOB_SECONDS

    await crash.start()
    await crash.assert_each_delivered_once()
    assert "Resuming 4 unfinished job(s)" in crash.bot.log(), crash.story()
    crash.assert_restart_notices(states)


@pytest.mark.parametrize("upload_lands", ["before the restart", "after the restart"])
async def test_killed_while_delivering(crash: Crash, upload_lands: str) -> None:
    """The result upload reached Discord and the bot died before recording it: never posted twice."""
    upload = crash.discord.slow("PATCH", WEBHOOK_MESSAGE, HELD_UNTIL_RELEASED, uploads_only=True)
    await crash.start()
    await crash.send_jobs("delivering")

    await crash.until(lambda: crash.states()["delivering"] and upload.in_flight, "a result upload is held")
    states = await crash.kill()
    # A delivering job no longer holds a Scenario slot, so the others may all have started by now.
    assert "delivering" in states.values(), crash.story()
    jobs = len(crash.interactions)
    if upload_lands == "before the restart":
        upload.release()
        await crash.until(lambda: upload.finished, "Discord applies the upload after the bot died", alive=False)
        await crash.start()
        await crash.assert_each_delivered_once()
        assert "already delivered before the restart" in crash.bot.log(), crash.story()
        assert len(crash.accepted_uploads("PATCH")) == jobs, "the restarted bot should not upload again"
    else:
        await crash.start()
        await crash.assert_each_delivered_once()  # the restarted bot posted it again, as the same edit
        upload.release()
        await crash.until(lambda: upload.finished, "the dead bot's upload lands")
        await crash.assert_each_delivered_once()  # and the late one changed nothing
        assert len(crash.accepted_uploads("PATCH")) == jobs + 1, crash.story()
    crash.assert_restart_notices(states)


async def test_killed_while_posting_in_the_channel_after_the_token_expired(crash: Crash) -> None:
    """A channel message carries a nonce with enforce_nonce: the re-post after a crash is the same message."""
    upload = crash.discord.slow("POST", CHANNEL_MESSAGES, HELD_UNTIL_RELEASED, uploads_only=True)
    await crash.start()
    await crash.send_jobs("channel", age_seconds=NEARLY_EXPIRED)

    await crash.until(lambda: crash.states()["delivering"] and upload.in_flight, "a channel upload is held")
    states = await crash.kill()
    # A delivering job no longer holds a Scenario slot, so the others may all have started by now.
    assert "delivering" in states.values(), crash.story()
    upload.release()
    await crash.until(lambda: upload.finished, "Discord posts the message after the bot died", alive=False)

    await crash.start()
    await crash.assert_each_delivered_once()
    for row in crash.rows():
        assert row["delivered_via"] == "channel", crash.story()
    # One result was posted twice with the same nonce; Discord answered the second with the first message.
    assert len(crash.accepted_uploads("POST")) == len(crash.interactions) + 1, crash.story()


# -- SIGTERM --------------------------------------------------------------------------------------------


async def test_sigterm_leaves_running_jobs_to_the_next_start(crash: Crash) -> None:
    """A graceful stop neither fails nor resends running jobs; the next start resumes them and says so."""
    crash.job_seconds = 3.0
    await crash.start()
    await crash.send_jobs("graceful")
    await crash.until(lambda: crash.states()["running"] == 2, "two jobs run at Scenario")
    unfinished = [job for job in crash.scenario.jobs.values() if job.end_at > time.monotonic()]
    assert len(unfinished) == 2, "the Scenario jobs ended before the stop: nothing would be tested"

    assert await crash.bot.stop(signal.SIGTERM) == 0, crash.story()
    states = job_states(crash.database)
    assert Counter(states.values()) == Counter({"running": 2, "queued": 2}), crash.story()
    assert "Received SIGTERM" in crash.bot.log() and "will resume at the next start" in crash.bot.log(), crash.story()
    crash.job_seconds = JOB_SECONDS

    await crash.until(lambda: not crash.discord.connected, "the fake sees the bot leave", alive=False)
    await crash.start()
    await crash.assert_each_delivered_once()
    assert "Resuming 4 unfinished job(s)" in crash.bot.log(), crash.story()
    crash.assert_restart_notices(states)
