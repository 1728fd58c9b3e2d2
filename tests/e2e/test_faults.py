"""Faults between the bot and Scenario or Discord, against the real `python -m bot` process.

Every case ends with the job delivered exactly once, or the requester told plainly what happened, and then
the bot serving the next request. Timeouts, too long to wait for in real time, run in-process at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest

from fakes.discord import FakeInteraction, FakeMessage
from fakes.scenario import Fault
from tests.cogs.conftest import World, start_world, stop_world
from tests.e2e.conftest import CHANNEL_MESSAGES, E2E, WEBHOOK_MESSAGE, MakeE2E, job_id_of

JOB_BY_ID = r"^/v1/jobs/job_"


async def delivered_once(e2e: E2E, interaction: FakeInteraction) -> None:
    """The job's result is on the interaction's message, posted once, from one paid Scenario job."""
    message = await e2e.result_of(interaction)
    assert len(e2e.result_posts()) == 1
    assert len(e2e.paid_generates()) == 1
    assert len(e2e.scenario.jobs) == 1, "Scenario ran (and charged for) more than one job"
    assert message.attachments


async def failure_notice(e2e: E2E, interaction: FakeInteraction) -> str:
    """The text the requester sees in place of a result, once the job is recorded as failed."""

    def notice() -> FakeMessage | None:
        original = interaction.original
        return original if original is not None and original.content.startswith("❌") else None

    message = await e2e.wait_for(notice)
    assert await e2e.finished(job_id_of(message)) == "failed"
    assert not message.attachments and not message.ephemeral
    return message.content


# -- Scenario -----------------------------------------------------------------------------------------------


async def test_a_burst_of_5xx_while_polling(e2e: E2E) -> None:
    # Four in a row outlast the client's own retries (3 attempts), so polling itself must carry on.
    e2e.scenario.inject(Fault("GET", JOB_BY_ID, status=503, times=4))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    assert len(e2e.scenario_requests("GET", JOB_BY_ID)) >= 5
    await e2e.assert_still_serving()


async def test_a_5xx_burst_on_get_bulk_is_retried(e2e: E2E) -> None:
    e2e.scenario.inject(Fault("POST", r"^/v1/assets/get-bulk$", status=502, times=2))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    await e2e.assert_still_serving()


async def test_get_bulk_down_for_longer_the_images_are_kept_for_show(e2e: E2E) -> None:
    fault = Fault("POST", r"^/v1/assets/get-bulk$", status=503, times=1000)
    e2e.scenario.inject(fault)
    interaction = await e2e.imagine()
    text = await failure_notice(e2e, interaction)
    job_id = job_id_of(interaction.original)
    assert "could not be fetched from Scenario" in text and f"/show {job_id}" in text
    assert len(e2e.paid_generates()) == 1 and not e2e.result_posts()

    e2e.scenario.faults.clear()  # Scenario is back: the user follows the advice
    show = await e2e.discord.send_command("show", {"job_id": job_id})
    reposted = await e2e.wait_for(lambda: show.original is not None and show.original.attachments and show.original)
    await e2e.wait_for(lambda: e2e.states()[job_id] == "delivered")  # /show records the delivery
    assert len(reposted.attachments) == 1 and len(e2e.paid_generates()) == 1
    await e2e.assert_still_serving()


async def test_connection_resets_while_polling(e2e: E2E) -> None:
    # aiohttp resends an idempotent GET once by itself on a dropped connection: two resets reach the client.
    e2e.scenario.inject(Fault("GET", JOB_BY_ID, kind="reset_before", times=4))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    await e2e.assert_still_serving()


async def test_connection_reset_after_scenario_started_the_job(e2e: E2E) -> None:
    # The job exists (and is paid for) but its answer is lost: the bot must find it, not start another.
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", kind="reset_after"))
    interaction = await e2e.imagine()
    message = await e2e.result_of(interaction)
    assert len(e2e.scenario.jobs) == 1 and len(e2e.scenario.generate_calls) == 1
    assert len(e2e.result_posts()) == 1 and message.attachments
    assert e2e.scenario_requests("GET", r"^/v1/jobs$"), "the bot did not look for the lost job"
    await e2e.assert_still_serving()


async def test_connection_reset_before_scenario_answered(make_e2e: MakeE2E) -> None:
    # The bot cannot know whether the request got through: it looks for the job, waits until the request must
    # have settled at Scenario, looks again, finds nothing, and only then sends it again — one job, delivered.
    e2e = await make_e2e(env={"SCENARIO_TIMEOUT_SECONDS": "2"})
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", kind="reset_before"))
    interaction = await e2e.imagine()
    message = await e2e.result_of(interaction)
    assert message.attachments and len(e2e.result_posts()) == 1
    assert len(e2e.scenario.jobs) == 1 and len(e2e.scenario.generate_calls) == 2
    assert len(e2e.scenario_requests("GET", r"^/v1/jobs$")) >= 2, "the bot resent without looking twice"
    await e2e.assert_still_serving()


async def test_a_5xx_from_scenario_on_generate_is_sent_again_once(e2e: E2E) -> None:
    # Scenario's own JSON error on a 5xx means it refused the request: after checking, one resend is safe.
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", status=500))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    assert [call.status for call in e2e.scenario.generate_calls] == [500, 200]
    await e2e.assert_still_serving()


async def test_malformed_json_on_generate_and_while_polling(e2e: E2E) -> None:
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", kind="malformed"))
    e2e.scenario.inject(Fault("GET", JOB_BY_ID, kind="malformed", times=2))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    assert len(e2e.scenario.generate_calls) == 1  # the job behind the unreadable answer was found, not re-made
    await e2e.assert_still_serving()


async def test_a_slow_scenario(e2e: E2E) -> None:
    e2e.scenario.inject(Fault("POST", r"^/v1/generate/", kind="delay", delay=1.0))
    e2e.scenario.inject(Fault("GET", JOB_BY_ID, kind="delay", delay=1.0, times=2))
    interaction = await e2e.imagine()
    await delivered_once(e2e, interaction)
    await e2e.assert_still_serving()


async def test_the_plans_parallel_job_ceiling(make_e2e: MakeE2E) -> None:
    # The bot thinks 3 jobs may run at once; Scenario's plan allows 1 and answers 429 to the second.
    e2e = await make_e2e(env={"MAX_PARALLEL_JOBS": "3"}, scenario={"parallel_limit": 1})
    interactions = [await e2e.imagine(f"job {n}", user_id=7000 + n) for n in range(3)]
    messages = [await e2e.result_of(interaction) for interaction in interactions]

    assert len({m.id for m in messages}) == 3 and len(e2e.result_posts()) == 3
    assert len(e2e.paid_generates()) == 3 and len(e2e.scenario.jobs) == 3
    assert any(call.status == 429 for call in e2e.scenario.generate_calls)
    # The first 429 lowers the bot's ceiling to the plan's: the jobs already sent wait their turn, one at a
    # time. Without that, the two waiting jobs would start together when the first ends, and one would 429 again.
    assert [call.status for call in e2e.scenario.generate_calls].count(429) <= 2
    await e2e.assert_still_serving()


async def test_a_job_that_fails_at_scenario_shows_its_error_and_hint(e2e: E2E) -> None:
    e2e.scenario.fail_next_job("The prompt was flagged by the safety filter", "Describe the scene differently")
    interaction = await e2e.imagine("something the filter dislikes")
    text = await failure_notice(e2e, interaction)
    assert text.startswith("❌ Scenario could not make this image: The prompt was flagged by the safety filter.")
    assert "Hint: Describe the scene differently" in text
    assert not e2e.result_posts()
    await e2e.assert_still_serving()


async def test_an_image_url_that_expires_before_the_download(e2e: E2E) -> None:
    interaction = await e2e.imagine()
    await e2e.hold_download()
    e2e.scenario.expire_urls()  # the held download is checked after this: 403, as an expired signed URL
    await delivered_once(e2e, interaction)
    assert e2e.scenario_requests("GET", r"^/v1/assets/asset_"), "no fresh URL was asked for"
    await e2e.assert_still_serving()


# -- Discord ------------------------------------------------------------------------------------------------


async def test_a_429_on_the_result_edit(e2e: E2E) -> None:
    interaction = await e2e.imagine()
    await e2e.hold_download()
    refused = await e2e.refuse_result_upload("PATCH", WEBHOOK_MESSAGE, 429, retry_after=0.3)
    assert refused.response["retry_after"] == 0.3
    await delivered_once(e2e, interaction)
    await e2e.assert_still_serving()


async def test_a_5xx_on_the_result_upload(e2e: E2E) -> None:
    # On the channel route (the token has expired) the upload is the only request: the fault cannot miss it.
    interaction = await e2e.imagine()
    await e2e.hold_download()
    e2e.discord.expire_token(interaction.id)
    e2e.discord.inject("POST", CHANNEL_MESSAGES, 502)
    [message] = await e2e.wait_for(lambda: [m for m in e2e.discord.channel_messages() if m.attachments])
    assert await e2e.finished(job_id_of(message)) == "delivered"
    refused = [r for r in e2e.discord.requests if r.status == 502]
    assert len(refused) == 1 and refused[0].files
    assert len(e2e.result_posts()) == 1
    await e2e.assert_still_serving()


async def test_a_413_on_the_result_upload_is_retried_smaller(e2e: E2E) -> None:
    interaction = await e2e.imagine()
    await e2e.hold_download()
    too_large = {"message": "Request entity too large", "code": 40005}
    refused = await e2e.refuse_result_upload("PATCH", WEBHOOK_MESSAGE, 413, json=too_large)
    await delivered_once(e2e, interaction)
    [accepted] = e2e.result_posts()
    assert accepted.path == refused.path and accepted is not refused
    await e2e.assert_still_serving()


async def test_an_expired_interaction_token_delivers_in_the_channel(e2e: E2E) -> None:
    interaction = await e2e.imagine("a prompt from @everyone")
    await e2e.hold_download()
    e2e.discord.expire_token(interaction.id)
    [message] = await e2e.wait_for(lambda: [m for m in e2e.discord.channel_messages() if m.attachments])
    assert await e2e.finished(job_id_of(message)) == "delivered"
    assert message.content == f"<@{interaction.user_id}> here is your result."
    assert message.mentions == [interaction.user_id] and not message.mention_everyone
    assert len(e2e.result_posts()) == 1 and len(e2e.paid_generates()) == 1
    await e2e.assert_still_serving()


async def test_a_429_on_the_channel_message(e2e: E2E) -> None:
    interaction = await e2e.imagine()
    await e2e.hold_download()
    e2e.discord.expire_token(interaction.id)
    await e2e.refuse_result_upload("POST", CHANNEL_MESSAGES, 429, retry_after=0.5)
    [message] = await e2e.wait_for(lambda: [m for m in e2e.discord.channel_messages() if m.attachments])
    assert await e2e.finished(job_id_of(message)) == "delivered"
    assert len(e2e.result_posts()) == 1
    await e2e.assert_still_serving()


# -- timeouts, in-process ----------------------------------------------------------------------------------
# The request timeout (60 s) and the job timeout (JOB_TIMEOUT_SECONDS, at least 30 s) are too long to wait for
# in real time. The in-process bot of tests/cogs runs jobs on a FakeClock and lets the client's timeout be cut.

InProcess = Callable[..., Awaitable[World]]


@pytest.fixture
async def in_process(tmp_path: Path) -> AsyncIterator[InProcess]:
    """Start the in-process bot: `await in_process(real_delays=..., settings_overrides=...)`."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    worlds: list[World] = []

    async def make(*, real_delays: bool = False, **options: Any) -> World:
        workdir = tmp_path / f"world{len(worlds)}"
        workdir.mkdir()
        world = await start_world(workdir, **options)
        worlds.append(world)
        if real_delays:
            # Scenario's injected delays take real time, and the client gives up after 1.5 s: long enough
            # that no ordinary request times out on a busy machine, shorter than the delays below.
            world.scenario.sleep = asyncio.sleep
            world.bot.scenario.request_timeout = 1.5
            world.bot.engine._sleep = asyncio.sleep  # the engine's waits for Scenario to settle take real time too
        return world

    yield make
    for world in worlds:
        await stop_world(world)
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway
    for world in worlds:
        world.discord.assert_no_violations()


