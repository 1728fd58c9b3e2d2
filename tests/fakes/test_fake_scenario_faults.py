"""Injected faults: each kind, how they match, and what they leave behind."""

from __future__ import annotations

import json

import aiohttp
import pytest

from fakes.scenario import Fault

V4 = "model_ideogram-v4"
GENERATE = r"^/v1/generate/"


async def test_status_fault_answers_without_creating_a_job(api, fake):
    fake.inject(Fault(method="POST", path=GENERATE, kind="status", status=503))
    reply = await api.post(f"/generate/custom/{V4}", json={"prompt": "x"})
    assert reply.status == 503
    assert reply.json == {"reason": "Service Unavailable", "name": "ServiceUnavailableError"}
    assert reply.headers["x-request-id"]
    assert fake.jobs == {}
    call = fake.generate_calls[-1]
    assert (call.model_id, call.body, call.job_id, call.status) == (V4, {"prompt": "x"}, None, 503)
    await api.generate()  # times=1: spent
    assert len(fake.jobs) == 1


async def test_status_fault_with_body_headers_and_times(api, fake):
    body = {"reason": "slow down", "name": "TooManyRequests"}
    fake.inject(Fault("GET", r"^/v1/jobs/", "status", 429, body=body, headers={"Retry-After": "2"}, times=2))
    for _ in range(2):
        reply = await api.get("/jobs/job_x")
        assert (reply.status, reply.json, reply.headers["Retry-After"]) == (429, body, "2")
    assert (await api.get("/jobs/job_x")).status == 404


async def test_faults_match_method_and_path_in_order(api, fake):
    fake.inject(Fault(method="POST", path=r"^/v1/jobs", status=500))  # wrong method: never fires on GET
    fake.inject(Fault(method="*", path=r"/jobs$", status=502))
    fake.inject(Fault(method="GET", path=r"/jobs$", status=504))
    assert (await api.get("/jobs")).status == 502
    assert (await api.get("/jobs")).status == 504
    assert (await api.get("/jobs", params={"types": "custom"})).status == 200
    assert [f.status for f in fake.faults.pending()] == [500]


async def test_reset_before_drops_the_connection_and_creates_nothing(api, fake):
    fake.inject(Fault(method="POST", path=GENERATE, kind="reset_before"))
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.post(f"/generate/custom/{V4}", json={"prompt": "x"})
    assert fake.jobs == {}
    assert (fake.generate_calls[-1].job_id, fake.generate_calls[-1].status) == (None, None)


async def test_reset_after_creates_the_job_then_drops_the_connection(api, fake):
    fake.inject(Fault(method="POST", path=GENERATE, kind="reset_after"))
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.post(f"/generate/custom/{V4}", json={"prompt": "x"})
    assert len(fake.jobs) == 1
    call = fake.generate_calls[-1]
    assert call.job_id in fake.jobs and call.status is None


async def test_delay_sleeps_with_the_injected_sleep(api, fake, clock):
    fake.inject(Fault(method="GET", path=r"^/v1/jobs$", kind="delay", delay=12.5))
    before = clock()
    reply = await api.get("/jobs")
    assert reply.status == 200
    assert clock.sleeps == [12.5] and clock() == before + 12.5


async def test_malformed_answers_200_with_broken_json(api, fake):
    fake.inject(Fault(method="POST", path=GENERATE, kind="malformed"))
    reply = await api.post(f"/generate/custom/{V4}", json={"prompt": "x"})
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.data)
    assert len(fake.jobs) == 1  # the request was handled; only the answer is broken


async def test_aiohttp_retries_one_reset_of_a_get(api, fake):
    # aiohttp (3.14) resends an idempotent request once, silently, when the server disconnects,
    # so a single reset of a GET is invisible to an aiohttp client; it takes two to surface.
    fake.inject(Fault(method="GET", path=r"^/v1/jobs$", kind="reset_before"))
    assert (await api.get("/jobs")).status == 200
    assert fake.request_log[-2:] == [("GET", "/v1/jobs"), ("GET", "/v1/jobs")]


async def test_faults_apply_to_the_cdn(api, fake, make_png):
    asset_id = await api.upload(make_png())
    url = (await api.asset(asset_id))["url"]
    fake.inject(Fault(method="GET", path=r"^/cdn/", kind="reset_before", times=2))
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.get(url, auth=None)
    assert (await api.get(url, auth=None)).status == 200


def test_fault_rejects_unknown_kinds():
    with pytest.raises(ValueError):
        Fault(kind="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Fault(times=0)
