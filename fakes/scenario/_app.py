"""The aiohttp application: one middleware for logging, faults, auth, errors and request ids."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakes.scenario._faults import Fault
from fakes.scenario._routes import CALL_KEY, FAKE_KEY, ApiError, add_routes, is_dry_run
from fakes.scenario._serialize import error_body
from fakes.scenario._state import GenerateCall

if TYPE_CHECKING:
    from fakes.scenario._fake import FakeScenario

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_GENERATE_PATH = re.compile(r"^/v1/generate/custom/([^/]+)$")
# Base64 of a 6 MB image is about 8 MB; leave room so oversize uploads get the API's 400, not a 413.
_CLIENT_MAX_SIZE = 16 * 1024 * 1024


def build_app(fake: FakeScenario) -> web.Application:
    """The fake's web application, bound to `fake`'s state."""
    app = web.Application(middlewares=[_middleware], client_max_size=_CLIENT_MAX_SIZE)
    app[FAKE_KEY] = fake
    add_routes(app)
    return app


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    fake = request.app[FAKE_KEY]
    dry_run = is_dry_run(request)
    if not dry_run:  # a free quote is listed in `fake.dry_runs`, never among the requests that cost or poll
        fake.request_log.append((request.method, request.path))
    log.debug("%s %s", request.method, request.path)
    fault = fake.faults.take(request.method, request.path, dry_run=dry_run)
    if fault is not None:
        log.debug("Fault %s fires on %s %s", fault.kind, request.method, request.path)

    if fault is not None and fault.kind in ("reset_before", "status"):
        response = None if fault.kind == "reset_before" else _fault_response(fault)
        if not dry_run:
            await _record_unhandled_generate(request, response)
        return _finish(request, response)

    if fault is not None and fault.kind == "delay":
        # Like a slow server, receive the whole request first: it is then handled even if the client goes
        # away during the delay (a crashed bot's job is still created, as Scenario would create it).
        await request.read()
        await fake.sleep(fault.delay)

    response = await _handle(request, handler)
    if fault is not None and fault.kind == "reset_after":
        response = None
    elif fault is not None and fault.kind == "malformed":
        response = _malformed(response)
    call = request.get(CALL_KEY)
    if call is not None:
        call.status = None if response is None else response.status
    return _finish(request, response)


async def _handle(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Auth, then the route; every error becomes an API-style JSON body."""
    try:
        if request.path.startswith("/v1/"):
            _check_auth(request)
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.body, status=exc.status, headers=exc.headers)
    except web.HTTPException as exc:  # router 404/405, body too large
        if exc.status < 400:
            raise
        return web.json_response(error_body(exc.reason), status=exc.status)


def _check_auth(request: web.Request) -> None:
    fake = request.app[FAKE_KEY]
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    key, colon, secret = decoded.partition(":")
    valid = scheme.lower() == "basic" and bool(colon) and bool(key)
    if valid and fake.api_key is not None:
        valid = hmac.compare_digest(key, fake.api_key)
    if valid and fake.api_secret is not None:
        valid = hmac.compare_digest(secret, fake.api_secret)
    if not valid:
        raise ApiError(401, error_body("Unauthorized", "UnauthorizedError"))


def _fault_response(fault: Fault) -> web.Response:
    body = fault.status_body()
    headers = dict(fault.headers or {})
    if isinstance(body, bytes | str):
        headers.setdefault("Content-Type", "application/json")
        return web.Response(body=body.encode() if isinstance(body, str) else body, status=fault.status, headers=headers)
    return web.json_response(body, status=fault.status, headers=headers)


def _malformed(response: web.StreamResponse) -> web.Response:
    """A 200 whose JSON is cut short, as a truncated transfer or a broken proxy would produce."""
    raw = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else b""
    # A proper prefix of a JSON object is never valid JSON.
    text = raw[: len(raw) // 2] if raw.startswith(b"{") and len(raw) > 1 else b'{"job": {"jobId": '
    return web.Response(body=text, status=200, content_type="application/json")


async def _record_unhandled_generate(request: web.Request, response: web.StreamResponse | None) -> None:
    """A generate call stopped by a fault before the route ran is still a call received."""
    match = _GENERATE_PATH.match(request.path)
    if request.method != "POST" or match is None:
        return
    body: Any = None
    with contextlib.suppress(ValueError, web.HTTPException):
        body = await request.json()
    fake = request.app[FAKE_KEY]
    status = None if response is None else response.status
    fake.generate_calls.append(GenerateCall(match.group(1), body if isinstance(body, dict) else None, None, status))


def _finish(request: web.Request, response: web.StreamResponse | None) -> web.StreamResponse:
    """Stamp the request id, or drop the connection when there is to be no response."""
    if response is None:
        if request.transport is not None:
            request.transport.abort()
        # aiohttp needs a response object; it cannot be written to the aborted transport.
        return web.Response(status=500)
    response.headers["x-request-id"] = "req_" + secrets.token_hex(12)
    return response
