"""The fair scheduler: round-robin by user, a ceiling on running jobs, and honest queue positions."""

from __future__ import annotations

import random

import pytest

from bot.jobs.scheduler import FairScheduler

ALICE, BOB, CAROL = 1, 2, 3


def drain(scheduler: FairScheduler) -> list[str]:
    started = []
    while (job := scheduler.next_job()) is not None:
        started.append(job)
        scheduler.finished(job)
    return started


def test_one_users_burst_does_not_hold_back_others() -> None:
    scheduler = FairScheduler(limit=1)
    for n in range(20):
        scheduler.add(f"a{n}", ALICE)
    scheduler.add("b0", BOB)
    scheduler.add("c0", CAROL)

    order = drain(scheduler)

    assert order[:4] == ["a0", "b0", "c0", "a1"]
    assert order[4:] == [f"a{n}" for n in range(2, 20)]


def test_never_more_running_than_the_limit() -> None:
    scheduler = FairScheduler(limit=3)
    for n in range(10):
        scheduler.add(f"j{n}", n % 4)
    started = [scheduler.next_job() for _ in range(5)]
    assert started[3:] == [None, None]
    assert len(scheduler.running) == 3
    scheduler.finished(started[0])
    assert scheduler.next_job() is not None
    assert len(scheduler.running) == 3


def test_positions_follow_the_round_robin_order() -> None:
    arrivals = [("a0", ALICE), ("a1", ALICE), ("a2", ALICE), ("b0", BOB), ("b1", BOB), ("c0", CAROL)]
    scheduler, twin = FairScheduler(limit=1), FairScheduler(limit=1)
    for job, user in arrivals:
        scheduler.add(job, user)
        twin.add(job, user)

    positions = scheduler.positions()

    assert positions == {"a0": 1, "b0": 2, "c0": 3, "a1": 4, "b1": 5, "a2": 6}
    # A position is a promise: the jobs really start in that order.
    assert sorted(positions, key=positions.__getitem__) == drain(twin)


def test_position_moves_up_as_jobs_start_and_cancel() -> None:
    scheduler = FairScheduler(limit=1)
    for job, user in [("a0", ALICE), ("b0", BOB), ("c0", CAROL)]:
        scheduler.add(job, user)
    assert scheduler.position("c0") == 3
    scheduler.next_job()
    assert scheduler.position("c0") == 2
    assert scheduler.remove("b0")
    assert scheduler.position("c0") == 1
    assert scheduler.position("a0") is None  # running, not queued


def test_a_job_refused_for_lack_of_slots_goes_back_to_the_front() -> None:
    scheduler = FairScheduler(limit=2)
    scheduler.add("a0", ALICE)
    scheduler.add("b0", BOB)
    first = scheduler.next_job()
    scheduler.requeue_front(first, ALICE)
    assert first not in scheduler.running
    assert scheduler.position(first) == 1


def test_the_ceiling_follows_what_scenario_says_up_and_down() -> None:
    scheduler = FairScheduler(limit=5)
    assert scheduler.set_limit(2)
    assert scheduler.limit == 2
    assert scheduler.set_limit(4)
    assert not scheduler.set_limit(4)
    assert scheduler.limit == 4
    with pytest.raises(ValueError):
        FairScheduler(limit=0)


def test_an_unknown_ceiling_lets_jobs_start_and_a_probe_may_go_beyond_a_known_one() -> None:
    unknown = FairScheduler(limit=None)
    for n in range(3):
        unknown.add(f"j{n}", n)
    assert [unknown.next_job() for _ in range(3)] == ["j0", "j1", "j2"]

    full = FairScheduler(limit=1)
    full.add("a", 1)
    full.add("b", 2)
    assert full.next_job() == "a"
    assert full.next_job() is None
    assert full.next_job(beyond_limit=True) == "b"


def test_one_jobs_place_is_its_place_in_the_whole_line_whatever_happened_before() -> None:
    rng = random.Random(7)
    scheduler = FairScheduler(limit=3)
    for n in range(400):
        action = rng.random()
        if action < 0.6:
            scheduler.add(f"job{n}", rng.randrange(12))
        elif action < 0.8:
            if (started := scheduler.next_job()) is not None:
                scheduler.finished(started)
        elif action < 0.85:
            if (started := scheduler.next_job()) is not None:
                scheduler.requeue_front(started, rng.randrange(12))  # Scenario had no slot after all
        elif scheduler.positions():
            scheduler.remove(rng.choice(list(scheduler.positions())))
        everyone = scheduler.positions()
        assert {job_id: scheduler.position(job_id) for job_id in everyone} == everyone
    assert scheduler.position("never-queued") is None
