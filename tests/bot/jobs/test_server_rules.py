"""Every way into the engine obeys the server's /config rules: `JobEngine.submit` itself refuses, nothing is
stored or sent, and a change made by another process applies to the very next job."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInputError, NotAllowedError, QueueFullError
from bot.jobs.sqlite import SQLiteJobStore
from bot.servers import ServerSettings
from tests.bot.jobs.conftest import Harness, new_job


async def test_submit_refuses_what_the_server_forbids_before_storing_or_sending(harness: Harness, tmp_path) -> None:
    engine = harness.engine()
    await engine.start()
    # Another process (a second bot sharing the database) changes the settings: read at the next admission.
    async with SQLiteJobStore(harness.store.path) as other:
        await other.save_server_settings(20, ServerSettings(blocked_words=["gore", "/b[a4]d/"], allowed_channels=[10]))

    for prompt in ("so much gore", "a B4D idea"):
        with pytest.raises(InvalidInputError, match="term this server does not allow"):
            await engine.submit(new_job(prompt=prompt))
    thread_job = new_job()
    thread_job = thread_job.model_copy(update={"channel_id": 77, "channel_parent_id": 10})
    await engine.submit(thread_job)  # a thread of an allowed channel
    elsewhere = new_job().model_copy(update={"channel_id": 11})
    with pytest.raises(NotAllowedError, match="<#10>"):
        await engine.submit(elsewhere)
    await harness.settle()

    assert [call.body["prompt"] for call in harness.fake.generate_calls] == [thread_job.prompt]
    assert len(await harness.store.for_user(1, limit=100)) == 1


async def test_the_servers_queue_limit_counts_jobs_waiting_in_that_server(harness: Harness) -> None:
    engine = harness.engine(max_parallel=1, max_queued_per_user=10)
    await engine.start()
    await harness.store.save_server_settings(20, ServerSettings(max_queued_per_user=1))
    await engine.submit(new_job(prompt="running"))  # takes the only slot
    await engine.submit(new_job(prompt="waiting"))  # waits in line
    with pytest.raises(QueueFullError, match="1 jobs waiting in this server"):
        await engine.submit(new_job(prompt="refused"))
    await engine.submit(new_job(prompt="elsewhere").model_copy(update={"guild_id": 21}))
    await harness.settle()

    assert sorted(call.body["prompt"] for call in harness.fake.generate_calls) == ["elsewhere", "running", "waiting"]
