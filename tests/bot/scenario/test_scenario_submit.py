"""`submit_generate` is transport: one POST whatever happens, every failure typed, and what each one means.

The policy (look for a lost job, send again) belongs to the job engine; here the client must never send
the paid request twice, never search, never wait, and `submission_failure` must say honestly whether the
failed request may have created a job. Everything runs over real loopback HTTP against the fake.
"""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from bot.scenario import (
    IDEOGRAM_V4,
    APIConnectionError,
    APIResponseError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    PlanLimitError,
    ScenarioClient,
    ScenarioError,
    ServerError,
    SubmitFailure,
    submission_failure,
)
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario, Fault

GENERATE = r"^/v1/generate/"
POST = ("POST", f"/v1/generate/custom/{IDEOGRAM_V4}")
BODY = {"prompt": "a red fox", "numOutputs": 1}


def _posts_received(fake: FakeScenario) -> int:
    return sum(method == "POST" and path.startswith("/v1/generate/") for method, path in fake.request_log)


def _fault(**kwargs: object) -> Fault:
    return Fault(method="POST", path=GENERATE, **kwargs)  # type: ignore[arg-type]


def test_there_are_exactly_four_kinds_of_failed_submission() -> None:
    assert {member.name for member in SubmitFailure} == {"REFUSED", "NOT_SENT", "HANDLED", "UNKNOWN"}


async def test_a_success_is_one_post_and_its_job(fake: FakeScenario, client: ScenarioClient, clock: FakeClock,
                                                 sent: list[tuple[str, str]]) -> None:  # fmt: skip
    result = await client.submit_generate(IDEOGRAM_V4, BODY)
    assert list(fake.jobs) == [result.job.job_id] and result.creative_units_cost == 6
    assert sent == [POST] and clock.sleeps == []


@pytest.mark.parametrize(
    ("fault", "body", "error", "failure", "jobs"),
    [
        pytest.param(None, {**BODY, "renderingSpeed": "fast"}, BadRequestError, SubmitFailure.REFUSED, 0,
                     id="400-bad-input"),
        pytest.param(_fault(status=429), BODY, PlanLimitError, SubmitFailure.REFUSED, 0, id="429-plan-limit"),
        pytest.param(_fault(status=409), BODY, APIStatusError, SubmitFailure.REFUSED, 0, id="409-conflict"),
        pytest.param(_fault(status=500), BODY, ServerError, SubmitFailure.HANDLED, 0, id="500-scenario-error"),
        pytest.param(_fault(status=503), BODY, ServerError, SubmitFailure.HANDLED, 0, id="503-scenario-error"),
        pytest.param(_fault(status=500, body="<html>Internal Server Error</html>"), BODY, ServerError,
                     SubmitFailure.UNKNOWN, 0, id="500-not-json"),
        pytest.param(_fault(status=502, body={"message": "Bad Gateway"}), BODY, ServerError,
                     SubmitFailure.UNKNOWN, 0, id="502-gateway-json-without-reason"),
        pytest.param(_fault(status=504), BODY, ServerError, SubmitFailure.UNKNOWN, 0, id="504-even-with-reason"),
        pytest.param(_fault(kind="reset_before"), BODY, APIConnectionError, SubmitFailure.UNKNOWN, 0,
                     id="reset-before-handling"),
        pytest.param(_fault(kind="reset_after"), BODY, APIConnectionError, SubmitFailure.UNKNOWN, 1,
                     id="reset-after-creating"),
        pytest.param(_fault(kind="malformed"), BODY, APIResponseError, SubmitFailure.UNKNOWN, 1,
                     id="2xx-not-json"),
        pytest.param(_fault(status=200, body={"unexpected": True}), BODY, APIResponseValidationError,
                     SubmitFailure.UNKNOWN, 0, id="2xx-wrong-shape"),
    ],
)  # fmt: skip
async def test_a_failed_submission_is_one_post_raised_as_what_it_is(
    fake: FakeScenario,
    client: ScenarioClient,
    clock: FakeClock,
    sent: list[tuple[str, str]],
    fault: Fault | None,
    body: dict[str, object],
    error: type[ScenarioError],
    failure: SubmitFailure,
    jobs: int,
) -> None:
    if fault is not None:
        fake.inject(fault)
    with pytest.raises(ScenarioError) as caught:
        await client.submit_generate(IDEOGRAM_V4, body)
    assert type(caught.value) is error
    assert submission_failure(caught.value) is failure
    # Exactly one POST left and arrived; no search (GET /jobs), no backoff, no second POST.
    assert sent == [POST] and _posts_received(fake) == 1
    assert clock.sleeps == []
    assert len(fake.jobs) == jobs


async def test_a_timeout_is_one_post_that_may_have_created_a_job(
    fake: FakeScenario, session: aiohttp.ClientSession, clock: FakeClock, sent: list[tuple[str, str]],
    stall: asyncio.Event,
) -> None:  # fmt: skip
    assert fake.base_url is not None
    client = ScenarioClient(session, fake.api_key or "", fake.api_secret or "", fake.base_url,
                            sleep=clock.sleep, clock=clock, request_timeout=0.05)  # fmt: skip
    fake.inject(_fault(kind="delay", delay=30.0))
    with pytest.raises(APITimeoutError, match=r"did not answer within 0\.05 s") as caught:
        await client.submit_generate(IDEOGRAM_V4, BODY)
    assert caught.value.request_sent is True
    assert submission_failure(caught.value) is SubmitFailure.UNKNOWN
    assert sent == [POST] and _posts_received(fake) == 1 and clock.sleeps == []
    # Why UNKNOWN is right: Scenario goes on to create the job the client gave up waiting for.
    stall.set()
    for _ in range(100):
        if fake.jobs:
            break
        await asyncio.sleep(0)
    assert len(fake.jobs) == 1


async def test_connection_refused_is_one_attempt_that_was_not_sent(
    session: aiohttp.ClientSession, clock: FakeClock, sent: list[tuple[str, str]]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ScenarioClient(session, "k", "s", f"http://127.0.0.1:{port}/v1", sleep=clock.sleep)
    with pytest.raises(APIConnectionError) as caught:
        await client.submit_generate(IDEOGRAM_V4, BODY)
    assert type(caught.value) is APIConnectionError and caught.value.request_sent is False
    assert submission_failure(caught.value) is SubmitFailure.NOT_SENT
    assert sent == [POST] and clock.sleeps == []


async def test_a_refused_request_was_refused_whatever_the_server_says_about_retrying(
    fake: FakeScenario, client: ScenarioClient, sent: list[tuple[str, str]]
) -> None:
    # `x-should-retry` guides retries of idempotent requests; it says nothing about whether a job exists.
    fake.inject(_fault(status=409, headers={"x-should-retry": "true"}))
    with pytest.raises(APIStatusError) as caught:
        await client.submit_generate(IDEOGRAM_V4, BODY)
    assert submission_failure(caught.value) is SubmitFailure.REFUSED and sent == [POST]
