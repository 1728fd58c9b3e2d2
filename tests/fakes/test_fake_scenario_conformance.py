"""Every response the fake produces must parse with the official SDK's pydantic models (scenario-sdk 2.4.0).

`model_validate(..., strict=True)` checks required fields, types and the SDK's Literal enums, so
a missing field or a misspelt status makes these tests fail.
"""

from __future__ import annotations

import base64
import re
import typing
from typing import Any

import pytest
from scenario_sdk.pagination import AsyncJobsCursor
from scenario_sdk.types.asset_get_bulk_response import AssetGetBulkResponse
from scenario_sdk.types.asset_retrieve_response import AssetRetrieveResponse
from scenario_sdk.types.asset_upload_response import AssetUploadResponse
from scenario_sdk.types.generate_run_model_response import CostDetails, GenerateRunModelResponse
from scenario_sdk.types.job_list_response import JobListResponse
from scenario_sdk.types.job_retrieve_response import Job, JobRetrieveResponse

V4 = "model_ideogram-v4"
CHARACTER = "model_ideogram-character"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SDK_STATUSES = set(typing.get_args(Job.model_fields["status"].annotation))


def _check_job_dates(job: dict[str, Any]) -> None:
    assert ISO_MS.match(job["createdAt"]) and ISO_MS.match(job["updatedAt"])
    for entry in job["statusHistory"]:
        assert ISO_MS.match(entry["date"]), entry
        assert entry["status"] in SDK_STATUSES
    assert job["statusHistory"][-1]["status"] == job["status"]


async def test_generate_response_parses(api):
    reply = await api.post(f"/generate/custom/{V4}", json={"prompt": "neon sign", "numOutputs": 2})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    parsed = GenerateRunModelResponse.model_validate(reply.json, strict=True)
    assert parsed.job.status == "queued" and parsed.job.progress == 0
    assert parsed.job.job_type == "custom"
    assert parsed.job.metadata.input == {"prompt": "neon sign", "numOutputs": 2}
    assert parsed.job.billing is not None and parsed.job.billing.cu_cost == parsed.creative_units_cost
    assert parsed.cost_details is not None and parsed.cost_details.custom_generation == parsed.creative_units_cost
    assert parsed.creative_units_discount == 0
    _check_job_dates(reply.json["job"])


async def test_dry_run_response_parses(api, fake):
    reply = await api.post(f"/generate/custom/{V4}", json={"prompt": "x"}, params={"dryRun": "true"})
    assert reply.status == 269
    assert isinstance(reply.json["creativeUnitsCost"], int | float)
    details = CostDetails.model_validate(reply.json["costDetails"], strict=True)
    assert details.custom_generation == reply.json["creativeUnitsCost"]
    assert fake.jobs == {}


@pytest.mark.parametrize(
    ("elapsed", "status"),
    [(0.1, "queued"), (0.5, "warming-up"), (1.5, "in-progress"), (2.8, "finalizing"), (3.0, "success")],
)
async def test_job_in_each_status_parses(api, clock, elapsed, status):
    job_id = (await api.generate())["jobId"]
    clock.advance(elapsed)
    reply = await api.get(f"/jobs/{job_id}")
    parsed = JobRetrieveResponse.model_validate(reply.json, strict=True)
    assert parsed.job.status == status
    assert status in SDK_STATUSES
    _check_job_dates(reply.json["job"])
    if status == "success":
        assert parsed.job.progress == 1
        assert parsed.job.metadata.asset_ids and len(parsed.job.metadata.asset_ids) == 1
    else:
        assert parsed.job.metadata.asset_ids is None


async def test_failed_job_parses(api, fake, clock):
    fake.fail_next_job("provider refused the prompt", "rephrase it")
    job_id = (await api.generate())["jobId"]
    clock.advance(3.0)
    reply = await api.get(f"/jobs/{job_id}")
    parsed = JobRetrieveResponse.model_validate(reply.json, strict=True)
    assert parsed.job.status == "failure"
    assert parsed.job.metadata.error == "provider refused the prompt"
    assert parsed.job.metadata.hint == "rephrase it"
    _check_job_dates(reply.json["job"])


async def test_canceled_job_parses(api, fake, clock):
    fake.cancel_next_job()
    job_id = (await api.generate())["jobId"]
    clock.advance(3.0)
    reply = await api.get(f"/jobs/{job_id}")
    parsed = JobRetrieveResponse.model_validate(reply.json, strict=True)
    assert parsed.job.status == "canceled"
    _check_job_dates(reply.json["job"])


