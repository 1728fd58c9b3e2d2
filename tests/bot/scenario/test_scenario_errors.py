"""The error tree, status mapping, readable messages, and the retry arithmetic."""

from __future__ import annotations

import email.utils
import time

import pytest

from bot.scenario import (
    MAX_UPLOAD_BYTES,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ImageTooLargeError,
    Job,
    JobCanceledError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    PlanLimitError,
    ScenarioError,
    ServerError,
    SubmitUncertainError,
)
from bot.scenario._http import backoff_delay, is_retryable, parse_retry_after
from bot.scenario.errors import APIResponseError, APIResponseValidationError, make_status_error


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequestError), (401, AuthenticationError), (403, PermissionDeniedError), (404, NotFoundError),
     (429, PlanLimitError), (500, ServerError), (503, ServerError), (409, APIStatusError)],
)  # fmt: skip
def test_status_mapping(status: int, cls: type[APIStatusError]) -> None:
    error = make_status_error(status, "why", name="Name", request_id="req_1", details={"a": 1})
    assert type(error) is cls and isinstance(error, ScenarioError)
    assert (error.status, error.reason, error.name, error.request_id, error.details) == (
        status, "why", "Name", "req_1", {"a": 1},
    )  # fmt: skip
    assert "why" in str(error) and str(status) in str(error) and "req_1" in str(error)


def test_plan_limit_action_limit() -> None:
    error = PlanLimitError(429, "limit", "PlanLimitReachedError", None, {"actionName": "parallel-custom-jobs",
                                                                         "actionLimit": 3})  # fmt: skip
    assert error.action_limit == 3 and error.action_name == "parallel-custom-jobs"
    assert PlanLimitError(429, "limit").action_limit is None


def test_job_errors() -> None:
    job = Job(job_id="job_f", status="failure")
    failed = JobFailedError(job, "provider refused", "rephrase it")
    assert (failed.job, failed.error, failed.hint) == (job, "provider refused", "rephrase it")
    assert "job_f" in str(failed) and "provider refused" in str(failed) and "rephrase it" in str(failed)
    canceled = JobCanceledError(Job(job_id="job_c", status="canceled"))
    assert isinstance(canceled, JobFailedError) and "canceled" in str(canceled)


def test_size_and_uncertain_messages_say_plainly_what_happened() -> None:
    too_big = ImageTooLargeError(7_000_000)
    assert "7.0 MB" in str(too_big) and "6.0 MB" in str(too_big) and too_big.limit == MAX_UPLOAD_BYTES
    from datetime import UTC, datetime

    uncertain = SubmitUncertainError("model_ideogram-v4", datetime.now(UTC), "timed out")
    text = str(uncertain)
    assert "may have reached Scenario" in text and "no matching job could be found" in text
    assert "not sent again" in text


def test_retry_after_parsing() -> None:
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    date = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= (parse_retry_after({"retry-after": date}) or 0) <= 11
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_backoff_is_capped_jittered_exponential_unless_told() -> None:
    for attempt, base in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)]:
        for _ in range(50):
            assert base * 0.75 <= backoff_delay(attempt) <= base
    assert backoff_delay(0, retry_after=7) == 7
    assert backoff_delay(0, retry_after=120) <= 0.5  # unreasonable waits are ignored
    assert backoff_delay(0, retry_after=0) <= 0.5


def test_which_errors_are_retryable() -> None:
    for status in (408, 409, 429, 500, 502, 503, 504):
        assert is_retryable(make_status_error(status, "x"))
    for status in (400, 401, 403, 404, 422):
        assert not is_retryable(make_status_error(status, "x"))
    assert not is_retryable(make_status_error(503, "x", should_retry=False))
    assert is_retryable(make_status_error(400, "x", should_retry=True))
    assert is_retryable(APIConnectionError()) and is_retryable(APITimeoutError())
    assert is_retryable(APIResponseError("cut")) and not is_retryable(APIResponseValidationError("shape"))
