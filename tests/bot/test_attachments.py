"""Fetching an attachment: only from allowed hosts, and never more than the byte cap, declared or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.attachments import fetch_attachment
from bot.errors import InvalidInputError

KB = 1024


class CDN:
    """A loopback CDN: /sized sends 10 KB with a Content-Length, /streamed sends 10 KB in chunks without one."""

    def __init__(self) -> None:
        self.requests = 0
        self.base = ""

    async def sized(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(body=b"s" * (10 * KB), content_type="image/png")

    async def streamed(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"c" * KB)
        await response.write_eof()
        return response

    async def gone(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.Response(status=404)


@pytest.fixture
async def cdn() -> AsyncIterator[CDN]:
    state = CDN()
    app = web.Application()
    app.router.add_get("/sized.png", state.sized)
    app.router.add_get("/streamed.png", state.streamed)
    app.router.add_get("/gone.png", state.gone)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield state
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def _fetch(session: aiohttp.ClientSession, url: str, max_bytes: int) -> bytes:
    return await fetch_attachment(session, url, filename="cat.png", max_bytes=max_bytes, allowed_hosts={"127.0.0.1"})


@pytest.mark.parametrize("path", ["/sized.png", "/streamed.png"])
async def test_a_file_within_the_cap_arrives_whole(cdn: CDN, session: aiohttp.ClientSession, path: str) -> None:
    data = await _fetch(session, cdn.base + path, 10 * KB)
    assert len(data) == 10 * KB and len(set(data)) == 1


async def test_a_declared_size_over_the_cap_is_refused_by_name_and_size(
    cdn: CDN, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await _fetch(session, cdn.base + "/sized.png", 8 * KB)
    assert str(caught.value) == "`cat.png` is 10 KB; the limit is 8 KB."


async def test_a_stream_over_the_cap_is_cut_off(cdn: CDN, session: aiohttp.ClientSession) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await _fetch(session, cdn.base + "/streamed.png", 3 * KB)
    assert str(caught.value) == "`cat.png` is larger than the 3 KB limit."


async def test_other_hosts_are_never_fetched(cdn: CDN, session: aiohttp.ClientSession) -> None:
    with pytest.raises(InvalidInputError, match="does not come from Discord's CDN"):
        await fetch_attachment(session, cdn.base + "/sized.png", filename="cat.png", max_bytes=10 * KB)
    assert cdn.requests == 0


async def test_a_refused_download_says_so(cdn: CDN, session: aiohttp.ClientSession) -> None:
    with pytest.raises(InvalidInputError, match=r"would not hand over `cat\.png` \(HTTP 404\)"):
        await _fetch(session, cdn.base + "/gone.png", 10 * KB)
