"""Uploads, bulk asset lookups and their fallback, expired CDN URLs and the download cap."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from PIL import Image

from bot.scenario import (
    IDEOGRAM_V4,
    MAX_UPLOAD_BYTES,
    Asset,
    DownloadTooLargeError,
    ImageTooLargeError,
    NotFoundError,
    ScenarioClient,
)
from fakes.scenario import FakeScenario, Fault


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (20, 120, 220)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


async def _generated(client: ScenarioClient, outputs: int) -> list[str]:
    result = await client.submit_generate(IDEOGRAM_V4, {"prompt": "three cats", "numOutputs": outputs})
    return (await client.wait_for_job(result.job.job_id)).asset_ids


def _paths(fake: FakeScenario, method: str, prefix: str) -> list[str]:
    return [path for m, path in fake.request_log if m == method and path.startswith(prefix)]


async def test_upload_round_trip_is_byte_exact(fake: FakeScenario, client: ScenarioClient) -> None:
    data = png()
    asset_id = await client.upload_image(data, name="reference.png")
    assert fake.uploads == [asset_id] and fake.assets[asset_id].data == data
    asset = await client.get_asset(asset_id)
    assert asset.id == asset_id and asset.mime_type == "image/png"
    assert asset.properties.size == len(data) and (asset.properties.width, asset.properties.height) == (64, 48)
    assert await client.download_asset(asset, max_bytes=len(data)) == data


async def test_jpeg_upload_keeps_its_type(fake: FakeScenario, client: ScenarioClient) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="JPEG")
    asset_id = await client.upload_image(buffer.getvalue(), name="a.jpg", mime_type="image/jpeg")
    assert fake.assets[asset_id].mime_type == "image/jpeg"


async def test_over_six_megabytes_is_refused_before_sending(fake: FakeScenario, client: ScenarioClient) -> None:
    with pytest.raises(ImageTooLargeError) as caught:
        await client.upload_image(b"\0" * (MAX_UPLOAD_BYTES + 1), name="huge.png")
    assert fake.request_log == []
    assert caught.value.size == MAX_UPLOAD_BYTES + 1 and caught.value.limit == MAX_UPLOAD_BYTES
    assert "6.0 MB" in str(caught.value) and f"{MAX_UPLOAD_BYTES + 1:,} bytes" in str(caught.value)


async def test_get_assets_is_one_bulk_call_in_the_order_asked(fake: FakeScenario, client: ScenarioClient) -> None:
    ids = await _generated(client, 3)
    wanted = [ids[2], ids[0], ids[1], ids[0]]
    assets = await client.get_assets(wanted)
    assert [a.id for a in assets] == wanted
    assert len(_paths(fake, "POST", "/v1/assets/get-bulk")) == 1
    assert _paths(fake, "GET", "/v1/assets/") == []
    assert all(a.metadata.parent_job_id and a.url for a in assets)


@pytest.mark.parametrize("status", [404, 405])
async def test_get_assets_falls_back_to_single_gets(fake: FakeScenario, client: ScenarioClient, status: int) -> None:
    ids = await _generated(client, 2)
    fake.inject(Fault(method="POST", path=r"^/v1/assets/get-bulk$", status=status))
    assets = await client.get_assets(ids)
    assert [a.id for a in assets] == ids
    assert sorted(_paths(fake, "GET", "/v1/assets/")) == sorted(f"/v1/assets/{i}" for i in ids)


async def test_get_assets_chunks_of_200(fake: FakeScenario, client: ScenarioClient) -> None:
    ids = [await client.upload_image(png(1, 1, (i % 256, 0, 0)), name=f"{i}.png") for i in range(201)]
    assets = await client.get_assets(ids)
    assert [a.id for a in assets] == ids
    assert len(_paths(fake, "POST", "/v1/assets/get-bulk")) == 2


async def test_an_asset_missing_from_bulk_is_not_found(fake: FakeScenario, client: ScenarioClient) -> None:
    ids = await _generated(client, 1)
    with pytest.raises(NotFoundError, match="Asset not found"):
        await client.get_assets([*ids, "asset_missing"])


async def test_expired_url_is_refreshed_once(fake: FakeScenario, client: ScenarioClient) -> None:
    [asset_id] = await _generated(client, 1)
    asset = await client.get_asset(asset_id)
    fake.expire_urls()
    gets_before = len(_paths(fake, "GET", f"/v1/assets/{asset_id}"))
    data = await client.download_asset(asset, max_bytes=10_000_000)
    assert data == fake.assets[asset_id].data
    assert len(_paths(fake, "GET", f"/v1/assets/{asset_id}")) == gets_before + 1
    assert len(_paths(fake, "GET", "/cdn/")) == 2


async def test_download_cap_from_content_length(fake: FakeScenario, client: ScenarioClient) -> None:
    [asset_id] = await _generated(client, 1)
    asset = await client.get_asset(asset_id)
    size = len(fake.assets[asset_id].data)
    with pytest.raises(DownloadTooLargeError) as caught:
        await client.download_asset(asset, max_bytes=size - 1)
    assert caught.value.limit == size - 1 and caught.value.asset_id == asset_id
    assert len(_paths(fake, "GET", "/cdn/")) == 1  # not retried
    assert len(await client.download_asset(asset, max_bytes=size)) == size


@pytest.fixture
async def chunked_cdn() -> AsyncIterator[str]:
    """A CDN that streams 10 x 1000 bytes without a Content-Length."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"x" * 1000)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/file", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/file?sig=abc"
    await runner.cleanup()


async def test_download_cap_while_streaming(client: ScenarioClient, chunked_cdn: str) -> None:
    asset = Asset(id="asset_s", url=chunked_cdn)
    with pytest.raises(DownloadTooLargeError) as caught:
        await client.download_asset(asset, max_bytes=4500)
    assert caught.value.size > 4500
    assert await client.download_asset(asset, max_bytes=10_000) == b"x" * 10_000
