"""The error tree, status mapping, readable messages, and which failures are worth retrying."""

from __future__ import annotations

import email.utils
import time

import pytest

import bot.images
import bot.scenario
from bot.scenario import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    DownloadTooLargeError,
    Job,
    JobCanceledError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    PlanLimitError,
    ScenarioError,
    ServerError,
)
from bot.scenario import polling as polling_module
from bot.scenario._http import parse_retry_after
from bot.scenario.errors import APIResponseError, APIResponseValidationError, is_retryable, make_status_error


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


def test_one_image_too_large_error_for_the_client_and_the_image_code() -> None:
    # bot.tree and the cogs catch it from bot.scenario, delivery from bot.images: it must be one class.
    assert bot.scenario.ImageTooLargeError is bot.images.ImageTooLargeError
    assert issubclass(bot.scenario.ImageTooLargeError, bot.images.ImageError)


def test_download_too_large_says_whether_the_size_is_known() -> None:
    declared = DownloadTooLargeError(9_000, 8_000, asset_id="asset_1", declared=True)
    assert str(declared) == "Asset asset_1 is larger than the 8,000-byte limit (9,000 bytes)."
    streamed = DownloadTooLargeError(8_192, 8_000)
    assert str(streamed) == "The download is larger than the 8,000-byte limit (at least 8,192 bytes)."
    assert not streamed.declared and streamed.size == 8_192


def test_retry_after_parsing() -> None:
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    date = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= (parse_retry_after({"retry-after": date}) or 0) <= 11
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_which_errors_are_retryable() -> None:
    for status in (408, 409, 429, 500, 502, 503, 504):
        assert is_retryable(make_status_error(status, "x"))
    for status in (400, 401, 403, 404, 422):
        assert not is_retryable(make_status_error(status, "x"))
    assert not is_retryable(make_status_error(503, "x", should_retry=False))
    assert is_retryable(make_status_error(400, "x", should_retry=True))
    assert is_retryable(APIConnectionError()) and is_retryable(APITimeoutError())
    assert is_retryable(APIResponseError("cut")) and not is_retryable(APIResponseValidationError("shape"))
    assert not is_retryable(ValueError("not ours"))


def test_the_poller_uses_the_same_predicate() -> None:
    assert polling_module.is_retryable is is_retryable
    assert not hasattr(polling_module, "is_transient")
