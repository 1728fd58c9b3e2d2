"""Scenario's project webhooks as a hint: `generation.completed` / `generation.failed` make the status loop
look at that job at once (`SCENARIO_WEBHOOK_PORT`).

Scenario documents neither the payload nor how a delivery is signed, so a webhook is never taken as the
result: it only names a job to look at now through the API (one `GET /jobs/{id}`), which says what
happened. A forged call costs at most that one request; the job id is looked for in the usual places
(`jobId`, `job.jobId`, `data.jobId`, `data.job.jobId`, or any `job_…` id). Every call is answered 204 at once.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Self

from aiohttp import web

from bot.health import HealthServerError
from bot.scenario._watch import StatusWatch

__all__ = ["HINT_EVENTS", "WebhookReceiver", "job_id_of"]

log = logging.getLogger(__name__)

HINT_EVENTS = frozenset({"generation.completed", "generation.failed"})
MAX_BODY = 64 * 1024


def job_id_of(payload: Any, depth: int = 0) -> str | None:
    """The Scenario job id a webhook payload names, or None."""
    if depth > 4:
        return None
    if isinstance(payload, dict):
        for key in ("jobId", "job_id"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                return value
        value = payload.get("id")
        if isinstance(value, str) and value.startswith("job_"):
            return value
        for key in ("job", "data", "payload", "object", "resource"):
            found = job_id_of(payload.get(key), depth + 1)
            if found:
                return found
    return None


def event_of(payload: Any) -> str | None:
    """The event's type (`generation.completed`…), wherever the payload keeps it."""
    if not isinstance(payload, dict):
        return None
    for key in ("type", "event", "eventType", "name"):
        value = payload.get(key)
        if isinstance(value, str):
            return value
    return None


class WebhookReceiver:
    """Listens for Scenario's project webhooks on `host:port` (any path) and hints the status loop."""

    def __init__(self, watch: StatusWatch, *, port: int, host: str = "0.0.0.0") -> None:
        self._watch = watch
        self.host = host
        self._port = port
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self.hints = 0
        """Webhooks that named a job being waited for."""

    @property
    def port(self) -> int:
        return self._port

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self._port).start()
        except OSError as exc:
            await self._runner.cleanup()
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            raise HealthServerError(f"SCENARIO_WEBHOOK_PORT: cannot listen on port {self._port} ({reason})") from None
        self._port = self._runner.addresses[0][1]
        log.info("Receiving Scenario webhooks on port %d (a hint to look at a job at once)", self._port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        try:
            payload = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=204)
        event, job_id = event_of(payload), job_id_of(payload)
        hinted = job_id is not None and (event is None or event in HINT_EVENTS) and self._watch.hint(job_id)
        if hinted:
            self.hints += 1
            log.debug("Webhook %s for job %s: looking at it now", event or "?", job_id)
        return web.Response(status=204)
