"""`python -m bot` with `METRICS_PORT` set: Prometheus scrapes `/metrics` and a probe asks `/readyz`, over TCP."""

from __future__ import annotations

import asyncio
import math
import socket

from tests.e2e.conftest import MakeE2E, job_id_of
from tests.scrape import delta, get, scrape


def free_port() -> int:
    """A port nothing listens on right now (the operator's METRICS_PORT)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def until_ready(url: str, timeout: float = 30.0) -> tuple[int, str]:
    """`/readyz` once it answers 200 (discord.py reports ready a moment after the gateway connects)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        status, body, _ = await get(f"{url}/readyz")
        if status == 200 or loop.time() > deadline:
            return status, body
        assert (status, body) == (503, "gateway not connected\n")
        await asyncio.sleep(0.1)


async def test_the_bot_process_serves_metrics_and_health_on_metrics_port(make_e2e: MakeE2E) -> None:
    port = free_port()
    e2e = await make_e2e(env={"METRICS_PORT": str(port)})
    url = f"http://127.0.0.1:{port}"  # METRICS_HOST defaults to 127.0.0.1

    assert await until_ready(url) == (200, "ready\n")
    assert (await get(f"{url}/healthz"))[:2] == (200, "ok\n")
    before = await scrape(url)
    assert before.content_type == "text/plain; version=0.0.4; charset=utf-8"

    message = await e2e.result_of(await e2e.imagine("a lighthouse at dusk"))
    job_id = job_id_of(message)

    after = await scrape(url)
    moved = after - before
    assert delta(moved, "bot_jobs_total", state="delivered") == 1
    assert delta(moved, "bot_job_duration_seconds_count") == 1
    assert delta(moved, "bot_added_latency_seconds_count") == 1
    assert delta(moved, "bot_scenario_requests_total", endpoint="POST /generate/custom/{model}", status="200") == 1
    assert delta(moved, "bot_scenario_requests_total", endpoint="CDN", status="200") == 1
    [paid] = e2e.paid_generates()
    assert delta(moved, "bot_credits_spent_total") == e2e.scenario.jobs[paid.job_id].cost > 0
    # MAX_PARALLEL_JOBS=auto and no 429 so far: the ceiling is not known yet.
    assert after.get("bot_jobs_in_flight") == 0 and math.isnan(after.get("bot_scenario_ceiling"))
    for private in (job_id, paid.job_id, "a lighthouse at dusk", *e2e.secrets.values()):
        assert private not in after.text
    assert f"Serving /metrics, /healthz and /readyz on {url}" in e2e.bot.log()
