"""Retries only where safe: GETs retried with backoff and Retry-After; POST /generate never blindly."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.scenario import (
    IDEOGRAM_V4,
    APIConnectionError,
    PlanLimitError,
    ScenarioClient,
    ServerError,
    SubmitUncertainError,
)
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario, Fault

GENERATE = r"^/v1/generate/"
JOBS = r"^/v1/jobs/"
BODY = {"prompt": "a red fox", "numOutputs": 1}


def _calls(fake: FakeScenario) -> int:
    return len(fake.generate_calls)


# -- idempotent requests ------------------------------------------------------------------------------


async def test_get_retried_on_5xx_then_succeeds(fake: FakeScenario, client: ScenarioClient,
                                                clock: FakeClock) -> None:  # fmt: skip
    job_id = (await client.run_model(IDEOGRAM_V4, BODY)).job.job_id
    fake.inject(Fault(method="GET", path=JOBS, status=503, times=2))
    assert (await client.get_job(job_id)).job_id == job_id
    assert sum(path.startswith("/v1/jobs/") for _, path in fake.request_log) == 3
    first, second = clock.sleeps
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0  # jittered exponential backoff


@pytest.mark.parametrize(("headers", "expected"), [({"Retry-After": "7"}, 7.0), ({"retry-after-ms": "1500"}, 1.5)])
async def test_retry_after_is_honoured(fake: FakeScenario, client: ScenarioClient, clock: FakeClock,
                                       headers: dict[str, str], expected: float) -> None:  # fmt: skip
    job_id = (await client.run_model(IDEOGRAM_V4, BODY)).job.job_id
    fake.inject(Fault(method="GET", path=JOBS, status=429, headers=headers))
    await client.get_job(job_id)
    assert clock.sleeps == [expected]


async def test_x_should_retry_false_is_obeyed(fake: FakeScenario, client: ScenarioClient) -> None:
    job_id = (await client.run_model(IDEOGRAM_V4, BODY)).job.job_id
    fake.inject(Fault(method="GET", path=JOBS, status=500, headers={"x-should-retry": "false"}))
    with pytest.raises(ServerError):
        await client.get_job(job_id)


async def test_polling_survives_errors_between_polls(fake: FakeScenario, client: ScenarioClient) -> None:
    job_id = (await client.run_model(IDEOGRAM_V4, BODY)).job.job_id
    fake.inject(Fault(method="GET", path=JOBS, status=500, times=4))  # more than one get_job's retries
    job = await client.wait_for_job(job_id)
    assert job.status.value == "success"


# -- POST /generate -----------------------------------------------------------------------------------


async def test_lost_response_after_the_job_was_created_gives_exactly_one_job(
    fake: FakeScenario, client: ScenarioClient
) -> None:
    fake.inject(Fault(method="POST", path=GENERATE, kind="reset_after"))
    result = await client.run_model(IDEOGRAM_V4, BODY)
    assert _calls(fake) == 1 and len(fake.jobs) == 1
    assert result.job.job_id in fake.jobs and result.recovered and result.creative_units_cost is None
    assert (await client.wait_for_job(result.job.job_id)).status.value == "success"


async def test_malformed_answer_recovers_the_created_job(fake: FakeScenario, client: ScenarioClient) -> None:
    fake.inject(Fault(method="POST", path=GENERATE, kind="malformed"))
    result = await client.run_model(IDEOGRAM_V4, BODY)
    assert _calls(fake) == 1 and list(fake.jobs) == [result.job.job_id] and result.recovered


async def test_429_is_raised_without_retry(fake: FakeScenario, client: ScenarioClient, clock: FakeClock) -> None:
    fake.inject(Fault(method="POST", path=GENERATE, status=429, headers={"Retry-After": "1"}))
    with pytest.raises(PlanLimitError) as caught:
        await client.run_model(IDEOGRAM_V4, BODY)
    assert caught.value.action_limit == 3
    assert _calls(fake) == 1 and not fake.jobs and clock.sleeps == []


async def test_5xx_from_scenario_without_a_job_is_resubmitted_once(fake: FakeScenario,
                                                                   client: ScenarioClient) -> None:  # fmt: skip
    fake.inject(Fault(method="POST", path=GENERATE, status=500))
    result = await client.run_model(IDEOGRAM_V4, BODY)
    assert _calls(fake) == 2 and list(fake.jobs) == [result.job.job_id] and not result.recovered
    assert any(path == "/v1/jobs" for _, path in fake.request_log)  # looked before resending


async def test_5xx_twice_is_raised_after_one_resubmission(fake: FakeScenario, client: ScenarioClient) -> None:
    fake.inject(Fault(method="POST", path=GENERATE, status=500, times=5))
    with pytest.raises(ServerError):
        await client.run_model(IDEOGRAM_V4, BODY)
    assert _calls(fake) == 2 and not fake.jobs


@pytest.mark.parametrize(
    "fault",
    [
        Fault(method="POST", path=GENERATE, status=502, body="<html>502 Bad Gateway</html>"),
        Fault(method="POST", path=GENERATE, status=504),
        Fault(method="POST", path=GENERATE, kind="reset_before"),
    ],
    ids=["502-not-json", "504", "reset-before-handling"],
)
async def test_uncertain_failures_are_not_resubmitted(fake: FakeScenario, client: ScenarioClient,
                                                      fault: Fault) -> None:  # fmt: skip
    fake.inject(fault)
    with pytest.raises(SubmitUncertainError) as caught:
        await client.run_model(IDEOGRAM_V4, BODY)
    assert _calls(fake) == 1 and not fake.jobs
    assert "may have reached Scenario" in str(caught.value) and "not sent again" in str(caught.value)


async def test_when_the_search_fails_nothing_is_resubmitted(fake: FakeScenario, client: ScenarioClient) -> None:
    fake.inject(Fault(method="POST", path=GENERATE, kind="reset_after"))
    fake.inject(Fault(method="GET", path=r"^/v1/jobs$", status=500, times=100))
    with pytest.raises(SubmitUncertainError):
        await client.run_model(IDEOGRAM_V4, BODY)
    assert _calls(fake) == 1 and len(fake.jobs) == 1


async def test_timeout_on_generate_is_uncertain_and_not_resubmitted(
    fake: FakeScenario, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    assert fake.base_url is not None
    client = ScenarioClient(session, fake.api_key or "", fake.api_secret or "", fake.base_url,
                            request_timeout=0.2, sleep=clock.sleep)  # fmt: skip
    fake.inject(Fault(method="POST", path=GENERATE, kind="delay", delay=0.5))
    with pytest.raises(SubmitUncertainError, match=r"did not answer within 0\.2 s"):
        await client.run_model(IDEOGRAM_V4, BODY)
    assert _calls(fake) <= 1 and not fake.jobs
    assert sum(path == "/v1/jobs" for _, path in fake.request_log) == 3  # searched three times
    await asyncio.sleep(0.4)  # let the fake's delayed handler finish before teardown


async def test_exclude_job_ids_skips_jobs_already_known(fake: FakeScenario, client: ScenarioClient,
                                                        clock: FakeClock) -> None:  # fmt: skip
    first = (await client.run_model(IDEOGRAM_V4, BODY)).job.job_id
    clock.advance(0.5)
    fake.inject(Fault(method="POST", path=GENERATE, kind="reset_after"))
    second = await client.run_model(IDEOGRAM_V4, BODY, exclude_job_ids={first})
    assert second.job.job_id != first and second.job.job_id in fake.jobs and len(fake.jobs) == 2
    # Without the exclusion the earliest matching job would be taken.
    found = await client.find_submitted_job(IDEOGRAM_V4, BODY, since=datetime.now(UTC) - timedelta(minutes=1))
    assert found is not None and found.job_id == first
    other = await client.find_submitted_job(IDEOGRAM_V4, {**BODY, "seed": 5}, since=datetime.now(UTC))
    assert other is None


async def test_connection_refused_is_sent_again_once_then_raised(session: aiohttp.ClientSession,
                                                                 clock: FakeClock) -> None:  # fmt: skip
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ScenarioClient(session, "k", "s", f"http://127.0.0.1:{port}/v1", sleep=clock.sleep)
    with pytest.raises(APIConnectionError) as caught:
        await client.run_model(IDEOGRAM_V4, BODY)
    assert caught.value.request_sent is False
    assert len(clock.sleeps) == 1  # one backoff before the single resubmission, and no search
