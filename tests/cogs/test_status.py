"""/status: one private message for whoever manages the server — the line, the errors, the waits, the spend."""

from __future__ import annotations

import re
import time

import discord
import pytest

from bot.jobs.models import JobState
from cogs.status import seconds
from fakes.discord import DEFAULT_USER_ID, MEMBER_PERMISSIONS, ClientCheckError, MessageFlags
from fakes.scenario import Fault
from tests.cogs.conftest import World, private_text

MANAGER = MEMBER_PERMISSIONS | discord.Permissions(manage_guild=True).value
PROGRESS_EDIT = r"^/webhooks/\d+/[^/]+/messages/@original$"


async def ask_status(world: World, **options: object):
    interaction = await world.discord.send_command("status", **options)
    await world.wait_for(lambda: private_text(interaction))
    return interaction


async def test_status_reports_the_line_the_last_errors_the_wait_and_todays_spend(world: World) -> None:
    # One job, through a Scenario 503 on a poll (the client retries) and a Discord 404 on a progress edit.
    world.scenario.inject(Fault("GET", r"^/v1/jobs$", status=503))  # the batched status look
    world.discord.inject("PATCH", PROGRESS_EDIT, 404, json={"message": "Unknown Message", "code": 10008})
    interaction = await world.discord.send_command("imagine", {"prompt": "a lighthouse at dusk"})
    await world.result_of(interaction)
    job = await world.job_for(interaction, finished=True)
    assert job.state is JobState.DELIVERED and job.cost and job.finished_at

    status = await ask_status(world, member_permissions=MANAGER)

    text = private_text(status)
    assert status.callbacks[0]["data"]["flags"] & MessageFlags.EPHEMERAL
    lines = text.splitlines()
    assert lines[0] == "**Bot status**"
    assert lines[1] == (
        "📥 Queue: **0** waiting · **0** running of a ceiling not learned yet (Scenario's first 429 sets it)"
    )
    wait = seconds((job.finished_at - job.created_at).total_seconds())
    assert lines[2] == f"⏱️ Request → result: p95 **{wait}** over 1 job(s) in the last hour"
    assert lines[3] == f"💳 Spent today (UTC): **{job.cost:g} CU** over 1 finished job(s)"
    assert re.fullmatch(
        r"🎨 Last Scenario error: <t:\d+:R> — `Scenario answered 503 ServiceUnavailableError to GET /jobs: "
        r"Service Unavailable \(request id req_\w+\)`",
        lines[4],
    ), lines[4]
    assert re.fullmatch(r"💬 Last Discord error: <t:\d+:R> — `404: Unknown Message \(error code 10008\)`", lines[5])
    # "How long ago" is Discord's relative timestamp: the errors happened during this test.
    for line in lines[4:6]:
        assert abs(int(re.search(r"<t:(\d+):R>", line).group(1)) - time.time()) < 60
    # Nothing personal: no job, Scenario job, user, prompt.
    for private in (job.id, job.scenario_job_id, str(DEFAULT_USER_ID), job.prompt):
        assert private not in text


async def test_status_counts_waiting_and_running_jobs_against_the_ceiling(make_world) -> None:
    world: World = await make_world(settings_overrides={"max_parallel_jobs": 1})
    world.scenario.job_duration = 10_000  # the first job holds the only slot while Scenario works on it
    await world.discord.send_command("imagine", {"prompt": "first"}, user_id=21)
    second = await world.discord.send_command("imagine", {"prompt": "second"}, user_id=22)
    queued = await world.job_for(second)
    await world.wait_for(lambda: world.bot.engine.position(queued.id) == 1)

    status = await ask_status(world, member_permissions=MANAGER)
    assert "📥 Queue: **1** waiting · **1** running of **1** at once" in private_text(status)


async def test_status_is_for_server_managers_in_a_server_and_for_anyone_in_dms(world: World) -> None:
    with pytest.raises(ClientCheckError, match="needs permissions 32"):
        await world.discord.send_command("status", member_permissions=MEMBER_PERMISSIONS)

    in_dm = await ask_status(world, guild_id=None)
    assert private_text(in_dm).startswith("**Bot status**")
