"""The job engine against the fake Scenario: exactly once, fair, capped, resumable, and honest about failure."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.errors import InvalidInputError, NotAllowedError, QueueFullError, UserFacingError
from bot.jobs._board import FAR_POSITION_SECONDS
from bot.jobs.delivery import DeliveryError
from bot.jobs.models import JobState
from bot.jobs.queue import POSITION_EDITS_AT_ONCE
from fakes.scenario import Fault
from tests.bot.jobs.conftest import Harness, new_job


async def test_a_job_is_submitted_once_and_its_images_delivered_once(harness: Harness) -> None:
    engine = harness.engine()
    await engine.start()
    job = new_job(numOutputs=2)

    await engine.submit(job)
    await harness.settle()

    record = await harness.store.get(job.id)
    assert record.state is JobState.DELIVERED
    assert len(harness.fake.generate_calls) == 1
    assert harness.fake.generate_calls[0].body == {"prompt": "a lighthouse at dusk", "numOutputs": 2}
    [images] = harness.delivery.delivered[job.id]
    served = [harness.fake.assets[asset_id].data for asset_id in record.output_asset_ids]
    assert [image.data for image in images] == served
    assert record.seeds and all(seed is not None for seed in record.seeds)
    assert record.scenario_job_id == harness.fake.generate_calls[0].job_id


async def test_progress_shows_status_words_and_a_bar(harness: Harness) -> None:
    # A long job: fake time moves with every status tick, and a job of a few seconds can pass through its
    # in-progress steps between two real-I/O steps of the bot. This one stays in progress for many ticks.
    harness.fake.job_duration = 120.0
    engine = harness.engine(progress_interval=0.0)
    await engine.start()
    job = new_job()
    await engine.submit(job)

    def shows_a_bar() -> bool:
        texts = harness.delivery.progress.get(job.id, [])
        return any("In progress" in text and "▰" in text and "%" in text for text in texts)

    await harness.settle(shows_a_bar)
    await harness.settle()

    assert harness.delivery.progress[job.id][0].startswith("⏳ Queued")
    assert job.id in harness.delivery.delivered


async def test_one_users_burst_does_not_hold_back_another_user(harness: Harness) -> None:
    engine = harness.engine(max_parallel=1, max_queued_per_user=10)
    greedy = [new_job(user_id=1, prompt=f"greedy {n}") for n in range(6)]
    for job in greedy:  # all in line before the engine starts: the order is the line's, not the admissions' pace
        await engine.submit(job)
    polite = new_job(user_id=2, prompt="polite")
    await engine.submit(polite)
    await engine.start()
    await harness.settle()

    order = [call.body["prompt"] for call in harness.fake.generate_calls]
    assert order[:3] == ["greedy 0", "polite", "greedy 1"], order  # turns: the burst waits behind one other
    assert {job.id for job in greedy} | {polite.id} == set(harness.delivery.delivered)


async def test_waiting_users_see_their_position_move_up(harness: Harness) -> None:
    engine = harness.engine(max_parallel=1)
    jobs = [new_job(user_id=user, prompt=f"user {user}") for user in (1, 2, 3)]
    for job in jobs:  # all in line before the engine starts: each admission's pace cannot move anyone
        await engine.submit(job)
    await engine.start()
    await harness.settle()

    last = harness.delivery.progress[jobs[2].id]
    assert "position 3" in last[0] or "position 2" in last[0]
    queued = [text for text in last if text.startswith("⏳")]
    assert queued[-1] == "⏳ Queued — you're next. · ≈ 6 CU"  # the price Scenario quoted, while it waits


async def test_the_plan_ceiling_is_learned_from_a_429_and_never_exceeded(harness: Harness) -> None:
    harness.fake.parallel_limit = 2
    engine = harness.engine(max_parallel=5, max_queued_per_user=10, slot_retry_seconds=1.0)
    jobs = [new_job(user_id=n % 3, prompt=f"job {n}") for n in range(8)]
    for job in jobs:  # all waiting when the engine starts: five go at once and three meet the plan's ceiling
        await engine.submit(job)
    await engine.start()
    await harness.settle()

    assert engine.queue.scheduler.limit == 2
    accepted = [call for call in harness.fake.generate_calls if call.status == 200]
    refused = [call for call in harness.fake.generate_calls if call.status == 429]
    assert len(accepted) == len(jobs)  # exactly one paid job each
    assert len(refused) <= 3  # learned at once: only the jobs already in flight hit the ceiling
    assert [(await harness.store.get(job.id)).state for job in jobs] == [JobState.DELIVERED] * len(jobs)
    assert max_overlap(harness) <= 2


def max_overlap(harness: Harness) -> int:
    """The most Scenario jobs that were running at the same moment."""
    events = []
    for job in harness.fake.jobs.values():
        events += [(job.created_at, 1), (job.success_at, -1)]
    running = peak = 0
    for _, change in sorted(events, key=lambda event: (event[0], event[1])):
        running += change
        peak = max(peak, running)
    return peak


async def test_waiting_for_a_free_slot_is_shown_to_the_user(harness: Harness) -> None:
    harness.fake.inject(
        Fault(
            method="POST",
            path=r"^/v1/generate/",
            kind="status",
            status=429,
            body={
                "reason": "You have reached your plan's limit.",
                "name": "PlanLimitReachedError",
                "details": {"actionName": "parallel-custom-jobs", "actionLimit": 3, "actionValue": 3},
            },
        )
    )
    engine = harness.engine(slot_retry_seconds=1.0)
    await engine.start()
    job = new_job()
    await engine.submit(job)
    await harness.settle()

    assert any("Waiting for a free slot" in text for text in harness.delivery.progress[job.id])
    assert (await harness.store.get(job.id)).state is JobState.DELIVERED


async def test_a_failed_job_tells_the_user_scenarios_error_and_hint(harness: Harness) -> None:
    harness.fake.fail_next_job(error="The prompt was refused", hint="Try describing it differently")
    engine = harness.engine()
    await engine.start()
    job = new_job()
    await engine.submit(job)
    await harness.settle()

    record = await harness.store.get(job.id)
    assert record.state is JobState.FAILED
    [text] = harness.delivery.failures[job.id]
    assert "The prompt was refused" in text and "Try describing it differently" in text


async def test_a_refused_request_spends_nothing_and_says_why(harness: Harness) -> None:
    engine = harness.engine()
    await engine.start()
    job = new_job(imageSize="enormous")
    with pytest.raises(InvalidInputError, match="imageSize"):  # Scenario's dry run refused it: said at once
        await engine.submit(job)
    await harness.settle()

    assert await harness.store.get(job.id) is None
    assert not harness.fake.jobs and not harness.fake.generate_calls


async def test_per_user_queue_cap_and_cancel(harness: Harness) -> None:
    engine = harness.engine(max_parallel=1, max_queued_per_user=2)
    harness.delivery.gate = None
    jobs = [new_job(user_id=7, prompt=f"n{n}") for n in range(2)]
    for job in jobs:  # not started: nothing runs until start()
        await engine.submit(job)
    with pytest.raises(QueueFullError, match="2 jobs waiting"):
        await engine.submit(new_job(user_id=7))
    engine.check_capacity(8)  # someone else is not affected

    with pytest.raises(NotAllowedError):
        await engine.cancel(jobs[1].id, user_id=8)
    canceled = await engine.cancel(jobs[1].id, user_id=7)
    assert canceled.state is JobState.CANCELED
    await engine.start()
    await harness.settle()
    assert [call.body["prompt"] for call in harness.fake.generate_calls] == ["n0"]
    with pytest.raises(UserFacingError, match="only queued jobs"):
        await engine.cancel(jobs[0].id, user_id=7)


async def test_a_restart_resumes_queued_and_in_flight_jobs_without_resubmitting(harness: Harness) -> None:
    first = harness.engine(max_parallel=1)
    jobs = [new_job(user_id=n, prompt=f"p{n}") for n in range(3)]
    for job in jobs:
        await first.submit(job)
    harness.delivery.gate = asyncio.Event()  # the first job's images are made, but not posted yet
    await first.start()
    await harness.wait_for_state(jobs[0].id, JobState.DELIVERING)
    await first.shutdown()
    states = [(await harness.store.get(job.id)).state for job in jobs]
    # The first job's images wait to be posted; Scenario is done with it, so its slot went to the next one.
    assert states[0] is JobState.DELIVERING and JobState.QUEUED in states[1:], states
    harness.delivery.gate.set()

    second = harness.engine(max_parallel=1)
    await second.start()
    await harness.settle()

    assert len(harness.fake.generate_calls) == 3
    for job in jobs:
        assert (await harness.store.get(job.id)).state is JobState.DELIVERED
        assert len(harness.delivery.delivered[job.id]) == 1
        assert any("restarted" in text for text in harness.delivery.progress[job.id])


async def test_an_interrupted_submission_is_found_at_scenario_not_sent_again(harness: Harness) -> None:
    job = new_job()
    await harness.store.add(job)
    # The process died after POST /generate reached Scenario but before the job id was recorded.
    started = job.created_at + timedelta(seconds=1)
    await harness.store.update(job.id, state=JobState.SUBMITTING, submit_started_at=started, attempts=1)
    await harness.client.submit_generate(job.model_id, job.inputs)

    engine = harness.engine()
    await engine.start()
    await harness.settle()

    assert len(harness.fake.generate_calls) == 1
    record = await harness.store.get(job.id)
    assert record.state is JobState.DELIVERED
    assert record.scenario_job_id == harness.fake.generate_calls[0].job_id


async def test_an_interrupted_submission_that_never_reached_scenario_is_sent_once(harness: Harness) -> None:
    job = new_job()
    await harness.store.add(job)
    await harness.store.update(job.id, state=JobState.SUBMITTING, submit_started_at=job.created_at, attempts=1)

    engine = harness.engine()
    await engine.start()
    await harness.settle()

    assert len(harness.fake.generate_calls) == 1
    assert (await harness.store.get(job.id)).state is JobState.DELIVERED


async def test_a_lost_generate_response_still_makes_exactly_one_job(harness: Harness) -> None:
    harness.fake.inject(Fault(method="POST", path=r"^/v1/generate/", kind="reset_after"))
    engine = harness.engine()
    await engine.start()
    job = new_job()
    await engine.submit(job)
    await harness.settle()

    assert len(harness.fake.generate_calls) == 1
    assert (await harness.store.get(job.id)).state is JobState.DELIVERED


async def test_delivery_is_retried_then_kept_as_undelivered_with_the_reason(harness: Harness) -> None:
    harness.delivery.fail_with = [
        DeliveryError("Discord failed (503)", retryable=True),
        DeliveryError("the bot may not post in that channel or send you a DM"),
    ]
    engine = harness.engine()
    await engine.start()
    job = new_job()
    await engine.submit(job)
    await harness.settle()

    record = await harness.store.get(job.id)
    assert record.state is JobState.UNDELIVERED  # not failed: the images exist, and /show can post them
    assert "may not post in that channel" in record.last_error
    assert harness.delivery.failures[job.id] == [record.last_error]  # the requester is told, with the hint
    assert f"/show {job.id}" in record.last_error
    assert record.output_asset_ids  # the images are kept for /show


async def test_a_wave_of_position_edits_goes_out_a_few_at_a_time_and_never_after_the_start(
    harness: Harness,
) -> None:
    engine = harness.engine(max_parallel=1, max_queued_per_user=1, progress_interval=0.0)
    in_flight, most, gate = 0, 0, asyncio.Event()
    record = harness.delivery.show_progress

    async def slow_position_edit(job, text: str) -> None:  # Discord answering position edits slowly
        nonlocal in_flight, most
        if text.startswith("⏳") and gate_on:
            in_flight += 1
            most = max(most, in_flight)
            await gate.wait()
            in_flight -= 1
        await record(job, text)

    gate_on = False
    harness.delivery.show_progress = slow_position_edit
    await engine.start()
    jobs = [new_job(user_id=user, prompt=f"user {user}") for user in range(30)]
    for job in jobs:
        await engine.submit(job)
    gate_on = True
    harness.clock.advance(FAR_POSITION_SECONDS)  # every place in line is due to be shown again at the next move
    await harness.settle(lambda: in_flight == POSITION_EDITS_AT_ONCE)
    for _ in range(20):
        await asyncio.sleep(0)
    assert in_flight == most == POSITION_EDITS_AT_ONCE  # the rest of the wave waits its turn
    gate.set()
    await harness.settle()

    assert most == POSITION_EDITS_AT_ONCE
    moved = [job for job in jobs[2:] if len(harness.delivery.progress[job.id]) > 1]
    assert len(moved) > POSITION_EDITS_AT_ONCE  # the whole wave went out in the end
    for job in jobs:
        texts = harness.delivery.progress[job.id]
        started = next(i for i, text in enumerate(texts) if text.startswith("🎨"))
        assert not any(text.startswith("⏳") for text in texts[started:]), texts  # no stale place after the start


async def test_far_back_positions_are_shown_once_a_minute_and_near_the_front_every_move_that_will_be_seen(
    harness: Harness,
) -> None:
    board = harness.engine(progress_interval=5.0).board
    board.remember_position("job", 500)
    assert not board.position_worth_showing("job", 300)  # a long line moves often: not on every move
    harness.clock.advance(30.0)
    assert not board.position_worth_showing("job", 250)
    harness.clock.advance(30.0)
    assert board.position_worth_showing("job", 250)  # a minute after the last number shown
    assert not board.position_worth_showing("job", 10)  # within the minute, and not yet near the front

    board.remember_position("slow", 5)  # a slow line: a job starts every 2 s
    harness.clock.advance(4.0)
    assert board.position_worth_showing("slow", 3)
    harness.clock.advance(2.0)
    assert board.position_worth_showing("slow", 2)
    assert not board.position_worth_showing("slow", 2)

    board.remember_position("fast", 40)  # 37 places in 2 s: it leaves 3rd place in a fraction of a second
    harness.clock.advance(2.0)
    assert not board.position_worth_showing("fast", 3)
    harness.clock.advance(58.0)
    assert board.position_worth_showing("fast", 3)  # the line stalled: a minute on, the number is shown
