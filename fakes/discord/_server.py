"""The aiohttp application: REST under /api/v10, the gateway websocket, the attachment CDN.

Every REST request goes through the same pipeline: read the body, injected faults, route lookup, bot
token, OpenAPI validation, handler; then it is recorded. Responses carry `Content-Type: application/json`
exactly (discord.py only parses that) and a `Via` header (discord.py treats a 429 without one as a
Cloudflare ban and does not retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fakes.discord import _errors as err
from fakes.discord._constants import API_PREFIX
from fakes.discord._errors import APIError
from fakes.discord._gateway import Gateway
from fakes.discord._messages import Body, read_body
from fakes.discord._models import RecordedRequest, SpecViolation
from fakes.discord._openapi import OpenAPI, errors_tree
from fakes.discord._payloads import cdn_signature_valid
from fakes.discord._rest import Call, Routes
from fakes.discord._state import FakeState

log = logging.getLogger(__name__)

# Big enough to receive ten oversized files and answer 413 ourselves, as Discord does.
MAX_BODY = 1024 * 1024 * 1024
VIA = "1.1 google"


DROPPED = 0
"""A `Fault` status: the fake closes the connection without answering (recorded with status 0)."""


@dataclass
class Fault:
    """An injected failure for requests whose method and API path match."""

    method: str
    pattern: re.Pattern[str]
    status: int
    json: dict[str, Any] | None
    remaining: int | None
    retry_after: float | None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            (self.remaining is None or self.remaining > 0)
            and self.method in ("*", method)
            and bool(self.pattern.search(path))
        )


@dataclass
class Slowdown:
    """Matching requests are held `seconds` (real time), or until `release()`, then handled normally.

    A held request is handled in full even if its client has gone away meanwhile, as Discord completes a
    request it has received: that is how a crash test leaves an upload that lands after the bot died.
    `started` counts requests that began waiting, `finished` those whose answer is ready.
    """

    method: str
    pattern: re.Pattern[str]
    seconds: float
    remaining: int | None
    uploads_only: bool = False
    started: int = 0
    finished: int = 0
    _released: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def release(self) -> None:
        """Let held requests (and later matches) through now."""
        self._released.set()

    async def hold(self) -> None:
        if not self._released.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self.seconds)

    def matches(self, method: str, path: str, body: Body) -> bool:
        return (
            (self.remaining is None or self.remaining > 0)
            and self.method in ("*", method)
            and bool(self.pattern.search(path))
            and (bool(body.uploads) or not self.uploads_only)
        )

    @property
    def in_flight(self) -> int:
        """Requests held or being handled right now."""
        return self.started - self.finished


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
    all_headers = {"Via": VIA, **(headers or {})}
    if data is None:
        return web.Response(status=status, headers=all_headers)
    all_headers["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(data).encode(), headers=all_headers)


class Server:
    """Serves one FakeDiscord on a loopback port."""

    def __init__(
        self, state: FakeState, gateway: Gateway, routes: Routes, openapi: OpenAPI | None, token: str | None
    ) -> None:
        self.state = state
        self.gateway = gateway
        self.routes = routes
        self.openapi = openapi
        self.token = token
        self.requests: list[RecordedRequest] = []
        self.violations: list[SpecViolation] = []
        self.faults: list[Fault] = []
        self.slowdowns: list[Slowdown] = []
        self.cdn_requests: list[str] = []
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/gateway", gateway.handle)
        for prefix in ("", "/media"):
            self.app.router.add_get(prefix + "/attachments/{channel_id}/{attachment_id}/{filename}", self.cdn)
        self.app.router.add_route("*", "/{tail:.*}", self.api)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for slowdown in self.slowdowns:
            slowdown.release()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def token_ok(self, presented: str | None) -> bool:
        return bool(presented) if self.token is None else presented == self.token

    # the attachment CDN --------------------------------------------------------------------------

    async def cdn(self, request: web.Request) -> web.Response:
        self.cdn_requests.append(request.path_qs)
        info = request.match_info
        att = self.state.attachments.get(int(info["attachment_id"])) if info["attachment_id"].isdigit() else None
        path = request.path.removeprefix("/media")
        query = request.query
        if (
            att is None
            or str(att.channel_id) != info["channel_id"]
            or att.filename != info["filename"]
            or not cdn_signature_valid(self.state, path, query.get("ex", ""), query.get("is", ""), query.get("hm", ""))
        ):
            return web.Response(status=404, text="This content is no longer available.")
        return web.Response(body=att.data, headers={"Content-Type": att.content_type or "application/octet-stream"})

    # REST ----------------------------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.Response:
        method = request.method
        if not request.path.startswith(API_PREFIX + "/"):
            return self._unhandled(method, request.path, request, None)
        path = request.path[len(API_PREFIX) :]
        try:
            body = await read_body(request)
        except APIError as error:
            return self._finish(method, path, request, Body(None), error.status, error.body())

        slowdown = next((s for s in self.slowdowns if s.matches(method, path, body)), None)
        if slowdown is None:
            return await self._handle(method, path, request, body)
        slowdown.started += 1
        if slowdown.remaining is not None:
            slowdown.remaining -= 1
        self.state.changes.notify()
        try:
            await slowdown.hold()
            return await self._handle(method, path, request, body)
        finally:
            slowdown.finished += 1
            self.state.changes.notify()

    async def _handle(self, method: str, path: str, request: web.Request, body: Body) -> web.Response:
        """Faults, route, bot token, OpenAPI validation, handler; every outcome is recorded."""
        fault = next((f for f in self.faults if f.matches(method, path)), None)
        if fault is not None:
            return self._fault(fault, method, path, request, body)

        matched = self.routes.match(method, path)
        if matched is None:
            return self._unhandled(method, path, request, body)
        handler, args, needs_auth = matched
        if needs_auth:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bot ") or not self.token_ok(header[4:]):
                error = err.unauthorized()
                return self._finish(method, path, request, body, error.status, error.body())

        if self.openapi is not None:
            problems = self._validate(method, path, request, body)
            if problems is not None:
                return self._finish(method, path, request, body, 400, problems)

        try:
            status, data = await handler(Call(method, path, args, request.query, body))
        except APIError as error:
            status, data = error.status, error.body()
        except Exception:
            log.exception("fake Discord failed on %s %s", method, path)
            status, data = 500, {"message": "500: Internal Server Error", "code": 0}
        return self._finish(method, path, request, body, status, data)

    def _validate(self, method: str, path: str, request: web.Request, body: Body) -> dict[str, Any] | None:
        assert self.openapi is not None
        found = self.openapi.match(method, path)
        if found is None:
            return None
        operation, path_params = found
        query = {key: request.query.getall(key) for key in request.query}
        problems = self.openapi.validate_request(operation, path_params, query, body.media_type, body.payload)
        if not problems:
            return None
        message = "; ".join(p.describe() for p in problems)
        self.violations.append(SpecViolation(method, path, f"{operation.operation_id}: {message}", body.payload))
        log.warning("OpenAPI violation on %s %s: %s", method, path, message)
        self.state.changes.notify()
        return {"message": "Invalid Form Body", "code": 50035, "errors": errors_tree(problems)}

    def _unhandled(self, method: str, path: str, request: web.Request, body: Body | None) -> web.Response:
        in_spec = self.openapi is not None and self.openapi.match(method, path) is not None
        note = "a Discord route the fake does not serve" if in_spec else "not a Discord API route"
        payload = body.payload if body is not None else None
        self.violations.append(SpecViolation(method, path, f"unhandled route: {note}", payload, kind="unhandled_route"))
        log.warning("fake Discord: unhandled route %s %s (%s)", method, path, note)
        error = err.not_found()
        return self._finish(method, path, request, body or Body(None), error.status, error.body())

    def _fault(self, fault: Fault, method: str, path: str, request: web.Request, body: Body) -> web.Response:
        fault.hits += 1
        if fault.remaining is not None:
            fault.remaining -= 1
        if fault.status == DROPPED:  # the connection closes with no answer, as when the network fails
            self._record(method, path, request, body, DROPPED, None)
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=503)  # never reaches the client
        headers: dict[str, str] = {}
        data = fault.json
        if fault.status == 429:
            retry_after = fault.retry_after if fault.retry_after is not None else 1.0
            if data is None:
                data = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
            headers = {
                "Retry-After": str(math.ceil(retry_after)),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{self.state.clock() + retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": "fake-injected",
                "X-RateLimit-Scope": "user",
            }
        elif data is None:
            data = {"message": f"{fault.status}: {web.Response(status=fault.status).reason}", "code": 0}
        return self._finish(method, path, request, body, fault.status, data, headers)

    def _finish(
        self,
        method: str,
        path: str,
        request: web.Request,
        body: Body,
        status: int,
        data: Any,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        self._record(method, path, request, body, status, data)
        return json_response(status, data, headers)

    def _record(self, method: str, path: str, request: web.Request, body: Body, status: int, data: Any) -> None:
        self.requests.append(
            RecordedRequest(
                method=method,
                path=path,
                query=dict(request.query),
                json=body.payload,
                files=[(u.field, u.filename, u.data) for u in body.uploads],
                status=status,
                response=data,
            )
        )
        self.state.changes.notify()
