"""`/metrics`, `/healthz` and `/readyz` of the in-process bot, read over HTTP as Prometheus and a probe would.

The bot listens on `METRICS_PORT=0` (any free port) and says where in `bot.health.url`. Metrics live as long
as the test process, so each test compares a scrape taken before what it does with one taken after.
"""

from __future__ import annotations

import asyncio
import contextlib
import math

from bot.bootstrap import open_bot
from bot.jobs.models import JobRecord, JobState
from fakes.discord import DEFAULT_USER_ID
from tests.cogs.conftest import World, state_becomes, stop_bot
from tests.scrape import delta, get, scrape

METRICS = {"metrics_port": 0}
ENDPOINTS = {
    "POST /generate/custom/{model}",
    "GET /jobs/{id}",
    "GET /jobs",
    "POST /assets",
    "POST /assets/get-bulk",
    "GET /assets/{id}",
    "CDN",
}
"""Every route the bot calls, as a template: the only values `endpoint` may take."""
NEARLY_EXPIRED = 15 * 60 - 30
"""Made 14.5 minutes ago: the bot no longer uses the token (see test_delivery_fallbacks.py)."""


def private_values(world: World, jobs: list[JobRecord]) -> list[str]:
    """What must never appear in the metrics: ids, prompts, tokens, users and places."""
    values = [world.settings.discord_token.get_secret_value(), str(DEFAULT_USER_ID), str(world.discord.guild_id)]
    values += [str(world.discord.channel_id)]
    values += [ix.token for ix in world.discord.interactions.values()]
    for job in jobs:
        values += [job.id, job.prompt, *job.output_asset_ids]
        values += [job.scenario_job_id] if job.scenario_job_id else []
    return values


async def test_one_delivered_and_one_failed_job_move_exactly_their_metrics(make_world) -> None:
    world: World = await make_world(settings_overrides=METRICS)
    assert world.bot.health is not None and world.bot.health.port > 0
    url = world.bot.health.url
    before = await scrape(url)

    delivered_ix = await world.discord.send_command("imagine", {"prompt": "a lighthouse in fog"})
    await world.result_of(delivered_ix)
    world.scenario.fail_next_job("The prompt was flagged", "Describe it differently")
    failed_ix = await world.discord.send_command("imagine", {"prompt": "something the fake refuses"})
    failed = await world.job_for(failed_ix, finished=True)
    delivered = await world.job_for(delivered_ix, finished=True)
    assert (delivered.state, failed.state) == (JobState.DELIVERED, JobState.FAILED)
    # A failed job's slot goes back once its requester has been told, just after its state is stored.
    await world.wait_for(lambda: not world.bot.engine.queue.scheduler.running)

    after = await scrape(url)
    moved = after - before
    assert after.content_type.startswith("text/plain; version=0.0.4")

    # Each job counted once, under the state it ended in; nothing else moved.
    for state, count in {"delivered": 1, "failed": 1, "canceled": 0, "undelivered": 0}.items():
        assert delta(moved, "bot_jobs_total", state=state) == count, state
    # Both jobs answered their request (the duration); only the delivered one posted images (the added latency).
    assert delta(moved, "bot_job_duration_seconds_count") == 2
    assert 0 < delta(moved, "bot_job_duration_seconds_sum") < 60
    assert delta(moved, "bot_added_latency_seconds_count") == 1
    assert 0 <= delta(moved, "bot_added_latency_seconds_sum") < 30
    # Both were charged what Scenario answered the POST with (a failed job is paid when it starts; the counter
    # does not subtract the refund, which the failed job's record shows as a cost of 0).
    quoted = world.scenario.jobs[failed.scenario_job_id].cost
    assert delivered.cost and quoted and failed.cost == 0
    assert delta(moved, "bot_credits_spent_total") == delivered.cost + quoted

    # Scenario requests, by route template: one paid POST each, polls, and one image fetched.
    assert delta(moved, "bot_scenario_requests_total", endpoint="POST /generate/custom/{model}", status="200") == 2
    status_looks = [  # the batched status loop's GET /jobs (STATUS_MODE=per_job: GET /jobs/{id})
        delta(moved, "bot_scenario_requests_total", endpoint=endpoint, status="200")
        for endpoint in ("GET /jobs", "GET /jobs/{id}")
    ]
    assert sum(status_looks) >= 2
    assert delta(moved, "bot_scenario_requests_total", endpoint="POST /assets/get-bulk", status="200") == 1
    assert delta(moved, "bot_scenario_requests_total", endpoint="CDN", status="200") == 1
    assert after.labels_of("bot_scenario_requests_total", "endpoint") <= ENDPOINTS
    assert not any(name.startswith("bot_discord_errors") for name, _ in moved)

    # The line is empty again; the ceiling is not learned yet (MAX_PARALLEL_JOBS=auto, and no 429 so far).
    assert after.get("bot_jobs_in_flight") == 0 and after.get("bot_queue_depth") == 0
    assert world.settings.max_parallel_jobs == "auto"
    assert math.isnan(after.get("bot_scenario_ceiling"))

    # No label, and nothing else in the scrape, carries an id, a prompt, a token or a user.
    leaked = [value for value in private_values(world, [delivered, failed]) if value in after.text]
    assert not leaked, leaked


