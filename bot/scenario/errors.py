"""The errors the Scenario client raises, one small tree under `ScenarioError`.

Modelled on openai-python's `_exceptions.py`: a status error carries the HTTP status, the API's `reason`,
its error `name`, the request id and the `details`; one subclass per status the bot treats differently.
No error ever holds a request header, the API key or the secret: messages are built from the response body
and the method and path only.

Two functions say what a failure means: `is_retryable` (is an idempotent request worth sending again?) and
`submission_failure` (could a failed paid `POST /generate` have created a job?).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.scenario.models import Job

__all__ = [
    "MAX_UPLOAD_BYTES",
    "APIConnectionError",
    "APIResponseError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "DownloadTooLargeError",
    "InputError",
    "JobCanceledError",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlanLimitError",
    "ScenarioError",
    "ServerError",
    "SubmitFailure",
    "is_retryable",
    "make_status_error",
    "submission_failure",
]

MAX_UPLOAD_BYTES = 6_000_000
"""The largest image POST /assets takes: Scenario documents "under 6 MB"; decimal megabytes, the stricter reading."""


class ScenarioError(Exception):
    """Base class of every error raised by the Scenario client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIStatusError(ScenarioError):
    """Scenario answered with a 4xx or 5xx status."""

    def __init__(
        self,
        status: int,
        reason: str | None,
        name: str | None = None,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.name = name
        self.request_id = request_id
        self.details: dict[str, Any] = dict(details or {})
        self.method = method
        self.path = path
        self.retry_after = retry_after
        """Seconds the server asked us to wait (Retry-After / retry-after-ms), if any."""
        self.should_retry = should_retry
        """The server's `x-should-retry` verdict, if it sent one."""
        self.body = body
        """The decoded JSON error body, or None when the body was not JSON."""
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f" to {self.method} {self.path}" if self.method and self.path else ""
        label = f" {self.name}" if self.name else ""
        text = f"Scenario answered {self.status}{label}{where}: {self.reason or 'no reason given'}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class BadRequestError(APIStatusError):
    """400: the request (usually a model input) was refused."""


class AuthenticationError(APIStatusError):
    """401: the API key or secret is wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the model needs another plan, or the key lacks a scope (or a CDN URL expired)."""


class NotFoundError(APIStatusError):
    """404: no such job, asset or model (or endpoint)."""


class PlanLimitError(APIStatusError):
    """429: the team's plan limit (usually parallel custom jobs) is reached; retry when jobs finish."""

    @property
    def action_name(self) -> str | None:
        """The limited action, e.g. `parallel-custom-jobs`."""
        value = self.details.get("actionName")
        return value if isinstance(value, str) else None

    @property
    def action_limit(self) -> int | None:
        """The plan's ceiling for the action (e.g. 3 parallel jobs), when Scenario says it."""
        value = self.details.get("actionLimit")
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value)


class ServerError(APIStatusError):
    """5xx: something broke on Scenario's side."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: PlanLimitError,
}


def make_status_error(status: int, reason: str | None, **kwargs: Any) -> APIStatusError:
    """Build the most specific `APIStatusError` subclass for `status`."""
    cls = _STATUS_CLASSES.get(status) or (ServerError if status >= 500 else APIStatusError)
    return cls(status, reason, **kwargs)


class APIConnectionError(ScenarioError):
    """The request failed without an HTTP answer (refused, reset, closed, DNS...)."""

    def __init__(self, message: str = "Could not reach Scenario.", *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent
        """False only when the failure proves nothing reached the server (e.g. connection refused)."""


class APITimeoutError(APIConnectionError):
    """The request took longer than the client's timeout."""

    def __init__(self, message: str = "Scenario did not answer in time.", *, request_sent: bool = True) -> None:
        super().__init__(message, request_sent=request_sent)


class APIResponseError(ScenarioError):
    """Scenario answered 2xx but the body could not be read (not JSON, cut short); worth retrying."""

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.request_id = request_id


class APIResponseValidationError(APIResponseError):
    """The body was JSON but not the expected shape (e.g. an unknown job status); retrying will not help."""


