"""`bot.health`: the endpoint's answers, each reason `/readyz` gives, and a port it cannot have."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.health import HealthServer, HealthServerError
from bot.jobs.sqlite import SQLiteJobStore
from tests.scrape import get, scrape


class Ready:
    """A gateway that is connected, or not."""

    def __init__(self) -> None:
        self.connected = True

    def __call__(self) -> bool:
        return self.connected


class HangingStore:
    async def ping(self) -> None:
        await asyncio.sleep(60)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteJobStore]:
    async with SQLiteJobStore(tmp_path / "jobs.db") as opened:
        yield opened


async def test_ready_only_with_the_gateway_connected_and_the_store_answering(store: SQLiteJobStore) -> None:
    gateway = Ready()
    async with HealthServer(gateway_connected=gateway, store=store, host="127.0.0.1", port=0) as server:
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
        assert (await get(f"{server.url}/readyz"))[:2] == (200, "ready\n")

        gateway.connected = False
        assert (await get(f"{server.url}/readyz"))[:2] == (503, "gateway not connected\n")

        await store.close()  # and the store gone too: both reasons, the error's class only
        assert (await get(f"{server.url}/readyz"))[:2] == (503, "gateway not connected\nstore: RuntimeError\n")
        gateway.connected = True
        assert (await get(f"{server.url}/readyz"))[:2] == (503, "store: RuntimeError\n")
        assert (await get(f"{server.url}/healthz"))[:2] == (200, "ok\n")


async def test_a_store_that_does_not_answer_makes_the_bot_unready_in_time() -> None:
    store = HangingStore()
    async with HealthServer(
        gateway_connected=Ready(),
        store=store,
        host="127.0.0.1",
        port=0,
        store_timeout=0.2,  # type: ignore[arg-type]
    ) as server:
        status = await asyncio.wait_for(get(f"{server.url}/readyz"), 5)
        assert status[:2] == (503, "store: TimeoutError\n")


async def test_metrics_are_prometheus_text_or_openmetrics_when_asked(store: SQLiteJobStore) -> None:
    async with HealthServer(gateway_connected=Ready(), store=store, host="127.0.0.1", port=0) as server:
        samples = await scrape(server.url)
        assert samples.content_type == "text/plain; version=0.0.4; charset=utf-8"
        for name in ("bot_jobs_in_flight", "bot_queue_depth", "bot_scenario_ceiling", "bot_credits_spent_total"):
            assert f"\n{name} " in samples.text, name
        for name in ("bot_added_latency_seconds", "bot_job_duration_seconds"):
            assert f"# TYPE {name} histogram" in samples.text
        assert "# TYPE bot_scenario_requests_total counter" in samples.text
        assert "# TYPE bot_discord_errors_total counter" in samples.text
        assert (await get(f"{server.url}/nothing"))[0] == 404


async def test_a_port_in_use_is_one_clear_error(store: SQLiteJobStore) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = HealthServer(gateway_connected=Ready(), store=store, host="127.0.0.1", port=port)
        with pytest.raises(HealthServerError) as raised:
            await server.start()
    assert str(raised.value) == f"METRICS_PORT/METRICS_HOST: cannot listen on 127.0.0.1:{port} (Address already in use)"


def test_python_m_bot_stops_with_one_line_when_the_metrics_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DISCORD_", "SCENARIO_"))}
        env.update(
            DISCORD_TOKEN="never-used-token",
            SCENARIO_SDK_API_KEY="key",
            SCENARIO_SDK_API_SECRET="secret",
            DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
            METRICS_PORT=str(port),
        )
        result = subprocess.run(
            [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if "Configuration error" in line]
    expected = f"METRICS_PORT/METRICS_HOST: cannot listen on 127.0.0.1:{port} (Address already in use)"
    assert errors == [f"Configuration error: {expected}"], result.stderr
    assert "never-used-token" not in result.stderr
