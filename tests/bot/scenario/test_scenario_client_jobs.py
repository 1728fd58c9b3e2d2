"""Generating and waiting for jobs against the fake, on loopback, with a shared FakeClock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.scenario import (
    IDEOGRAM_CHARACTER,
    IDEOGRAM_V4,
    IdeogramCharacterInput,
    IdeogramV4Input,
    Job,
    JobCanceledError,
    JobFailedError,
    JobStatus,
    JobTimeoutError,
    NotFoundError,
    ScenarioClient,
)
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario


async def test_generate_then_wait_reports_every_change(fake: FakeScenario, client: ScenarioClient) -> None:
    body = IdeogramV4Input(prompt="a neon sign that says OPEN", num_outputs=2, rendering_speed="TURBO").to_body()
    result = await client.submit_generate(IDEOGRAM_V4, body)
    assert result.job.status is JobStatus.QUEUED
    assert result.creative_units_cost == 6
    assert fake.generate_calls[0].body == body  # camelCase, exactly as built

    seen: list[Job] = []
    job = await client.wait_for_job(result.job.job_id, on_update=seen.append)
    assert job.status is JobStatus.SUCCESS and len(job.asset_ids) == 2
    statuses = [j.status for j in seen]
    assert statuses[0] is JobStatus.QUEUED and statuses[-1] is JobStatus.SUCCESS
    assert JobStatus.IN_PROGRESS in statuses
    # Every status or progress change is reported once, in order, and progress never goes back.
    pairs = [(j.status, j.progress) for j in seen]
    assert len(pairs) == len(set(pairs))
    assert [p for _, p in pairs] == sorted(p for _, p in pairs)
    order = list(JobStatus)
    assert [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)


async def test_progress_alone_is_passed_on_at_most_every_progress_every(
    fake: FakeScenario, client: ScenarioClient, clock: FakeClock
) -> None:
    result = await client.submit_generate(IDEOGRAM_V4, {"prompt": "a lighthouse"})
    seen: list[tuple[float, Job]] = []
    job = await client.wait_for_job(
        result.job.job_id, on_update=lambda update: seen.append((clock(), update)), progress_every=3.0
    )

    assert job.status is JobStatus.SUCCESS
    statuses = [update.status for _, update in seen]
    assert {JobStatus.WARMING_UP, JobStatus.IN_PROGRESS, JobStatus.FINALIZING, JobStatus.SUCCESS} <= set(statuses)
    in_progress = [(at, update.progress) for at, update in seen if update.status is JobStatus.IN_PROGRESS]
    assert [p for _, p in in_progress] == sorted(p for _, p in in_progress)
    assert all(after - before >= 3.0 for (before, _), (after, _) in itertools.pairwise(in_progress))
    assert len(in_progress) > 1


async def test_character_job(fake: FakeScenario, client: ScenarioClient) -> None:
    reference = await client.upload_image(_png(), name="ref.png")
    body = IdeogramCharacterInput(prompt="a knight", character_reference_image=reference).to_body()
    result = await client.submit_generate(IDEOGRAM_CHARACTER, body)
    job = await client.wait_for_job(result.job.job_id)
    assert job.status is JobStatus.SUCCESS and len(job.asset_ids) == 1


async def test_async_callback(client: ScenarioClient) -> None:
    seen: list[str] = []

    async def on_update(job: Job) -> None:
        seen.append(job.status.value)

    result = await client.submit_generate(IDEOGRAM_V4, {"prompt": "x"})
    await client.wait_for_job(result.job.job_id, on_update=on_update)
    assert seen[-1] == "success"


async def test_failed_job_raises_with_error_and_hint(fake: FakeScenario, client: ScenarioClient) -> None:
    fake.fail_next_job(error="provider refused the prompt", hint="rephrase it")
    result = await client.submit_generate(IDEOGRAM_V4, {"prompt": "x"})
    with pytest.raises(JobFailedError) as caught:
        await client.wait_for_job(result.job.job_id)
    error = caught.value
    assert type(error) is JobFailedError
    assert error.error == "provider refused the prompt" and error.hint == "rephrase it"
    assert error.job.status is JobStatus.FAILURE
    assert "provider refused the prompt" in str(error) and "rephrase it" in str(error)


async def test_canceled_job(fake: FakeScenario, client: ScenarioClient) -> None:
    fake.cancel_next_job()
    result = await client.submit_generate(IDEOGRAM_V4, {"prompt": "x"})
    with pytest.raises(JobCanceledError) as caught:
        await client.wait_for_job(result.job.job_id)
    assert caught.value.job.status is JobStatus.CANCELED


async def test_deadline(fake: FakeScenario, client: ScenarioClient, clock: FakeClock) -> None:
    fake.job_duration = 3600.0
    result = await client.submit_generate(IDEOGRAM_V4, {"prompt": "x"})
    start = clock()
    with pytest.raises(JobTimeoutError) as caught:
        await client.wait_for_job(result.job.job_id, timeout=120)
    assert clock() - start == pytest.approx(120)
    assert caught.value.job_id == result.job.job_id
    assert caught.value.last_job is not None and not caught.value.last_job.status.terminal


async def test_polling_cadence_is_quick_for_short_jobs(fake: FakeScenario, client: ScenarioClient,
                                                       clock: FakeClock) -> None:  # fmt: skip
    fake.job_duration = 3.0
    result = await client.submit_generate(IDEOGRAM_V4, {"prompt": "x"})
    job_id = result.job.job_id
    await client.wait_for_job(job_id)
    noticed = fake.status_first_seen[job_id]["success"]
    assert noticed - fake.jobs[job_id].end_at <= 2.0
    polls = sum(1 for method, path in fake.request_log if path == f"/v1/jobs/{job_id}")
    assert polls <= 6


async def test_get_job_unknown_is_not_found(client: ScenarioClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.get_job("job_nope")
    assert caught.value.status == 404 and "Job not found" in str(caught.value)


async def test_list_jobs_follows_pages(fake: FakeScenario, client: ScenarioClient, clock: FakeClock) -> None:
    for index in range(5):
        await client.submit_generate(IDEOGRAM_V4, {"prompt": f"p{index}"})
        clock.advance(1)
    jobs = await client.list_jobs(created_after=datetime.now(UTC) - timedelta(hours=1))
    assert sorted(j.job_id for j in jobs) == sorted(fake.jobs)
    recent = await client.list_jobs(updated_after=datetime.now(UTC) - timedelta(hours=1))
    assert len(recent) == 5  # sent with types=custom, which the fake requires for updatedAfter


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()
