"""The API key, the secret and the Authorization header never show in logs, reprs or errors."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import traceback

import aiohttp
import pytest

from bot.retry import RetryPolicy
from bot.scenario import IDEOGRAM_V4, ScenarioClient, ScenarioError
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario, Fault


def checker(api_key: str, api_secret: str):
    token = base64.b64encode(f"{api_key}:{api_secret}".encode()).decode()
    forbidden = (api_key, api_secret, token, "Basic ", "Authorization")

    def assert_clean(text: str) -> None:
        for secret in forbidden:
            assert secret not in text, f"{secret!r} leaked"

    return assert_clean


async def test_secrets_stay_hidden(
    fake: FakeScenario,
    client: ScenarioClient,
    session: aiohttp.ClientSession,
    clock: FakeClock,
    stall: asyncio.Event,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    api_key, api_secret = fake.api_key or "", fake.api_secret or ""
    assert len(api_key) > 8 and len(api_secret) > 8
    assert_clean = checker(api_key, api_secret)
    errors: list[BaseException] = []

    async def expect_error(coro) -> None:
        try:
            await coro
        except ScenarioError as exc:
            errors.append(exc)
        else:
            raise AssertionError("expected a ScenarioError")

    result = await client.submit_generate(IDEOGRAM_V4, {"prompt": "x"})
    job = await client.wait_for_job(result.job.job_id)
    await client.get_assets(job.asset_ids)
    fake.inject(Fault(method="GET", path=r"^/v1/jobs/", status=401))
    await expect_error(client.get_job(job.job_id))
    fake.inject(Fault(method="GET", path=r"^/v1/jobs/", status=500, times=3))
    await expect_error(client.get_job(job.job_id))
    fake.inject(Fault(method="GET", path=r"^/v1/jobs/", kind="reset_before", times=10))
    await expect_error(client.get_job(job.job_id))
    fake.inject(Fault(method="POST", path=r"^/v1/generate/", kind="reset_before"))
    await expect_error(client.submit_generate(IDEOGRAM_V4, {"prompt": "y"}))
    fake.inject(Fault(method="GET", path=r"^/v1/jobs/", kind="malformed", times=3))
    await expect_error(client.get_job(job.job_id))
    await expect_error(client.submit_generate(IDEOGRAM_V4, {"prompt": "y", "seed": -1}))

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    offline = ScenarioClient(session, api_key, api_secret, f"http://127.0.0.1:{port}/v1", sleep=clock.sleep)
    await expect_error(offline.get_job("job_1"))

    timeout_client = ScenarioClient(session, api_key, api_secret, fake.base_url or "", sleep=clock.sleep,
                                    request_timeout=0.05, retry=RetryPolicy(max_retries=0))  # fmt: skip
    fake.inject(Fault(method="GET", path=r"^/v1/jobs/", kind="delay", delay=30.0))
    await expect_error(timeout_client.get_job(job.job_id))

    assert len(errors) == 8
    for error in errors:
        assert_clean(str(error))
        assert_clean(repr(error))
        assert_clean(repr(error.args))
        assert_clean("".join(traceback.format_exception(error)))  # the whole chain of causes
        assert_clean(repr(vars(error)))
    assert_clean(repr(client))
    assert_clean(str(client))
    assert any(r.levelno == logging.DEBUG and "request id" in r.getMessage() for r in caplog.records)
    assert_clean(caplog.text)
    assert_clean("\n".join(repr(r.args) for r in caplog.records))
