"""Every error class, produced by a real response (or failure) of the fake on loopback."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from bot.retry import RetryPolicy
from bot.scenario import (
    IDEOGRAM_V4,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    PlanLimitError,
    ScenarioClient,
    ServerError,
)
from bot.scenario.errors import APIResponseError
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario, Fault

JOBS = r"^/v1/jobs/"


async def _job_id(client: ScenarioClient) -> str:
    return (await client.submit_generate(IDEOGRAM_V4, {"prompt": "x"})).job.job_id


def _requests(fake: FakeScenario, prefix: str) -> int:
    return sum(1 for _, path in fake.request_log if path.startswith(prefix))


async def test_400_bad_input_names_the_reason(fake: FakeScenario, client: ScenarioClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        await client.submit_generate(IDEOGRAM_V4, {"prompt": "x", "renderingSpeed": "fast"})
    assert caught.value.status == 400
    assert 'Invalid input "renderingSpeed"' in (caught.value.reason or "")
    assert "renderingSpeed" in str(caught.value) and caught.value.request_id
    assert len(fake.generate_calls) == 1 and not fake.jobs


async def test_401_wrong_secret(fake: FakeScenario, session: aiohttp.ClientSession, clock: FakeClock) -> None:
    assert fake.base_url is not None
    client = ScenarioClient(session, fake.api_key or "", "wrong", fake.base_url, sleep=clock.sleep)
    with pytest.raises(AuthenticationError) as caught:
        await client.get_job("job_1")
    assert caught.value.status == 401 and caught.value.reason == "Unauthorized"
    assert len(fake.request_log) == 1  # not retried


async def test_403_permission_denied(fake: FakeScenario, client: ScenarioClient) -> None:
    job_id = await _job_id(client)
    fake.inject(Fault(method="GET", path=JOBS, status=403, body={"reason": "Model requires a paid plan"}))
    with pytest.raises(PermissionDeniedError, match="Model requires a paid plan"):
        await client.get_job(job_id)
    assert _requests(fake, "/v1/jobs/") == 1


async def test_404_unknown_model(fake: FakeScenario, client: ScenarioClient) -> None:
    with pytest.raises(NotFoundError, match="Model not found"):
        await client.submit_generate("model_nope", {"prompt": "x"})
    assert len(fake.generate_calls) == 1


async def test_429_plan_limit_carries_the_action_limit(fake: FakeScenario, client: ScenarioClient) -> None:
    fake.parallel_limit = 2
    await client.submit_generate(IDEOGRAM_V4, {"prompt": "a"})
    await client.submit_generate(IDEOGRAM_V4, {"prompt": "b"})
    with pytest.raises(PlanLimitError) as caught:
        await client.submit_generate(IDEOGRAM_V4, {"prompt": "c"})
    error = caught.value
    assert error.status == 429 and error.action_limit == 2 and error.action_name == "parallel-custom-jobs"
    assert "plan's limit" in str(error)
    assert len(fake.generate_calls) == 3 and len(fake.jobs) == 2  # the 429 was not retried


async def test_5xx_after_retries(fake: FakeScenario, client: ScenarioClient, clock: FakeClock) -> None:
    job_id = await _job_id(client)
    fake.inject(Fault(method="GET", path=JOBS, status=502, times=3))
    with pytest.raises(ServerError) as caught:
        await client.get_job(job_id)
    assert caught.value.status == 502 and "Bad Gateway" in str(caught.value)
    assert _requests(fake, "/v1/jobs/") == 3 and len(clock.sleeps) == 2


async def test_connection_reset(fake: FakeScenario, client: ScenarioClient) -> None:
    job_id = await _job_id(client)
    # aiohttp itself resends an idempotent request once when a reused connection drops, hence >= 3.
    fake.inject(Fault(method="GET", path=JOBS, kind="reset_before", times=10))
    with pytest.raises(APIConnectionError) as caught:
        await client.get_job(job_id)
    assert caught.value.request_sent and _requests(fake, "/v1/jobs/") >= 3
    assert "Server disconnected" in str(caught.value)


async def test_timeout(fake: FakeScenario, session: aiohttp.ClientSession, clock: FakeClock,
                       stall: asyncio.Event) -> None:  # fmt: skip
    assert fake.base_url is not None
    client = ScenarioClient(session, fake.api_key or "", fake.api_secret or "", fake.base_url,
                            sleep=clock.sleep, request_timeout=0.05, retry=RetryPolicy(max_retries=0))  # fmt: skip
    fake.inject(Fault(method="GET", path=JOBS, kind="delay", delay=30.0))
    with pytest.raises(APITimeoutError, match=r"did not answer within 0\.05 s") as caught:
        await client.get_job("job_1")
    assert caught.value.request_sent and _requests(fake, "/v1/jobs/") == 1


async def test_malformed_json(fake: FakeScenario, client: ScenarioClient) -> None:
    job_id = await _job_id(client)
    fake.inject(Fault(method="GET", path=JOBS, kind="malformed", times=3))
    with pytest.raises(APIResponseError, match="not valid JSON"):
        await client.get_job(job_id)
    assert _requests(fake, "/v1/jobs/") == 3
    fake.inject(Fault(method="GET", path=JOBS, kind="malformed", times=1))
    assert (await client.get_job(job_id)).job_id == job_id  # retried like a 5xx


async def test_connection_refused(session: aiohttp.ClientSession, clock: FakeClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ScenarioClient(session, "k", "s", f"http://127.0.0.1:{port}/v1", sleep=clock.sleep)
    with pytest.raises(APIConnectionError) as caught:
        await client.get_job("job_1")
    assert caught.value.request_sent is False and "Could not connect" in str(caught.value)
    assert len(clock.sleeps) == 2
