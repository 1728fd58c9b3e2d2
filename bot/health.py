"""The bot's operations endpoint: `/metrics` for Prometheus, `/healthz` and `/readyz` for a container platform.

An aiohttp server in the bot's own process and event loop, on `METRICS_HOST:METRICS_PORT` (off when no port
is set). `open_bot` starts it before the bot logs in and stops it on the way out:

* `/healthz` answers 200 whenever the event loop does: if it does not answer, the process is stuck.
* `/readyz` answers 200 only when the gateway is connected (every shard this process runs) and the job store
  answers a query; otherwise 503 with one reason per line (`gateway not connected`, `store: <error class>`;
  never a DSN or an error's text).
* `/metrics` is `bot.metrics.REGISTRY` in Prometheus' text format (OpenMetrics when asked for).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Self

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from bot.jobs.store import JobStore
from bot.metrics import REGISTRY

log = logging.getLogger(__name__)

STORE_PING_TIMEOUT = 2.0
"""Longer than a healthy store ever takes to answer `SELECT 1`, shorter than a readiness probe's timeout."""


class HealthServerError(Exception):
    """The endpoint could not listen where `METRICS_HOST`/`METRICS_PORT` say; the message names them."""


class HealthServer:
    """Serves `/metrics`, `/healthz` and `/readyz`; `port` is the one bound (useful with port 0)."""

    def __init__(
        self,
        *,
        gateway_connected: Callable[[], bool],
        store: JobStore,
        host: str,
        port: int,
        store_timeout: float = STORE_PING_TIMEOUT,
    ) -> None:
        self._gateway_connected = gateway_connected
        self._store = store
        self.host = host
        self._port = port
        self._store_timeout = store_timeout
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen; `HealthServerError` if the address cannot be used (taken, or not this machine's)."""
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self._port).start()
        except OSError as exc:
            await self._runner.cleanup()
            # asyncio's own text repeats the address; the errno's text alone says why ("Address already in use").
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            raise HealthServerError(
                f"METRICS_PORT/METRICS_HOST: cannot listen on {self.host}:{self._port} ({reason})"
            ) from None
        self._port = self._runner.addresses[0][1]
        log.info("Serving /metrics, /healthz and /readyz on %s", self.url)

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        await self._runner.cleanup()

    @property
    def port(self) -> int:
        """The port listened on (the one the OS picked when asked for port 0)."""
        return self._port

    @property
    def url(self) -> str:
        """`http://host:port`, the base of the three paths."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    # -- handlers -------------------------------------------------------------------------------------
    async def _metrics(self, request: web.Request) -> web.Response:
        # Prometheus' text format, or OpenMetrics when the scraper asks for it (as prometheus-client's own server).
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encode(REGISTRY), headers={"Content-Type": content_type})

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, _request: web.Request) -> web.Response:
        reasons = [] if self._gateway_connected() else ["gateway not connected"]
        try:
            await asyncio.wait_for(self._store.ping(), self._store_timeout)
        except Exception as exc:
            # The class only: a driver's text can hold the server's address or worse.
            reasons.append(f"store: {type(exc).__name__}")
        if reasons:
            return web.Response(status=503, text="\n".join(reasons) + "\n")
        return web.Response(text="ready\n")