async def test_an_undelivered_job_posted_later_with_show_is_not_counted_again(make_world) -> None:
    world: World = await make_world(settings_overrides=METRICS)
    world.discord.forbid_channel(world.discord.channel_id)
    world.discord.forbid_dms(DEFAULT_USER_ID)
    before = await scrape(world.bot.health.url)

    interaction = await world.discord.send_command("imagine", {"prompt": "a kite"}, age_seconds=NEARLY_EXPIRED)
    job = await world.job_for(interaction, finished=True)
    assert job.state is JobState.UNDELIVERED, job.last_error
    show = await world.discord.send_command("show", {"job_id": job.id})
    await world.wait_for(lambda: show.original is not None and show.original.attachments)
    await state_becomes(world, job.id, JobState.DELIVERED)

    moved = await scrape(world.bot.health.url) - before
    assert delta(moved, "bot_jobs_total", state="undelivered") == 1
    assert delta(moved, "bot_jobs_total", state="delivered") == 0
    assert delta(moved, "bot_job_duration_seconds_count") == 1
    assert delta(moved, "bot_added_latency_seconds_count") == 0  # its images reached Discord only on request
    # Discord refused the channel (403 / 50013 Missing Permissions) and the DM (403 / 50007): counted by code.
    assert delta(moved, "bot_discord_errors_total", code="50013") >= 1
    assert delta(moved, "bot_discord_errors_total", code="50007") >= 1


async def test_a_canceled_job_is_counted_without_a_duration(make_world) -> None:
    world: World = await make_world(settings_overrides={**METRICS, "max_parallel_jobs": 1})
    before = await scrape(world.bot.health.url)
    # The first job holds the only slot while Scenario works on it (a long job), so the second one waits in line.
    world.scenario.job_duration = 10_000
    await world.discord.send_command("imagine", {"prompt": "first"}, user_id=11)
    waiting = await world.discord.send_command("imagine", {"prompt": "second"}, user_id=12)
    queued = await world.job_for(waiting)
    await world.wait_for(lambda: world.bot.engine.position(queued.id) == 1)
    during = await scrape(world.bot.health.url)
    gauges = ("bot_jobs_in_flight", "bot_queue_depth", "bot_scenario_ceiling")
    assert [during.get(name) for name in gauges] == [1, 1, 1]

    await world.discord.send_command("jobs", {"cancel": queued.id}, user_id=12)
    await state_becomes(world, queued.id, JobState.CANCELED)

    after = await scrape(world.bot.health.url)
    moved = after - before
    assert delta(moved, "bot_jobs_total", state="canceled") == 1
    assert delta(moved, "bot_job_duration_seconds_count") == 0  # nobody waited for a canceled job's result
    assert [after.get(name) for name in gauges] == [1, 0, 1]  # the first still runs; the line is empty


async def test_readyz_is_503_until_the_gateway_is_ready_and_healthz_answers_throughout(make_world) -> None:
    world: World = await make_world(settings_overrides=METRICS)
    await stop_bot(world)  # start the next bot step by step, looking at the endpoint between the steps
    await world.discord.wait_for(lambda: not world.discord.connected)
    world.resources = contextlib.AsyncExitStack()
    world.bot = await world.resources.enter_async_context(
        open_bot(world.settings, clock=world.clock.clock(), guild_ready_timeout=0.05)
    )
    assert world.bot.health is not None
    url = world.bot.health.url

    assert await get(f"{url}/readyz") == (503, "gateway not connected\n", "text/plain; charset=utf-8")
    assert (await get(f"{url}/healthz"))[:2] == (200, "ok\n")
    await world.bot.login("fake-token")
    assert (await get(f"{url}/readyz"))[:2] == (503, "gateway not connected\n")

    world.connection = asyncio.create_task(world.bot.connect(reconnect=False))
    await world.wait_for(world.bot.is_ready)
    assert (await get(f"{url}/readyz"))[:2] == (200, "ready\n")
    assert (await get(f"{url}/healthz"))[:2] == (200, "ok\n")

    await world.bot.close()  # shutting down: not ready any more, while the endpoint still answers
    assert (await get(f"{url}/readyz"))[:2] == (503, "gateway not connected\n")
    assert (await get(f"{url}/healthz"))[:2] == (200, "ok\n")


async def test_without_metrics_port_nothing_listens(world: World) -> None:
    assert world.settings.metrics_port is None and world.bot.health is None
