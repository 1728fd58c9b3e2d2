"""Injected faults: what can go wrong between the bot and Scenario, on demand."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from fakes.scenario._serialize import plan_limit_body

FaultKind = Literal["status", "reset_before", "reset_after", "delay", "malformed"]
_KINDS = ("status", "reset_before", "reset_after", "delay", "malformed")

# Default bodies for `status` faults, shaped like the API's error bodies (scenario-api.md §5).
_DEFAULT_BODIES: dict[int, dict[str, Any]] = {
    400: {"reason": "Bad Request", "name": "BadRequestError"},
    401: {"reason": "Unauthorized", "name": "UnauthorizedError"},
    403: {"reason": "Forbidden", "name": "ForbiddenError"},
    404: {"reason": "Not Found", "name": "NotFoundError"},
    408: {"reason": "Request Timeout", "name": "RequestTimeoutError"},
    409: {"reason": "Conflict", "name": "ConflictError"},
    429: plan_limit_body(limit=3, value=3),
    500: {"reason": "Internal Server Error", "name": "InternalServerError"},
    502: {"reason": "Bad Gateway", "name": "BadGatewayError"},
    503: {"reason": "Service Unavailable", "name": "ServiceUnavailableError"},
    504: {"reason": "Gateway Timeout", "name": "GatewayTimeoutError"},
}


@dataclass
class Fault:
    """One injected misbehaviour, matched against requests in injection order.

    `method` is an HTTP method or "*" for any; `path` is a regex searched in the request path
    (e.g. r"^/v1/generate/"). `kind` is one of:

    - "status": answer `status` with `body` (default: an API-style error body) and `headers`;
    - "reset_before": drop the connection without handling the request;
    - "reset_after": handle the request fully (e.g. create the job), then drop the connection;
    - "delay": read the request, sleep `delay` seconds with the fake's `sleep`, then handle normally, even
      if the client has gone away meanwhile;
    - "malformed": handle the request fully, then answer 200 with a body that is not valid JSON.

    A fault never fires on a free `?dryRun=true` quote unless `dry_run=True`, which makes it fire only on those.

    The fault fires `times` times, then is spent. Note that aiohttp's client resends an idempotent
    request (GET) once when the server disconnects, so a reset of a GET needs `times=2` to reach
    the caller; POSTs are not resent.
    """

    method: str = "*"
    path: str = ""
    kind: FaultKind = "status"
    status: int = 500
    body: dict[str, Any] | list[Any] | str | bytes | None = None
    headers: dict[str, str] | None = None
    delay: float = 0.0
    times: int = 1
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(_KINDS)}")
        if self.times < 1:
            raise ValueError("times must be at least 1")
        re.compile(self.path)

    def matches(self, method: str, path: str, *, dry_run: bool = False) -> bool:
        """True when this fault applies to a request."""
        method_ok = self.method == "*" or self.method.upper() == method.upper()
        return method_ok and self.dry_run == dry_run and re.search(self.path, path) is not None

    def status_body(self) -> dict[str, Any] | list[Any] | str | bytes:
        """The body a `status` fault answers with."""
        if self.body is not None:
            return self.body
        return _DEFAULT_BODIES.get(self.status, {"reason": f"HTTP {self.status}", "name": "HttpError"})


class FaultQueue:
    """Pending faults; `take` consumes one firing of the first fault that matches."""

    def __init__(self) -> None:
        self._faults: list[list[Any]] = []  # [fault, remaining]

    def add(self, fault: Fault) -> None:
        """Queue a fault behind the ones already injected."""
        self._faults.append([fault, fault.times])

    def take(self, method: str, path: str, *, dry_run: bool = False) -> Fault | None:
        """The first matching fault with firings left (consuming one), or None."""
        for entry in self._faults:
            fault, remaining = entry
            if remaining > 0 and fault.matches(method, path, dry_run=dry_run):
                entry[1] = remaining - 1
                return fault
        return None

    def pending(self) -> list[Fault]:
        """Faults that have firings left."""
        return [fault for fault, remaining in self._faults if remaining > 0]

    def clear(self) -> None:
        """Forget every injected fault."""
        self._faults.clear()
