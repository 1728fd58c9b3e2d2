"""`MAX_PARALLEL_JOBS=auto`: the plan's ceiling learned from Scenario's own 429s, with a handful of them at most."""

from __future__ import annotations

from bot.jobs.models import JobState
from fakes.scenario import Fault
from tests.bot.jobs.conftest import Harness, new_job


def refusals(harness: Harness) -> int:
    return sum(1 for call in harness.fake.generate_calls if call.status == 429)


async def submit_burst(harness: Harness, engine, jobs: int, users: int) -> list:
    burst = [new_job(user_id=n % users, prompt=f"idea {n}") for n in range(jobs)]
    for job in burst:
        await engine.submit(job)
    return burst


async def test_the_first_429_sets_the_ceiling_exactly_and_is_the_only_one(harness: Harness) -> None:
    harness.fake.parallel_limit = 4
    harness.fake.job_duration = 300.0
    # MAX_PARALLEL_JOBS=auto: nothing configured (and no probing for a bigger plan during this test).
    # (A slow status tick: looking 3 times a second at jobs of 5 minutes only makes the test slow.)
    engine = harness.engine(max_queued_per_user=10, ceiling_probe_seconds=10_000.0, status_tick=3.0)
    await engine.start()
    assert engine.queue.ceiling.known is None
    # Scenario's time stands still until the line has reached the plan's ceiling: every sleep on the shared fake
    # clock moves it, and on a slow machine jobs could otherwise end before the fifth POST is sent.
    harness.fake.hold()
    burst = await submit_burst(harness, engine, jobs=20, users=10)
    await harness.settle(lambda: engine.queue.ceiling.known is not None)
    harness.fake.release()
    await harness.settle()

    assert engine.queue.ceiling.known == 4
    assert refusals(harness) == 1
    for job in burst:
        assert (await harness.store.get(job.id)).state is JobState.DELIVERED
    assert len([call for call in harness.fake.generate_calls if call.status == 200]) == 20


async def test_a_number_caps_the_ceiling_and_spares_the_429s(harness: Harness) -> None:
    harness.fake.parallel_limit = 4
    engine = harness.engine(max_parallel=2, max_queued_per_user=10)
    await engine.start()
    await submit_burst(harness, engine, jobs=8, users=4)
    await harness.settle()

    assert refusals(harness) == 0
    assert engine.queue.ceiling.known == 2


async def test_a_plan_that_grows_is_noticed_with_a_handful_of_429s(harness: Harness) -> None:
    harness.fake.parallel_limit = 2
    # Every sleep on the fake clock moves time on at once, and more than one loop sleeps on it (status looks,
    # progress throttles): long jobs and probe waits, in the same ratio, keep that race from ending jobs between
    # two POSTs.
    harness.fake.job_duration = 600.0  # under the 900 s job timeout
    engine = harness.engine(max_queued_per_user=40, ceiling_probe_seconds=150.0, status_tick=10.0)
    await engine.start()
    await submit_burst(harness, engine, jobs=12, users=6)
    await harness.settle(lambda: engine.queue.ceiling.known is not None)  # learned (2; a probe may follow soon)
    harness.fake.parallel_limit = 5  # the team upgraded its plan while work was waiting
    await submit_burst(harness, engine, jobs=30, users=6)
    await harness.settle()

    # Probes raised it past 2 towards the plan's new number: each probe Scenario takes adds one, and one that
    # meets a full plan gets a 429 saying 5 (one taken just as a job ends, before the bot has noticed, is one too
    # many, corrected by the next 429). How far it gets before the last job ends depends on when jobs end on
    # the fake clock, which every sleep moves: the growth is certain, the final number is not.
    assert 3 <= engine.queue.ceiling.known <= 6
    # The first 429, then one per probe that found the plan full, each wait twice the last: within this
    # test's few minutes of saturation (probes every 5 s at first) that is a handful; at the default 60 s, and
    # with jobs shorter than these, a whole run sees one or two.
    assert refusals(harness) <= 6
    assert len([call for call in harness.fake.generate_calls if call.status == 200]) == 42


async def test_a_429_without_the_plans_number_keeps_what_fits(harness: Harness) -> None:
    harness.fake.inject(Fault(method="POST", path=r"^/v1/generate/", status=429, body={"reason": "Too many"}))
    engine = harness.engine()
    await engine.start()
    job = new_job()
    await engine.submit(job)
    await harness.settle()

    assert engine.queue.ceiling.known == 1  # nothing else was running: at least one must fit
    assert (await harness.store.get(job.id)).state is JobState.DELIVERED
