"""The errors the Scenario client raises, one small tree under `ScenarioError`.

Modelled on openai-python's `_exceptions.py`: a status error carries the HTTP status, the API's `reason`,
its error `name`, the request id and the `details`; one subclass per status the bot treats differently.
No error ever holds a request header, the API key or the secret: messages are built from the response body
and the method and path only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
    "ImageTooLargeError",
    "InputError",
    "JobCanceledError",
    "JobFailedError",
    "JobTimeoutError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlanLimitError",
    "ScenarioError",
    "ServerError",
    "SubmitUncertainError",
    "make_status_error",
]

MAX_UPLOAD_BYTES = 6_000_000
"""The largest image POST /assets takes: Scenario documents "under 6 MB"; decimal megabytes, the stricter reading."""


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB ({size:,} bytes)"


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


class SubmitUncertainError(ScenarioError):
    """A generate request may have reached Scenario, and its job could not be found.

    The request was not sent again, so as not to pay twice. `since` is when it was sent: pass it to
    `ScenarioClient.find_submitted_job` later to look again.
    """

    def __init__(self, model_id: str, since: datetime, cause: str) -> None:
        self.model_id = model_id
        self.since = since
        self.cause = cause
        super().__init__(
            f"The generation request for {model_id} may have reached Scenario ({cause}), but no matching "
            "job could be found. It was not sent again, to avoid paying twice; check the Scenario jobs list "
            "before retrying."
        )


class ImageTooLargeError(ScenarioError):
    """An image is over Scenario's upload limit; nothing was sent."""

    def __init__(self, size: int, limit: int = MAX_UPLOAD_BYTES) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"The image is {_megabytes(size)}; Scenario accepts uploads of at most {_megabytes(limit)}.")


class DownloadTooLargeError(ScenarioError):
    """A download went past the caller's byte cap and was abandoned."""

    def __init__(self, size: int, limit: int, *, asset_id: str | None = None) -> None:
        self.size = size
        self.limit = limit
        self.asset_id = asset_id
        what = f"Asset {asset_id}" if asset_id else "The download"
        super().__init__(f"{what} is larger than the {limit:,}-byte limit (at least {size:,} bytes).")
