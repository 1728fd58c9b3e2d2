"""The bot as a user runs it: `python -m bot` in its own process, configured only by its environment.

`DISCORD_API_BASE_URL` points at a FakeDiscord (REST, gateway and attachment CDN on one loopback port, every
request validated against Discord's OpenAPI spec) and `SCENARIO_BASE_URL` at a FakeScenario on the real
clock, with jobs of about a second. Tests act as users (slash commands, clicks) through the fake gateway and
look at what reached Discord and Scenario.

When a bot stops, the fixtures check what must hold after every test: it stops on SIGTERM with exit code 0,
it sent Discord nothing the spec rejects, and its log holds no secret (bot token, Scenario key and secret,
the Basic credentials built from them, interaction tokens) and no silently dropped task exception.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from fakes.discord import FakeDiscord, FakeInteraction, FakeMessage, RecordedRequest
from fakes.scenario import FakeScenario, GenerateCall
from fakes.scenario import Fault as ScenarioFault
from tests.e2e._process import BotProcess, job_states
from tests.images import png_bytes  # noqa: F401 - re-exported for the tests of this folder

JOB_SECONDS = 1.0
QUICK_JOB_SECONDS = 0.3
WAIT = 30.0
"""Seconds any single wait may take: generous, for a loaded 2-core CI machine (waits end as soon as met)."""
TERMINAL = {"delivered", "failed", "canceled"}
JOB_ID = re.compile(r"Job `?([0-9a-f]{12})")
SILENT_FAILURE = "Task exception was never retrieved"
# Where a result is posted: the interaction's own message (a webhook edit), or a channel message.
WEBHOOK_MESSAGE = r"^/webhooks/\d+/[^/]+/messages/"
CHANNEL_MESSAGES = r"^/channels/\d+/messages$"


@dataclass
class E2E:
    """The fakes, the bot process and its working directory, plus what tests ask of them."""

    discord: FakeDiscord
    scenario: FakeScenario
    bot: BotProcess
    workdir: Path
    secrets: dict[str, str] = field(default_factory=dict)
    """What must never appear in the bot's log, by name."""

    # -- the process ----------------------------------------------------------------------------------
    async def start_bot(self) -> None:
        """Start `python -m bot` and wait until it has synced its commands and connected to the gateway."""
        await self.bot.start()
        await self.wait_for(lambda: self.discord.connected or not self.bot.running)
        assert self.bot.running, f"the bot exited during start-up:\n{self.bot.log()[-3000:]}"
        assert self.discord.registered_commands(), "the bot connected without syncing its commands"

    async def stop_bot(self) -> None:
        """SIGTERM, as `docker stop` sends it; the bot must exit 0 with a clean log."""
        assert self.bot.running, f"the bot died during the test:\n{self.bot.log()[-3000:]}"
        code = await self.bot.stop()
        assert code == 0, f"the bot exited with {code} after SIGTERM:\n{self.bot.log()[-3000:]}"
        self.assert_clean_log()

    def assert_clean_log(self) -> None:
        """No secret and no swallowed task exception in everything the bot has logged so far."""
        log = self.bot.log()
        forbidden = [*self.secrets.items()]
        forbidden += [(f"the token of interaction {ix.id}", ix.token) for ix in self.discord.interactions.values()]
        leaked = [name for name, value in forbidden if value in log]
        assert not leaked, f"secrets in the bot's log: {leaked}"
        assert SILENT_FAILURE not in log, log[log.index(SILENT_FAILURE) - 200 :][:3000]

    # -- waiting --------------------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], Any], timeout: float = WAIT) -> Any:
        """Until `predicate()` is truthy (woken by every request the fake Discord answers, else polled)."""
        return await self.discord.wait_for(predicate, timeout)

    def states(self) -> dict[str, str]:
        """Job id → state, read from the bot's SQLite file."""
        return job_states(self.workdir / "bot.db")

    async def finished(self, job_id: str) -> str:
        """Wait until the job is in a terminal state and return it."""
        return await self.wait_for(lambda: (state := self.states().get(job_id)) in TERMINAL and state)

    async def result_of(self, interaction: FakeInteraction) -> FakeMessage:
        """Wait until the interaction's own message carries images and its job is recorded as delivered."""
        message = await self.wait_for(
            lambda: interaction.original is not None and interaction.original.attachments and interaction.original
        )
        job_id = job_id_of(message)
        assert await self.finished(job_id) == "delivered"
        return message

    # -- acting as users ------------------------------------------------------------------------------
    async def imagine(self, prompt: str = "a lighthouse at dusk", **options: Any) -> FakeInteraction:
        user_id = options.pop("user_id", None)
        extra = {"user_id": user_id} if user_id is not None else {}
        return await self.discord.send_command("imagine", {"prompt": prompt, **options}, **extra)

    async def assert_still_serving(self, user_id: int = 4242) -> FakeMessage:
        """One more /imagine, from someone else, comes back with its image (a quick job, to save time)."""
        paid = len(self.paid_generates())
        duration, self.scenario.job_duration = self.scenario.job_duration, QUICK_JOB_SECONDS
        try:
            interaction = await self.imagine("still serving?", user_id=user_id)
            message = await self.result_of(interaction)
        finally:
            self.scenario.job_duration = duration
        assert len(self.paid_generates()) == paid + 1
        return message

    # -- what reached Discord and Scenario ------------------------------------------------------------
    def result_posts(self) -> list[RecordedRequest]:
        """Requests that carried files and that Discord accepted: each is one posted result."""
        return [r for r in self.discord.requests if r.files and 200 <= r.status < 300]

    def paid_generates(self) -> list[GenerateCall]:
        """`POST /generate` calls that started (and charged for) a Scenario job."""
        return [call for call in self.scenario.generate_calls if call.status == 200]

    def scenario_requests(self, method: str, pattern: str) -> list[str]:
        """Paths of the requests Scenario received with this method, matching the regex."""
        return [path for m, path in self.scenario.request_log if m == method and re.search(pattern, path)]

    async def hold_download(self, seconds: float = 1.5) -> None:
        """Slow the next image download from Scenario's CDN, and wait until it has begun.

        While it is held the job is `delivering` and the bot has not posted anything yet: the moment to
        break Discord for the result upload alone.
        """
        before = len(self.scenario_requests("GET", r"^/cdn/"))
        self.scenario.inject(ScenarioFault("GET", r"^/cdn/", kind="delay", delay=seconds))
        await self.wait_for(lambda: len(self.scenario_requests("GET", r"^/cdn/")) > before)

    async def refuse_result_upload(self, method: str, path: str, status: int, **fault: Any) -> RecordedRequest:
        """Answer `status` to matching requests until one carrying the result's files was refused.

        Progress edits that share the route may be refused meanwhile (they are best effort). The fault is
        lifted as soon as the fake has answered the upload, long before the bot can retry it.
        """
        before = len(self.discord.requests)
        self.discord.inject(method, path, status, times=None, **fault)

        def refused_upload() -> RecordedRequest | None:
            return next((r for r in self.discord.requests[before:] if r.files and r.status == status), None)

        try:
            return await self.wait_for(refused_upload)
        finally:
            self.discord.clear_faults()


