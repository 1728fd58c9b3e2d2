"""Faults whose real timeouts are too long for `tests/e2e`: the in-process bot, configured as `python -m bot` is.

The request timeout (60 s by default) and the job timeout (`JOB_TIMEOUT_SECONDS`, at least 30 s) are too long
to wait for against a bot process. Here the timeouts are cut through the settings and the engine's
configuration (`open_bot(settings, config=..., clock=...)`), nothing private is touched, and each case ends
delivered exactly once or with the requester told, and then the bot serving the next request.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import discord
import pytest

from bot.bootstrap import open_bot
from bot.clock import SYSTEM_CLOCK
from bot.jobs.config import EngineConfig
from bot.jobs.models import JobState
from bot.settings import Settings
from fakes.discord import FakeDiscord, FakeInteraction
from fakes.scenario import FakeScenario, Fault
from tests.cogs.conftest import World, output_bytes, posts_with, stop_world

STATUS_LOOK = r"^/v1/jobs(/job_\w+)?$"
"""A status look: `GET /jobs` (the batched status loop, the default) or `GET /jobs/{id}` (`STATUS_MODE=per_job`)."""
GENERATE = r"^/v1/generate/"
REQUEST_TIMEOUT = 1.5
"""Seconds the bot waits for Scenario: long enough that no ordinary request times out on a busy machine,
shorter than the injected delays below."""
SCENARIO_DELAY = 4.0
SETTLE = 5.0
"""The engine's wait before looking for a lost submission: longer than Scenario takes to create the job."""
CHECKING = "checking whether the job started"


@pytest.fixture
async def real_time_world(tmp_path) -> AsyncIterator[World]:
    """The bot on the real clock against a Scenario on the real clock (jobs of one second): Scenario's delays,
    the bot's request timeout and the engine's waits all take real time, as they do in production."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    fd = await FakeDiscord().start()
    scenario = FakeScenario(api_key="key", api_secret="secret", job_duration=1.0)
    settings = Settings(
        discord_token="fake-token",
        scenario_sdk_api_key="key",
        scenario_sdk_api_secret="secret",
        scenario_base_url=await scenario.start(),
        discord_api_base_url=fd.api_base,
        database_url=f"sqlite:///{tmp_path}/bot.db",
        scenario_timeout_seconds=REQUEST_TIMEOUT,
    )
    config = EngineConfig.from_settings(settings, submit_settle_seconds=SETTLE)
    # No FakeClock: this world runs on the real one (and is never restarted, which would need it).
    world = World(fd, scenario, None, None, settings)  # type: ignore[arg-type]
    world.bot = await world.resources.enter_async_context(
        open_bot(settings, config=config, clock=SYSTEM_CLOCK, guild_ready_timeout=0.05)
    )
    await world.bot.login("fake-token")
    world.connection = asyncio.create_task(world.bot.connect(reconnect=False))
    await fd.wait_until_connected(timeout=10)
    try:
        yield world
    finally:
        await stop_world(world)
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway
    fd.assert_no_violations()


async def delivered_once(world: World, interaction: FakeInteraction) -> None:
    """The result is on the interaction's message, posted once, from one paid Scenario job."""
    message = await world.result_of(interaction, timeout=30)
    job = await world.job_for(interaction, finished=True)
    assert (job.state, job.delivered_via) == (JobState.DELIVERED, "interaction"), job.last_error
    assert posts_with(world, output_bytes(world, job)) == [message] and message.attachments
    assert len(world.generate_calls()) == 1 and len(world.scenario.jobs) == 1, "Scenario ran more than one job"


async def still_serving(world: World) -> None:
    again = await world.discord.send_command("imagine", {"prompt": "again"}, user_id=4242)
    assert (await world.result_of(again, timeout=30)).attachments


def scenario_requests(world: World, method: str, pattern: str) -> list[str]:
    return [path for m, path in world.scenario.request_log if m == method and re.search(pattern, path)]


async def test_polls_that_time_out_are_retried(real_time_world: World) -> None:
    world = real_time_world
    world.scenario.inject(Fault("GET", STATUS_LOOK, kind="delay", delay=SCENARIO_DELAY, times=3))
    interaction = await world.discord.send_command("imagine", {"prompt": "patience"})
    await delivered_once(world, interaction)
    assert len(scenario_requests(world, "GET", STATUS_LOOK)) >= 4  # three timed out, then one answered
    await still_serving(world)


async def test_a_generate_request_that_times_out_is_found_later_and_not_paid_twice(real_time_world: World) -> None:
    # Scenario creates the job 4 s after the POST, long after the bot stopped waiting (1.5 s). The bot cannot
    # know whether the POST got through: it waits until it must have settled (5 s), looks for the job, adopts
    # it and delivers it, without sending the paid request again.
    world = real_time_world
    world.scenario.inject(Fault("POST", GENERATE, kind="delay", delay=SCENARIO_DELAY))
    interaction = await world.discord.send_command("imagine", {"prompt": "patience"})
    await delivered_once(world, interaction)
    assert len(scenario_requests(world, "POST", GENERATE)) == 1
    assert scenario_requests(world, "GET", r"^/v1/jobs$"), "the bot did not look for the lost job"
    shown = [r.json.get("content") or "" for r in world.discord.requests if isinstance(r.json, dict)]
    assert [text for text in shown if CHECKING in text], "the requester was not told the bot is checking"
    await still_serving(world)


async def test_a_job_scenario_never_finishes(make_world) -> None:
    # On the FakeClock: five minutes pass in a moment.
    world = await make_world(settings_overrides={"job_timeout_seconds": 300})
    world.scenario.job_duration = 10_000
    started = world.clock()
    interaction = await world.discord.send_command("imagine", {"prompt": "forever"})
    job = await world.job_for(interaction, finished=True)
    assert 300 <= world.clock() - started < 330, "the job should end five minutes (on the FakeClock) after it began"
    assert job.state is JobState.FAILED and not job.output_asset_ids
    await world.wait_for(lambda: interaction.original.content.startswith("❌"))
    assert interaction.original.content.startswith("❌ Scenario did not finish this job within 5 minutes.")
    assert not interaction.original.attachments
    world.scenario.job_duration = 6.0
    await still_serving(world)
