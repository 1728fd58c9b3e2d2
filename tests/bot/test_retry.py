"""`RetryPolicy`: the one backoff the client and the job engine share."""

from __future__ import annotations

import dataclasses

import pytest

from bot import retry
from bot.retry import RetryPolicy


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry.random, "random", lambda: 0.0)


@pytest.fixture
def most_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry.random, "random", lambda: 0.999999)


def test_defaults_are_two_retries_from_half_a_second_to_eight() -> None:
    assert RetryPolicy() == RetryPolicy(max_retries=2, initial=0.5, maximum=8.0)


@pytest.mark.usefixtures("no_jitter")
def test_delays_double_up_to_the_cap() -> None:
    policy = RetryPolicy()
    assert [policy.delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert policy.delay(10_000) == 8.0  # no overflow however many attempts
    engine = RetryPolicy(initial=2.0, maximum=30.0)  # the job engine's waits
    assert [engine.delay(n) for n in range(6)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


@pytest.mark.usefixtures("most_jitter")
def test_jitter_takes_off_at_most_a_quarter() -> None:
    policy = RetryPolicy()
    assert policy.delay(0) == pytest.approx(0.375, abs=1e-5)
    assert policy.delay(9) == pytest.approx(6.0, abs=1e-5)


def test_jitter_spreads_delays_within_the_bounds() -> None:
    delays = {RetryPolicy().delay(1) for _ in range(200)}
    assert all(0.75 <= delay <= 1.0 for delay in delays)
    assert len(delays) > 100  # random, so clients that failed together do not retry together


@pytest.mark.usefixtures("no_jitter")
@pytest.mark.parametrize(("retry_after", "expected"), [(7.0, 7.0), (0.25, 0.25), (60.0, 60.0)])
def test_a_reasonable_retry_after_is_waited_exactly(retry_after: float, expected: float) -> None:
    assert RetryPolicy().delay(3, retry_after) == expected


@pytest.mark.usefixtures("no_jitter")
@pytest.mark.parametrize("retry_after", [None, 0.0, -5.0, 60.5, 3600.0])
def test_an_unreasonable_retry_after_is_ignored(retry_after: float | None) -> None:
    assert RetryPolicy().delay(1, retry_after) == 1.0


@pytest.mark.parametrize("kwargs", [{"max_retries": -1}, {"initial": -1.0}, {"initial": 5.0, "maximum": 1.0}])
def test_nonsense_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_no_wait_at_all_is_allowed() -> None:
    assert RetryPolicy(initial=0.0, maximum=0.0).delay(5) == 0.0


def test_it_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RetryPolicy().max_retries = 5  # type: ignore[misc]


def test_it_knows_nothing_of_scenario() -> None:
    source = retry.__file__
    with open(source, encoding="utf-8") as handle:
        assert "scenario" not in "".join(line for line in handle if line.startswith(("import", "from")))
