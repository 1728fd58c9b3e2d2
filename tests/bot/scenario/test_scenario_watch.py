"""The batched status loop against the fake Scenario on loopback: one `GET /jobs` per tick for every job."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.scenario import IDEOGRAM_V4, Job, JobFailedError, JobTimeoutError, ScenarioClient, StatusWatch
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario
from fakes.scenario._state import parse_iso_ms


def watch_for(client: ScenarioClient, clock: FakeClock, **options: object) -> StatusWatch:
    return StatusWatch(client, clock=clock, sleep=clock.sleep, **options)  # type: ignore[arg-type]


async def start_jobs(client: ScenarioClient, count: int) -> list[str]:
    return [(await client.submit_generate(IDEOGRAM_V4, {"prompt": f"job {n}"})).job.job_id for n in range(count)]


def direct_looks(fake: FakeScenario) -> list[str]:
    return [path for method, path in fake.request_log if method == "GET" and path.startswith("/v1/jobs/")]


def listings(fake: FakeScenario) -> list[tuple[str, str]]:
    return [entry for entry in fake.request_log if entry == ("GET", "/v1/jobs")]


async def test_one_listing_per_tick_reports_every_job_with_its_progress(
    client: ScenarioClient, fake: FakeScenario, clock: FakeClock
) -> None:
    watch = watch_for(client, clock, tick=0.25)
    job_ids = await start_jobs(client, 6)
    updates: dict[str, list[tuple[str, float]]] = {job_id: [] for job_id in job_ids}

    def on_update(job: Job) -> None:
        updates[job.job_id].append((job.status.value, job.progress))

    start = clock()
    done = await asyncio.gather(
        *(watch.wait_for_job(job_id, on_update=on_update, wait_first=True) for job_id in job_ids)
    )

    assert [job.status.value for job in done] == ["success"] * 6
    assert direct_looks(fake) == []  # every status came from the listing
    ticks = (clock() - start) / 0.25
    assert len(listings(fake)) <= ticks + 1  # one request a tick for all six jobs, not six
    for query in fake.list_queries:
        assert query["types"] == "custom" and "updatedAfter" in query
    for seen in updates.values():
        in_progress = [progress for status, progress in seen if status == "in-progress"]
        assert len(in_progress) > 5 and in_progress == sorted(in_progress)  # the bar moves, never back
        assert seen[-1] == ("success", 1.0)
    # Every job was noticed within one tick of turning success on Scenario.
    for job in done:
        noticed = fake.status_first_seen[job.job_id]["success"]
        assert noticed - fake.jobs[job.job_id].end_at <= 0.25 + 1e-6


async def test_progress_alone_reaches_a_waiter_at_most_every_progress_every_and_each_status_at_once(
    client: ScenarioClient, fake: FakeScenario, clock: FakeClock
) -> None:
    watch = watch_for(client, clock, tick=0.25)
    [job_id] = await start_jobs(client, 1)
    seen: list[tuple[float, str, float]] = []

    def on_update(job: Job) -> None:
        seen.append((clock(), job.status.value, job.progress))

    done = await watch.wait_for_job(job_id, on_update=on_update, wait_first=True, progress_every=3.0)

    assert done.status.value == "success"
    statuses = [status for _, status, _ in seen]
    assert statuses[-1] == "success"
    assert {"warming-up", "in-progress", "finalizing"} <= set(statuses)  # no status is held back
    in_progress = [(at, progress) for at, status, progress in seen if status == "in-progress"]
    assert [p for _, p in in_progress] == sorted(p for _, p in in_progress)  # the bar moves, never back
    for (before, _), (after, _) in itertools.pairwise(in_progress):
        assert after - before >= 3.0  # progress alone, at most every 3 s
    # Far fewer wake-ups than the steps Scenario reported, and still more than one move of the bar.
    assert 1 < len(in_progress) < 10
    # What is passed on is the newest progress listed (at the last tick or the one before), not the first
    # move of the window it was held back in.
    fake_job = fake.jobs[job_id]
    for at, progress in in_progress:
        assert progress >= fake_job.view(at - 0.5).progress


async def test_the_watermark_is_scenarios_clock_less_an_overlap(
    client: ScenarioClient, fake: FakeScenario, clock: FakeClock
) -> None:
    watch = watch_for(client, clock, tick=0.25, overlap=1.0)
    [job_id] = await start_jobs(client, 1)
    await watch.wait_for_job(job_id, wait_first=True)

    after = [parse_iso_ms(query["updatedAfter"]) for query in fake.list_queries]
    assert after == sorted(after)  # it never moves back
    # Each look starts 1 s before the newest update already seen, on Scenario's clock (the fake's ms), so a
    # change stamped in the same millisecond as one seen is not lost; the success was never skipped over.
    success_ms = fake.timebase.to_ms(fake.jobs[job_id].end_at)
    assert all(value < success_ms for value in after)


async def test_pages_are_followed_even_when_short(client: ScenarioClient, fake: FakeScenario, clock: FakeClock) -> None:
    fake.list_page_limit = 1  # Scenario answers one job a page, each page with a token for the next
    watch = watch_for(client, clock, quiet_seconds=1000.0, max_quiet_seconds=1000.0)
    job_ids = await start_jobs(client, 3)

    done = await asyncio.gather(*(watch.wait_for_job(job_id, wait_first=True) for job_id in job_ids))

    assert [job.status.value for job in done] == ["success"] * 3
    assert direct_looks(fake) == []  # found on later pages, not by looking at them one by one
    assert any("paginationToken" in query for query in fake.list_queries)


async def test_a_job_the_list_leaves_out_still_finishes(
    client: ScenarioClient, fake: FakeScenario, clock: FakeClock
) -> None:
    watch = watch_for(client, clock, tick=0.25, quiet_seconds=2.0, max_quiet_seconds=4.0)
    [listed] = await start_jobs(client, 1)
    fake.hide_next_job_from_list()
    [hidden] = await start_jobs(client, 1)

    done = await asyncio.gather(
        watch.wait_for_job(listed, wait_first=True), watch.wait_for_job(hidden, wait_first=True)
    )

    assert [job.status.value for job in done] == ["success", "success"]
    looked_at = direct_looks(fake)
    assert looked_at and set(looked_at) == {f"/v1/jobs/{hidden}"}  # only the job the list left out
    # It cost latency (at most the longest quiet wait and a tick), not the job.
    assert fake.status_first_seen[hidden]["success"] - fake.jobs[hidden].end_at <= 4.0 + 0.25 + 1e-6


async def test_no_request_while_nothing_is_in_flight(
    client: ScenarioClient, fake: FakeScenario, clock: FakeClock
) -> None:
    watch = watch_for(client, clock, tick=0.25)
    await asyncio.sleep(0.05)
    clock.advance(60)
    assert fake.request_log == []  # a watch with nothing to watch asks nothing

    [job_id] = await start_jobs(client, 1)
    job = await watch.wait_for_job(job_id, wait_first=True)
    # Its images' URLs came with the tick that saw it succeed (one get-bulk), ready for the post.
    assets = await watch.take_assets(job.metadata.asset_ids)
    assert assets is not None and [asset.id for asset in assets] == job.metadata.asset_ids
    assert watch.in_flight == 0
    before = len(fake.request_log)
    for _ in range(20):  # let any loop that wrongly kept going run a while
        await asyncio.sleep(0.005)
        clock.advance(1.0)
    assert len(fake.request_log) == before


async def test_a_failure_comes_with_scenarios_reason(
    client: ScenarioClient, fake: FakeScenario, clock: FakeClock
) -> None:
    watch = watch_for(client, clock)
    fake.fail_next_job("The provider refused the prompt", "Try other words")
    [job_id] = await start_jobs(client, 1)

    with pytest.raises(JobFailedError) as caught:
        await watch.wait_for_job(job_id, wait_first=True)
    assert (caught.value.error, caught.value.hint) == ("The provider refused the prompt", "Try other words")


async def test_a_job_that_never_ends_times_out(client: ScenarioClient, fake: FakeScenario, clock: FakeClock) -> None:
    fake.job_duration = 10_000.0
    watch = watch_for(client, clock, tick=1.0, max_quiet_seconds=60.0)
    [job_id] = await start_jobs(client, 1)

    with pytest.raises(JobTimeoutError) as caught:
        await watch.wait_for_job(job_id, timeout=30.0, wait_first=True)
    assert caught.value.job_id == job_id and caught.value.timeout == 30.0


async def test_a_resumed_job_is_looked_at_directly_at_once(
    client: ScenarioClient, fake: FakeScenario, clock: FakeClock
) -> None:
    # A job that ended while the bot was down is older than anything the listing will show (here: never shown).
    fake.hide_next_job_from_list()
    [job_id] = await start_jobs(client, 1)
    clock.advance(3600)
    watch = watch_for(client, clock, quiet_seconds=1000.0, max_quiet_seconds=1000.0)

    job = await watch.wait_for_job(job_id)

    assert job.status.value == "success"
    assert direct_looks(fake) == [f"/v1/jobs/{job_id}"]


async def test_a_hint_looks_at_the_job_at_once(client: ScenarioClient, fake: FakeScenario, clock: FakeClock) -> None:
    watch = watch_for(client, clock, tick=5.0, quiet_seconds=10_000.0, max_quiet_seconds=10_000.0)
    fake.hide_next_job_from_list()
    [job_id] = await start_jobs(client, 1)
    waiting = asyncio.create_task(watch.wait_for_job(job_id, wait_first=True))
    await asyncio.sleep(0)
    assert not watch.hint("job_unknown")  # not one of ours: nothing looked at

    clock.advance(fake.jobs[job_id].duration)  # it has ended, but the list will never say so
    assert watch.hint(job_id)
    job = await asyncio.wait_for(waiting, 5)

    assert job.status.value == "success"
    assert direct_looks(fake) == [f"/v1/jobs/{job_id}"]
    await watch.close()