async def test_jobs_list_parses(api, clock):
    for _ in range(3):
        await api.generate()
        clock.advance(1.0)
    reply = await api.get("/jobs", params={"types": "custom", "pageSize": "2"})
    page = AsyncJobsCursor[JobListResponse].model_validate(reply.json, strict=True)
    assert len(page.jobs) == 2 and page.next_pagination_token
    for job in reply.json["jobs"]:
        JobListResponse.model_validate(job, strict=True)
        _check_job_dates(job)


async def test_assets_parse(api, clock, make_png):
    job_id = (await api.generate(numOutputs=2))["jobId"]
    clock.advance(3.0)
    asset_ids = (await api.job(job_id))["metadata"]["assetIds"]

    single = await api.get(f"/assets/{asset_ids[0]}")
    asset = AssetRetrieveResponse.model_validate(single.json, strict=True).asset
    assert asset.kind == "image" and asset.status == "success" and asset.source == "txt2img"
    assert asset.metadata.type == "txt2img" and asset.metadata.parent_job_id == job_id
    assert asset.properties.width == 1024 and asset.properties.size > 0
    assert ISO_MS.match(asset.created_at) and ISO_MS.match(asset.updated_at)

    bulk = await api.post("/assets/get-bulk", json={"assetIds": asset_ids})
    parsed = AssetGetBulkResponse.model_validate(bulk.json, strict=True)
    assert [a.id for a in parsed.assets] == asset_ids

    ref_id = await api.upload(make_png())
    uploaded = AssetRetrieveResponse.model_validate((await api.get(f"/assets/{ref_id}")).json, strict=True)
    assert uploaded.asset.source == "uploaded" and uploaded.asset.metadata.type == "uploaded"


async def test_upload_response_parses(api, make_png):
    image = "data:image/png;base64," + base64.b64encode(make_png()).decode()
    reply = await api.post("/assets", json={"name": "ref.png", "image": image})
    parsed = AssetUploadResponse.model_validate(reply.json, strict=True)
    assert parsed.asset.mime_type == "image/png" and parsed.asset.properties.width == 64


async def test_character_asset_parses(api, clock, make_png):
    ref = await api.upload(make_png())
    job_id = (await api.generate(CHARACTER, characterReferenceImage=ref))["jobId"]
    clock.advance(3.0)
    asset_id = (await api.job(job_id))["metadata"]["assetIds"][0]
    asset = AssetRetrieveResponse.model_validate((await api.get(f"/assets/{asset_id}")).json, strict=True).asset
    assert asset.source == "img2img" and asset.metadata.type == "img2img"


async def test_error_bodies_have_a_reason(api, fake, clock, make_png):
    fake.parallel_limit = 1
    await api.generate()
    bad_auth = "Basic " + "not base64!"
    cases = [
        (401, await api.get("/jobs/job_x", auth=None)),
        (401, await api.get("/jobs/job_x", auth=bad_auth)),
        (400, await api.post(f"/generate/custom/{V4}", json={"prompt": ""})),
        (404, await api.post("/generate/custom/model_other", json={"prompt": "x"})),
        (429, await api.post(f"/generate/custom/{V4}", json={"prompt": "x"})),
        (404, await api.get("/jobs/job_missing")),
        (400, await api.get("/jobs", params={"pageSize": "500"})),
        (404, await api.get("/assets/asset_missing")),
        (400, await api.post("/assets", json={"name": "x", "image": "aGVsbG8="})),
        (400, await api.post("/assets/get-bulk", json={"assetIds": "nope"})),
        (404, await api.get("/no-such-route")),
    ]
    job_id = next(iter(fake.jobs))
    cases.append((400, await api.post(f"/jobs/{job_id}/action", json={"action": "cancel"})))
    for expected, reply in cases:
        assert reply.status == expected, reply.data
        body = reply.json
        assert isinstance(body["reason"], str) and body["reason"]
        assert set(body) <= {"reason", "name", "details"}
        assert reply.headers.get("x-request-id")


async def test_nsfw_labelled_assets_parse(api, clock):
    """The fake's rule: a prompt with the word `nsfw` labels every output (tests/README.md)."""
    job_id = (await api.generate(prompt="a figure study, NSFW", numOutputs=2))["jobId"]
    clean_id = (await api.generate(prompt="a lighthouse"))["jobId"]
    clock.advance(3.0)
    asset_ids = (await api.job(job_id))["metadata"]["assetIds"]
    [clean_asset] = (await api.job(clean_id))["metadata"]["assetIds"]

    parsed = AssetGetBulkResponse.model_validate(
        (await api.post("/assets/get-bulk", json={"assetIds": [*asset_ids, clean_asset]})).json, strict=True
    )
    assert [a.nsfw for a in parsed.assets] == [["nudity", "explicit"], ["nudity", "explicit"], None]
