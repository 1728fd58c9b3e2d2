"""Retries only where safe: idempotent requests retried with the client's policy, one predicate for all.

The paid POST /generate is never retried (see test_scenario_submit.py). Every wait goes through the
FakeClock, so `clock.sleeps` is the exact list of backoff delays and nothing sleeps for real.
"""

from __future__ import annotations

import aiohttp
import pytest

from bot.retry import RetryPolicy
from bot.scenario import (
    IDEOGRAM_V4,
    APIStatusError,
    ScenarioClient,
    ServerError,
)
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario, Fault

JOBS = r"^/v1/jobs/"
BODY = {"prompt": "a red fox", "numOutputs": 1}


def _job_gets(fake: FakeScenario, job_id: str) -> int:
    return sum(method == "GET" and path == f"/v1/jobs/{job_id}" for method, path in fake.request_log)


async def _job_id(client: ScenarioClient) -> str:
    return (await client.submit_generate(IDEOGRAM_V4, BODY)).job.job_id


async def test_get_retried_on_5xx_then_succeeds(fake: FakeScenario, client: ScenarioClient,
                                                clock: FakeClock) -> None:  # fmt: skip
    job_id = await _job_id(client)
    fake.inject(Fault(method="GET", path=JOBS, status=503, times=2))
    assert (await client.get_job(job_id)).job_id == job_id
    assert _job_gets(fake, job_id) == 3
    first, second = clock.sleeps
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0  # jittered exponential backoff


@pytest.mark.parametrize(("headers", "expected"), [({"Retry-After": "7"}, 7.0), ({"retry-after-ms": "1500"}, 1.5)])
async def test_retry_after_is_honoured(fake: FakeScenario, client: ScenarioClient, clock: FakeClock,
                                       headers: dict[str, str], expected: float) -> None:  # fmt: skip
    job_id = await _job_id(client)
    fake.inject(Fault(method="GET", path=JOBS, status=429, headers=headers))
    await client.get_job(job_id)
    assert clock.sleeps == [expected] and _job_gets(fake, job_id) == 2


async def test_the_client_follows_the_policy_it_was_given(
    fake: FakeScenario, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    assert fake.base_url is not None
    patient = ScenarioClient(session, fake.api_key or "", fake.api_secret or "", fake.base_url, sleep=clock.sleep,
                             retry=RetryPolicy(max_retries=4, initial=1.0, maximum=2.0))  # fmt: skip
    job_id = await _job_id(patient)
    fake.inject(Fault(method="GET", path=JOBS, status=503, times=4))
    assert (await patient.get_job(job_id)).job_id == job_id
    assert _job_gets(fake, job_id) == 5 and len(clock.sleeps) == 4
    assert 0.75 <= clock.sleeps[0] <= 1.0 and all(1.5 <= delay <= 2.0 for delay in clock.sleeps[1:])

    impatient = ScenarioClient(session, fake.api_key or "", fake.api_secret or "", fake.base_url,
                               sleep=clock.sleep, retry=RetryPolicy(max_retries=0))  # fmt: skip
    fake.inject(Fault(method="GET", path=JOBS, status=503))
    with pytest.raises(ServerError):
        await impatient.get_job(job_id)
    assert _job_gets(fake, job_id) == 6 and len(clock.sleeps) == 4


@pytest.mark.parametrize(
    ("status", "headers", "retried"),
    [
        (409, {}, True),
        (408, {}, True),
        (429, {}, True),
        (500, {}, True),
        (400, {}, False),
        (404, {}, False),
        (503, {"x-should-retry": "false"}, False),
        (400, {"x-should-retry": "true"}, True),
    ],
)
async def test_one_predicate_decides_for_requests_and_polling(
    fake: FakeScenario, client: ScenarioClient, clock: FakeClock, status: int, headers: dict[str, str], retried: bool
) -> None:
    job_id = await _job_id(client)

    # A single request (`_http.retrying`): retried once past one failure, or raised at once.
    fake.inject(Fault(method="GET", path=JOBS, status=status, headers=headers))
    if retried:
        assert (await client.get_job(job_id)).job_id == job_id
    else:
        with pytest.raises(APIStatusError) as caught:
            await client.get_job(job_id)
        assert caught.value.status == status
    assert _job_gets(fake, job_id) == (2 if retried else 1)

    # Polling: goes on past more failures than one request's retries, or stops at the first one.
    fake.inject(Fault(method="GET", path=JOBS, status=status, headers=headers, times=5))
    before = _job_gets(fake, job_id)
    if retried:
        assert (await client.wait_for_job(job_id)).status.value == "success"
        assert _job_gets(fake, job_id) - before > 5
    else:
        with pytest.raises(APIStatusError):
            await client.wait_for_job(job_id)
        assert _job_gets(fake, job_id) - before == 1