async def still_serving(world: World) -> None:
    again = await world.discord.send_command("imagine", {"prompt": "again"}, user_id=4242)
    assert (await world.result_of(again)).attachments


async def failure_text(world: World, interaction: FakeInteraction) -> str:
    job = await world.job_for(interaction, finished=True)
    assert job.state.value == "failed"
    await world.wait_for(lambda: interaction.original.content.startswith("❌"))
    return interaction.original.content


async def test_polls_that_time_out_are_retried(in_process: InProcess) -> None:
    world = await in_process(real_delays=True)
    world.scenario.inject(Fault("GET", JOB_BY_ID, kind="delay", delay=4.0, times=3))
    interaction = await world.discord.send_command("imagine", {"prompt": "patience"})
    message = await world.result_of(interaction)
    assert message.attachments and len(world.generate_calls()) == 1


async def test_a_generate_request_that_times_out_is_found_later_and_not_paid_twice(in_process: InProcess) -> None:
    # Scenario creates the job 4 s after the bot gave up waiting (1.5 s) and after its quick search: the bot
    # looks again once the request must have settled, adopts that job and delivers it.
    world = await in_process(real_delays=True)
    world.bot.engine.submit_settle = 5.0
    world.scenario.inject(Fault("POST", r"^/v1/generate/", kind="delay", delay=4.0))
    interaction = await world.discord.send_command("imagine", {"prompt": "patience"})
    message = await world.result_of(interaction, timeout=30)
    assert message.attachments
    sent = [path for method, path in world.scenario.request_log if method == "POST" and "/generate/" in path]
    assert len(sent) == 1 and len(world.scenario.jobs) == 1
    await still_serving(world)


async def test_a_job_scenario_never_finishes(in_process: InProcess) -> None:
    world = await in_process(settings_overrides={"job_timeout_seconds": 300})
    world.scenario.job_duration = 10_000
    interaction = await world.discord.send_command("imagine", {"prompt": "forever"})
    text = await failure_text(world, interaction)
    assert text.startswith("❌ Scenario did not finish this job within 5 minutes.")
    world.scenario.job_duration = 6.0
    await still_serving(world)
