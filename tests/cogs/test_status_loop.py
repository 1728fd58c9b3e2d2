"""Batched status through real discord.py: what the list says reaches the requester's message."""

from __future__ import annotations

import re

import aiohttp

from tests.cogs.conftest import World

BAR = re.compile(r"`[▰▱]+ (\d+)%`")


def progress_edits(world: World, interaction) -> list[str]:
    """The text of every progress edit of the interaction's own message, in order."""
    texts = []
    for request in world.discord.requests:
        if request.method != "PATCH" or f"/webhooks/{world.discord.application_id}/" not in request.path:
            continue
        if interaction.token not in request.path or request.files:
            continue
        content = request.json.get("content") if isinstance(request.json, dict) else None
        if isinstance(content, str):
            texts.append(content)
    return texts


async def test_progress_from_the_jobs_list_reaches_the_discord_message(make_world) -> None:
    world: World = await make_world()
    world.scenario.job_duration = 30.0  # long enough for several progress edits, 2 s apart

    interaction = await world.discord.send_command("imagine", {"prompt": "a lighthouse, slowly"})
    await world.result_of(interaction, timeout=30)

    shown = [int(match.group(1)) for text in progress_edits(world, interaction) if (match := BAR.search(text))]
    in_progress = [percent for percent in shown if 10 <= percent <= 95]
    assert len(set(in_progress)) >= 3, shown  # the bar moved on the requester's screen
    assert in_progress == sorted(in_progress)
    # Every one of those numbers came from `GET /jobs`: no job was looked at on its own.
    log = world.scenario.request_log
    assert ("GET", "/v1/jobs") in log
    assert not [path for method, path in log if method == "GET" and path.startswith("/v1/jobs/")]


async def test_per_job_polling_is_still_there_when_asked_for(make_world) -> None:
    world: World = await make_world(settings_overrides={"status_mode": "per_job"})

    interaction = await world.discord.send_command("imagine", {"prompt": "a lighthouse, the old way"})
    await world.result_of(interaction)

    log = world.scenario.request_log
    assert [path for method, path in log if method == "GET" and path.startswith("/v1/jobs/")]
    assert ("GET", "/v1/jobs") not in log


async def test_a_scenario_webhook_makes_the_bot_look_at_the_job_at_once(make_world) -> None:
    # SCENARIO_WEBHOOK_PORT=0: any free port. The list leaves the job out, and the slow fallback would take
    # minutes: only the webhook's hint can make the bot look at it (and it is still read from the API).
    world: World = await make_world(settings_overrides={"scenario_webhook_port": 0, "status_tick_seconds": 5.0})
    receiver = world.bot.webhook
    assert receiver is not None and world.bot.engine.watch is not None
    world.bot.engine.watch._quiet = world.bot.engine.watch._max_quiet = 100_000.0
    world.scenario.hide_next_job_from_list()
    interaction = await world.discord.send_command("imagine", {"prompt": "a lighthouse, hinted"})
    job = await world.job_for(interaction)
    await world.wait_for(lambda: world.scenario.jobs)
    [scenario_job_id] = world.scenario.jobs
    # The hint is for a job the bot waits on: Scenario may have made it before the bot has read its answer.
    await world.wait_for(lambda: scenario_job_id in world.bot.engine.watch._waiters)
    world.clock.advance(60)  # it has ended at Scenario

    async with aiohttp.ClientSession() as session:
        forged = {"type": "generation.completed", "data": {"jobId": "job_not_ours"}}
        reply = await session.post(f"http://127.0.0.1:{receiver.port}/scenario", json=forged)
        assert reply.status == 204
        event = {"type": "generation.completed", "data": {"job": {"jobId": scenario_job_id, "status": "success"}}}
        reply = await session.post(f"http://127.0.0.1:{receiver.port}/scenario", json=event)
        assert reply.status == 204

    message = await world.result_of(interaction)
    assert message.attachments and receiver.hints == 1
    assert ("GET", f"/v1/jobs/{scenario_job_id}") in world.scenario.request_log
    assert job.id