def job_id_of(message: FakeMessage) -> str:
    """The bot's job id, from a result's embed footer or a failure notice."""
    texts = [message.content, *((embed.get("footer") or {}).get("text", "") for embed in message.embeds)]
    for text in texts:
        if found := JOB_ID.search(text or ""):
            return found.group(1)
    raise AssertionError(f"no job id in message {message.id}: {texts}")


def private_reply(interaction: FakeInteraction) -> str:
    """What the sender was told privately: ephemeral callbacks and ephemeral followups."""
    texts = [
        cb["data"].get("content", "")
        for cb in interaction.callbacks
        if cb["type"] == 4 and cb.get("data") and cb["data"].get("flags", 0) & 64
    ]
    texts += [message.content for message in interaction.followups if message.ephemeral and not message.deleted]
    return "\n".join(text for text in texts if text)


def public_messages(interaction: FakeInteraction) -> list[FakeMessage]:
    """Messages of this interaction everyone in the channel can see now."""
    return [m for m in interaction.messages if not m.ephemeral and not m.deleted]


# -- fixtures -------------------------------------------------------------------------------------------

MakeE2E = Callable[..., Awaitable[E2E]]


async def _start(
    workdir: Path, env: dict[str, str] | None, scenario_options: dict[str, Any] | None, discord_options: dict[str, Any]
) -> E2E:
    token = "e2e-bot-token-" + secrets.token_urlsafe(24)
    key, secret = "e2e-key-" + secrets.token_hex(8), "e2e-secret-" + secrets.token_hex(16)
    fd = FakeDiscord(token=token, validate=True, **discord_options)
    await fd.start()
    options = {"job_duration": JOB_SECONDS, **(scenario_options or {})}
    fs = FakeScenario(api_key=key, api_secret=secret, **options)
    scenario_url = await fs.start()
    environment = {
        "DISCORD_TOKEN": token,
        "SCENARIO_SDK_API_KEY": key,
        "SCENARIO_SDK_API_SECRET": secret,
        "SCENARIO_BASE_URL": scenario_url,
        "DISCORD_API_BASE_URL": fd.api_base,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "LOG_LEVEL": "DEBUG",  # the most talkative level is the one that must still keep secrets
        **(env or {}),
    }
    basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
    never_logged = {
        "DISCORD_TOKEN": token,
        "SCENARIO_SDK_API_KEY": key,
        "SCENARIO_SDK_API_SECRET": secret,
        "the Scenario Authorization header": basic,
    }
    e2e = E2E(fd, fs, BotProcess(environment, workdir), workdir, secrets=never_logged)
    try:
        await e2e.start_bot()
    except BaseException:
        await _stop(e2e, check=False)
        raise
    return e2e


