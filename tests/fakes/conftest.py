"""Fixtures for the fake Scenario tests: a FakeClock, the fake on 127.0.0.1, and a small HTTP helper."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from PIL import Image

from fakes.clock import FakeClock
from fakes.scenario import FakeScenario

V4 = "model_ideogram-v4"
CHARACTER = "model_ideogram-character"


@dataclass
class Reply:
    """An HTTP answer, read completely."""

    status: int
    headers: Mapping[str, str]
    data: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.data)


class Api:
    """Raw HTTP against the fake with a real aiohttp session (no client code under test)."""

    def __init__(self, session: aiohttp.ClientSession, fake: FakeScenario) -> None:
        self.session = session
        self.fake = fake
        self.auth = aiohttp.encode_basic_auth("test-key", "test-secret")

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        auth: str | None = "default",
    ) -> Reply:
        """Send a request; `path` is relative to /v1 unless it is a full URL."""
        url = path if path.startswith("http") else f"{self.fake.base_url}{path}"
        headers = {}
        if auth is not None:
            headers["Authorization"] = self.auth if auth == "default" else auth
        async with self.session.request(method, url, json=json, params=params, headers=headers) as resp:
            return Reply(resp.status, resp.headers, await resp.read())

    async def get(self, path: str, **kwargs: Any) -> Reply:
        """GET."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        """POST."""
        return await self.request("POST", path, **kwargs)

    async def generate(self, model: str = V4, **inputs: Any) -> dict[str, Any]:
        """Start a job (prompt defaults to a short one) and return the job JSON; asserts 200."""
        inputs.setdefault("prompt", "a lighthouse at dusk")
        reply = await self.post(f"/generate/custom/{model}", json=inputs)
        assert reply.status == 200, reply.data
        return reply.json["job"]

    async def job(self, job_id: str) -> dict[str, Any]:
        """GET /jobs/{jobId}; asserts 200."""
        reply = await self.get(f"/jobs/{job_id}")
        assert reply.status == 200, reply.data
        return reply.json["job"]

    async def asset(self, asset_id: str) -> dict[str, Any]:
        """GET /assets/{assetId}; asserts 200."""
        reply = await self.get(f"/assets/{asset_id}")
        assert reply.status == 200, reply.data
        return reply.json["asset"]

    async def upload(self, data: bytes, name: str = "ref.png", data_url: bool = True) -> str:
        """POST /assets with base64 image bytes; returns the asset id."""
        encoded = base64.b64encode(data).decode()
        image = f"data:image/png;base64,{encoded}" if data_url else encoded
        reply = await self.post("/assets", json={"name": name, "image": image})
        assert reply.status == 200, reply.data
        return reply.json["asset"]["id"]


def png_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG of the given size."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def make_png() -> Callable[..., bytes]:
    """Build PNG bytes: make_png(width, height, color)."""
    return png_bytes


@pytest.fixture
def clock() -> FakeClock:
    """The fake's clock; advance it to move jobs along."""
    return FakeClock()


@pytest.fixture
async def fake(clock: FakeClock) -> AsyncIterator[FakeScenario]:
    """A started FakeScenario accepting any credentials, driven by `clock`."""
    scenario = FakeScenario(clock=clock, sleep=clock.sleep, rng_seed=1234)
    await scenario.start("127.0.0.1", 0)
    try:
        yield scenario
    finally:
        await scenario.stop()


@pytest.fixture
async def api(fake: FakeScenario) -> AsyncIterator[Api]:
    """An HTTP helper with Basic credentials, on a real ClientSession."""
    async with aiohttp.ClientSession() as session:
        yield Api(session, fake)