class InputError(ScenarioError, ValueError):
    """Model inputs that Scenario would refuse, caught before sending. `problems` maps field to message."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(self.problems.values()) or "Invalid input.")

    @property
    def field(self) -> str | None:
        """The (camelCase) name of the first invalid field."""
        return next(iter(self.problems), None)


class JobFailedError(ScenarioError):
    """The job ended in `failure`; `error` and `hint` are Scenario's explanation."""

    def __init__(self, job: Job, error: str | None = None, hint: str | None = None) -> None:
        self.job = job
        self.error = error
        self.hint = hint
        text = f"Scenario job {job.job_id} failed: {error or 'no error given'}"
        if hint:
            text += f" (hint: {hint})"
        super().__init__(text)


class JobCanceledError(JobFailedError):
    """The job was canceled before it finished."""

    def __init__(self, job: Job, error: str | None = None, hint: str | None = None) -> None:
        super().__init__(job, error, hint)
        self.message = f"Scenario job {job.job_id} was canceled" + (f": {error}" if error else ".")
        self.args = (self.message,)


class JobTimeoutError(ScenarioError):
    """The job did not finish before the deadline; `last_job` is the last state seen (if any)."""

    def __init__(self, job_id: str | None, timeout: float, last_job: Job | None = None) -> None:
        self.job_id = job_id
        self.timeout = timeout
        self.last_job = last_job
        status = f" (last status: {last_job.status.value})" if last_job is not None else ""
        super().__init__(f"Scenario job {job_id or '?'} did not finish within {timeout:g} s{status}.")


class DownloadTooLargeError(ScenarioError):
    """A download went past the caller's byte cap and was abandoned.

    `size` is the length the server declared when `declared` is true, else how much had arrived (at least).
    """

    def __init__(self, size: int, limit: int, *, asset_id: str | None = None, declared: bool = False) -> None:
        self.size = size
        self.limit = limit
        self.asset_id = asset_id
        self.declared = declared
        what = f"Asset {asset_id}" if asset_id else "The download"
        amount = f"{size:,} bytes" if declared else f"at least {size:,} bytes"
        super().__init__(f"{what} is larger than the {limit:,}-byte limit ({amount}).")


# -- what a failure means -------------------------------------------------------------------------------


def is_retryable(exc: BaseException) -> bool:
    """Whether an idempotent request that failed this way is worth sending again.

    Yes for connection errors and timeouts, 408/409/429/5xx and unreadable 2xx bodies; no for other
    4xx, for a body of the wrong shape and for anything that is not a `ScenarioError`. A server's
    `x-should-retry` header overrides the status. The client's retry loop and the job poller both use it.
    """
    if isinstance(exc, APIStatusError):
        if exc.should_retry is not None:
            return exc.should_retry
        return exc.status in (408, 409, 429) or exc.status >= 500
    if isinstance(exc, APIResponseError):
        return not isinstance(exc, APIResponseValidationError)
    return isinstance(exc, APIConnectionError)


class SubmitFailure(StrEnum):
    """What a failed `POST /generate` says about whether Scenario created (and will bill) a job."""

    REFUSED = "refused"
    """A 4xx (429 included): Scenario refused the request and created nothing."""
    NOT_SENT = "not_sent"
    """The request provably never left this machine (e.g. connection refused): safe to send again."""
    HANDLED = "handled"
    """A 5xx (not 504) carrying Scenario's own JSON error: it handled and refused the request, so it most
    likely created nothing; look once before sending again."""
    UNKNOWN = "unknown"
    """The request may have created a job (read timeout, reset after sending, 504, unreadable 2xx)."""


def submission_failure(exc: ScenarioError) -> SubmitFailure:
    """Classify an error raised by `ScenarioClient.submit_generate`."""
    if isinstance(exc, APIStatusError):
        if exc.status < 500:
            return SubmitFailure.REFUSED
        # A 504 comes from a gateway that gave up waiting: Scenario may still be creating the job.
        scenario_said_no = isinstance(exc.body, dict) and isinstance(exc.body.get("reason"), str)
        return SubmitFailure.HANDLED if exc.status != 504 and scenario_said_no else SubmitFailure.UNKNOWN
    if isinstance(exc, APIConnectionError) and not exc.request_sent:
        return SubmitFailure.NOT_SENT
    return SubmitFailure.UNKNOWN