async def _stop(e2e: E2E, *, check: bool = True) -> None:
    try:
        if check:
            await e2e.stop_bot()
            e2e.discord.assert_no_violations()
    finally:
        if e2e.bot.running:
            await e2e.bot.stop()
        await e2e.discord.stop()
        await e2e.scenario.stop()


@pytest.fixture
async def make_e2e(tmp_path: Path) -> AsyncIterator[MakeE2E]:
    """Start fakes and a bot process: `await make_e2e(env={...}, scenario={...}, **fake_discord_options)`."""
    started: list[E2E] = []

    async def make(
        *, env: dict[str, str] | None = None, scenario: dict[str, Any] | None = None, **discord_options: Any
    ) -> E2E:
        workdir = tmp_path / f"bot{len(started)}"
        workdir.mkdir()
        e2e = await _start(workdir, env, scenario, discord_options)
        started.append(e2e)
        return e2e

    yield make
    for e2e in started:
        await _stop(e2e)


@pytest.fixture
async def e2e(make_e2e: MakeE2E) -> E2E:
    """A bot process of its own, with default settings."""
    return await make_e2e()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_e2e(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> AsyncIterator[E2E]:
    """One bot process for a whole module whose tests leave nothing behind (settings: the module's `E2E_ENV`).

    Tests using it must run on the module's event loop (`pytest.mark.asyncio(loop_scope="module")`) and
    check what they caused themselves, e.g. with `no_new_violations`.
    """
    workdir = tmp_path_factory.mktemp("shared-bot")
    env = getattr(request.module, "E2E_ENV", None)
    scenario = getattr(request.module, "E2E_SCENARIO", None)
    e2e = await _start(workdir, env, scenario, {})
    yield e2e
    await _stop(e2e)


@pytest.fixture
def no_new_violations(shared_e2e: E2E) -> Any:
    """Fail the test that made the shared bot send Discord something the spec rejects, not a later one."""
    before = len(shared_e2e.discord.violations)
    yield
    new = shared_e2e.discord.violations[before:]
    assert not new, "\n".join(f"{v.kind}: {v.method} {v.path}: {v.message}" for v in new)
    shared_e2e.assert_clean_log()
