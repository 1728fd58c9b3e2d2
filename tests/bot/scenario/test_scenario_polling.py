"""The pure poller: terminal statuses, every change reported in order, the deadline, transient errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest

from bot.scenario import (
    APIConnectionError,
    AuthenticationError,
    Job,
    JobStatus,
    JobTimeoutError,
    PollSchedule,
    ServerError,
    poll_job,
)
from bot.scenario.errors import APIResponseError, APIResponseValidationError
from fakes.clock import FakeClock


def job(status: str, progress: float = 0.0) -> Job:
    return Job(job_id="job_1", status=status, progress=progress)


def scripted(*steps: Job | Exception) -> Callable[[], Awaitable[Job]]:
    """A fetch that returns (or raises) each step in turn, then repeats the last."""
    remaining = list(steps)

    async def fetch() -> Job:
        step = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(step, Exception):
            raise step
        return step

    return fetch


@pytest.mark.parametrize("final", ["success", "failure", "canceled"])
async def test_returns_the_terminal_job(final: str) -> None:
    clock = FakeClock()
    fetch = scripted(job("queued"), job("in-progress", 0.5), job(final, 1.0))
    result = await poll_job(fetch, timeout=60, clock=clock, sleep=clock.sleep)
    assert result.status == JobStatus(final)
    assert len(clock.sleeps) == 2


async def test_every_change_is_reported_in_order_sync_and_async() -> None:
    clock = FakeClock()
    steps = [
        job("pending"), job("queued"), job("queued"), job("warming-up"), job("in-progress", 0.1),
        job("in-progress", 0.1), job("in-progress", 0.6), job("finalizing", 0.95), job("success", 1.0),
    ]  # fmt: skip
    seen_sync: list[tuple[str, float]] = []
    await poll_job(scripted(*steps), on_update=lambda j: seen_sync.append((j.status.value, j.progress)),
                   timeout=60, clock=clock, sleep=clock.sleep)  # fmt: skip
    seen_async: list[tuple[str, float]] = []

    async def record(j: Job) -> None:
        seen_async.append((j.status.value, j.progress))

    await poll_job(scripted(*steps), on_update=record, timeout=60, clock=clock, sleep=clock.sleep)
    expected = [
        ("pending", 0.0), ("queued", 0.0), ("warming-up", 0.0), ("in-progress", 0.1),
        ("in-progress", 0.6), ("finalizing", 0.95), ("success", 1.0),
    ]  # fmt: skip
    assert seen_sync == expected
    assert seen_async == expected


async def test_deadline_raises_job_timeout_with_the_last_job() -> None:
    clock = FakeClock()
    start = clock()
    with pytest.raises(JobTimeoutError) as caught:
        await poll_job(scripted(job("in-progress", 0.3)), timeout=30, clock=clock, sleep=clock.sleep)
    assert clock() - start == pytest.approx(30)
    error = caught.value
    assert error.job_id == "job_1" and error.timeout == 30
    assert error.last_job is not None and error.last_job.status is JobStatus.IN_PROGRESS
    assert "job_1" in str(error) and "30 s" in str(error) and "in-progress" in str(error)


async def test_schedule_starts_fast_and_backs_off_to_the_cap() -> None:
    clock = FakeClock()
    steps = [job("in-progress")] * 9 + [job("success")]
    await poll_job(scripted(*steps), timeout=600, schedule=PollSchedule(0.5, 2.0, 3.0, hold=0),
                   clock=clock, sleep=clock.sleep)  # fmt: skip
    assert clock.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0]
    default = PollSchedule().delays()
    first = [next(default) for _ in range(8)]
    assert first[0] <= 1.0 and first == sorted(first) and max(first) <= 5.0


def test_schedule_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        PollSchedule(initial=0)
    with pytest.raises(ValueError):
        PollSchedule(initial=5, maximum=1)


async def test_transient_errors_do_not_stop_polling(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    fetch = scripted(
        job("queued"),
        APIConnectionError("reset"),
        ServerError(503, "busy"),
        APIResponseError("cut short"),
        job("success", 1.0),
    )
    with caplog.at_level(logging.WARNING, logger="bot.scenario.polling"):
        result = await poll_job(fetch, timeout=60, clock=clock, sleep=clock.sleep)
    assert result.status is JobStatus.SUCCESS
    assert sum("will try again" in r.message for r in caplog.records) == 3


@pytest.mark.parametrize(
    "error", [AuthenticationError(401, "bad key"), APIResponseValidationError("unknown job status 'x'")]
)
async def test_other_errors_propagate(error: Exception) -> None:
    clock = FakeClock()
    with pytest.raises(type(error)):
        await poll_job(scripted(job("queued"), error), timeout=60, clock=clock, sleep=clock.sleep)


async def test_transient_errors_until_the_deadline_time_out() -> None:
    clock = FakeClock()
    with pytest.raises(JobTimeoutError) as caught:
        await poll_job(scripted(APIConnectionError("down")), timeout=10, clock=clock, sleep=clock.sleep,
                       job_id="job_9")  # fmt: skip
    assert caught.value.job_id == "job_9" and caught.value.last_job is None


async def test_a_failing_callback_does_not_abandon_the_job() -> None:
    clock = FakeClock()

    def explode(_: Job) -> None:
        raise RuntimeError("discord is down")

    result = await poll_job(scripted(job("queued"), job("success", 1.0)), on_update=explode, timeout=60,
                            clock=clock, sleep=clock.sleep)  # fmt: skip
    assert result.status is JobStatus.SUCCESS


async def test_polls_fall_due_on_a_shared_grid_counted_from_when_each_was_sent() -> None:
    clock = FakeClock(start=1000.1)
    fetched_at: list[float] = []
    steps = iter([job("queued"), job("in-progress", 0.5), job("success", 1.0)])

    async def slow_fetch() -> Job:
        fetched_at.append(clock())
        clock.advance(0.3)  # the answer takes a while: the next poll is still one delay after sending
        return next(steps)

    await poll_job(slow_fetch, timeout=60, schedule=PollSchedule(1.0, 1.0, 1.0, align=0.25), clock=clock,
                   sleep=clock.sleep)  # fmt: skip
    assert fetched_at == pytest.approx([1000.1, 1001.25, 1002.25])


async def test_wait_first_skips_the_poll_at_once() -> None:
    clock = FakeClock()
    fetched_at: list[float] = []
    fetch = scripted(job("success", 1.0))

    async def recording_fetch() -> Job:
        fetched_at.append(clock())
        return await fetch()

    await poll_job(recording_fetch, timeout=60, clock=clock, sleep=clock.sleep, wait_first=True)
    assert fetched_at == [1001.0]


def test_the_default_schedule_holds_one_second_then_backs_off_to_a_few_seconds() -> None:
    delays = PollSchedule().delays()
    first = [next(delays) for _ in range(20)]
    later = [next(delays) for _ in range(10)]
    assert first == [1.0] * 20  # jobs of up to ~20 s are noticed within a second
    assert later[0] == 1.0 and later == sorted(later) and later[-1] == 3.0  # long jobs cost fewer polls
