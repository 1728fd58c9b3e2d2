"""Behaviour of the fake's assets and CDN: uploads, get-bulk, signed URLs and their expiry."""

from __future__ import annotations

import base64
import io
import os

import aiohttp
from aiohttp.test_utils import TestServer
from PIL import Image

from fakes.scenario import FakeScenario


async def test_upload_round_trip_is_byte_exact(api, fake, make_png):
    original = make_png(97, 31, (1, 2, 3))
    with_data_url = await api.upload(original)
    plain = await api.upload(original, data_url=False)
    assert fake.uploads == [with_data_url, plain]
    for asset_id in (with_data_url, plain):
        assert fake.assets[asset_id].data == original
        asset = await api.asset(asset_id)
        assert (asset["properties"]["width"], asset["properties"]["height"]) == (97, 31)
        assert asset["properties"]["size"] == len(original)
        cdn = await api.get(asset["url"], auth=None)
        assert cdn.status == 200 and cdn.data == original
        assert cdn.headers["Content-Type"] == "image/png"
        assert int(cdn.headers["Content-Length"]) == len(original)


async def test_upload_keeps_the_format(api, fake):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (9, 9, 9)).save(buffer, "JPEG")
    reply = await api.post("/assets", json={"name": "a.jpg", "image": base64.b64encode(buffer.getvalue()).decode()})
    assert reply.status == 200
    assert reply.json["asset"]["mimeType"] == "image/jpeg"


async def test_bad_uploads_are_rejected(api, fake, make_png):
    encoded = base64.b64encode(make_png()).decode()
    too_big = base64.b64encode(os.urandom(6_000_001)).decode()
    cases = [
        {"image": encoded},  # no name
        {"name": "x"},  # no image
        {"name": "x", "image": "%%% not base64 %%%"},
        {"name": "x", "image": base64.b64encode(b"plain text, not an image").decode()},
        {"name": "x", "image": "data:image/png," + encoded},  # not marked base64
        {"name": "x", "image": too_big},
    ]
    for body in cases:
        reply = await api.post("/assets", json=body)
        assert reply.status == 400, (body.keys(), reply.data[:200])
        assert reply.json["reason"]
    assert fake.uploads == []


async def test_generated_assets_appear_only_once_the_job_succeeds(api, fake, clock):
    job = await api.generate(numOutputs=2)
    asset_ids = fake.jobs[job["jobId"]].asset_ids
    assert len(asset_ids) == 2
    assert (await api.get(f"/assets/{asset_ids[0]}")).status == 404
    assert (await api.post("/assets/get-bulk", json={"assetIds": asset_ids})).json == {"assets": []}
    clock.advance(3)
    assert (await api.get(f"/assets/{asset_ids[0]}")).status == 200


async def test_get_bulk(api, clock, make_png):
    job = await api.generate(numOutputs=4)
    ref = await api.upload(make_png())
    clock.advance(3)
    asset_ids = (await api.job(job["jobId"]))["metadata"]["assetIds"]
    reply = await api.post("/assets/get-bulk", json={"assetIds": [*asset_ids, ref, "asset_unknown"]})
    assets = reply.json["assets"]
    assert [asset["id"] for asset in assets] == [*asset_ids, ref]
    for asset in assets:
        assert (await api.get(asset["url"], auth=None)).status == 200
    too_many = await api.post("/assets/get-bulk", json={"assetIds": [ref] * 201})
    assert too_many.status == 400
    assert (await api.post("/assets/get-bulk", json={"assetIds": []})).status == 400


async def test_cdn_urls_expire_with_the_clock(api, fake, clock, make_png):
    asset_id = await api.upload(make_png())
    url = (await api.asset(asset_id))["url"]
    assert url.startswith(f"http://127.0.0.1:{fake.port}/cdn/{asset_id}?")
    clock.advance(3599)
    assert (await api.get(url, auth=None)).status == 200
    clock.advance(2)
    assert (await api.get(url, auth=None)).status == 403
    fresh = (await api.asset(asset_id))["url"]
    assert fresh != url and (await api.get(fresh, auth=None)).status == 200


async def test_expire_urls_revokes_every_issued_url(api, fake, make_png):
    asset_id = await api.upload(make_png())
    url = (await api.asset(asset_id))["url"]
    fake.expire_urls()
    assert (await api.get(url, auth=None)).status == 403
    assert (await api.get((await api.asset(asset_id))["url"], auth=None)).status == 200


async def test_cdn_rejects_forged_and_unknown(api, make_png):
    asset_id = await api.upload(make_png())
    url = (await api.asset(asset_id))["url"]
    forged = url.replace("sig=", "sig=0")
    assert (await api.get(forged, auth=None)).status == 403
    assert (await api.get(url.split("?")[0], auth=None)).status == 403
    unknown = url.replace(f"/cdn/{asset_id}", "/cdn/asset_unknown")
    assert (await api.get(unknown, auth=None)).status == 404


async def test_cdn_transform_query(api, make_png):
    asset_id = await api.upload(make_png(200, 100))
    url = (await api.asset(asset_id))["url"]
    reply = await api.get(url + "&width=50&format=jpeg", auth=None)
    assert reply.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(reply.data)) as image:
        assert (image.format, image.size) == ("JPEG", (50, 25))


async def test_app_works_under_aiohttp_test_server(clock, make_png):
    fake = FakeScenario(clock=clock)
    async with TestServer(fake.app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        headers = {"Authorization": aiohttp.encode_basic_auth("k", "s")}
        image = base64.b64encode(make_png()).decode()
        body = {"name": "r", "image": image}
        async with session.post(server.make_url("/v1/assets"), json=body, headers=headers) as r:
            url = (await r.json())["asset"]["url"]
        assert url.startswith(str(server.make_url("/cdn/")))
        async with session.get(url) as r:
            assert r.status == 200
