"""`python -m fakes.sandbox` as a real subprocess: ready line, serving, clean exit on a signal."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[3]
READY = re.compile(r"^Scenario sandbox ready at (http://127\.0\.0\.1:\d+/v1) \((.+)\)$")


@asynccontextmanager
async def sandbox(*args: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, str]]:
    """Start the CLI on a free port; yields the process, its base URL and the ready line's note."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fakes.sandbox", "--host", "127.0.0.1", "--port", "0", *args,
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=20)).decode().rstrip("\n")
        match = READY.match(line)
        assert match, (line, await proc.stderr.read())
        yield proc, match.group(1), match.group(2)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_sandbox_serves_any_credentials_and_exits_on_sigint():
    async with sandbox("--job-seconds", "0.2") as (proc, base_url, note), aiohttp.ClientSession() as session:
        assert note == "any credentials accepted"
        headers = {"Authorization": aiohttp.encode_basic_auth("whatever", "anything")}
        body = {"prompt": "hello sandbox"}
        async with session.post(f"{base_url}/generate/custom/model_ideogram-v4", json=body, headers=headers) as r:
            assert r.status == 200
            job_id = (await r.json())["job"]["jobId"]
        await asyncio.sleep(0.3)
        async with session.get(f"{base_url}/jobs/{job_id}", headers=headers) as r:
            assert r.status == 200 and (await r.json())["job"]["status"] == "success"
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
        assert await proc.stdout.read() == b""  # exactly one line was printed


async def test_sandbox_checks_given_credentials_and_exits_on_sigterm():
    async with sandbox("--key", "k1", "--secret", "s1") as (proc, base_url, _), aiohttp.ClientSession() as session:
        wrong = {"Authorization": aiohttp.encode_basic_auth("k1", "nope")}
        right = {"Authorization": aiohttp.encode_basic_auth("k1", "s1")}
        async with session.get(f"{base_url}/jobs", headers=wrong) as r:
            assert r.status == 401
        async with session.get(f"{base_url}/jobs", headers=right) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0


async def test_sandbox_price_per_image_prices_dry_runs_and_runs_alike():
    async with sandbox("--price-per-image", "10") as (proc, base_url, _), aiohttp.ClientSession() as session:
        headers = {"Authorization": aiohttp.encode_basic_auth("k", "s")}
        url, body = f"{base_url}/generate/custom/model_ideogram-v4", {"prompt": "two kites", "numOutputs": 2}
        async with session.post(url, json=body, headers=headers, params={"dryRun": "true"}) as r:
            assert r.status == 269 and (await r.json())["creativeUnitsCost"] == 20
        async with session.post(url, json=body, headers=headers) as r:
            assert r.status == 200 and (await r.json())["creativeUnitsCost"] == 20
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
