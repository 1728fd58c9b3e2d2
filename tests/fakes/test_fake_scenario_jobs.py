"""Behaviour of the fake's generate and jobs endpoints: auth, validation, lifecycle, limits, listing."""

from __future__ import annotations

import io

import aiohttp
import pytest
from PIL import Image

V4 = "model_ideogram-v4"
CHARACTER = "model_ideogram-character"


async def test_auth_is_required(api):
    assert (await api.get("/jobs", auth=None)).status == 401
    assert (await api.get("/jobs", auth="Bearer abc")).status == 401
    assert (await api.get("/jobs", auth="Basic !!!")).status == 401
    reply = await api.get("/jobs", auth=None)
    assert reply.json == {"reason": "Unauthorized", "name": "UnauthorizedError"}
    assert (await api.get("/jobs", params={"types": "custom"})).status == 200


async def test_configured_credentials_are_checked(fake, api):
    fake.api_key, fake.api_secret = "right-key", "right-secret"
    assert (await api.get("/jobs")).status == 401
    api.auth = aiohttp.encode_basic_auth("right-key", "right-secret")
    assert (await api.get("/jobs")).status == 200


async def test_every_response_has_a_request_id(api):
    ids = {(await api.get("/jobs")).headers["x-request-id"], (await api.get("/jobs/x")).headers["x-request-id"]}
    assert len(ids) == 2


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (V4, {}, "prompt"),
        (V4, {"prompt": "   "}, "prompt"),
        (V4, {"prompt": 3}, "prompt"),
        (V4, {"prompt": "x" * 2001}, "prompt"),
        (V4, {"prompt": "x", "imageSize": "huge"}, "imageSize"),
        (V4, {"prompt": "x", "renderingSpeed": "Turbo"}, "renderingSpeed"),
        (V4, {"prompt": "x", "acceleration": "max"}, "acceleration"),
        (V4, {"prompt": "x", "enablePromptExpansion": "yes"}, "enablePromptExpansion"),
        (V4, {"prompt": "x", "numOutputs": 5}, "numOutputs"),
        (V4, {"prompt": "x", "numOutputs": 0}, "numOutputs"),
        (V4, {"prompt": "x", "numOutputs": 1.5}, "numOutputs"),
        (V4, {"prompt": "x", "seed": -1}, "seed"),
        (V4, {"prompt": "x", "seed": 2147483648}, "seed"),
        (V4, {"prompt": "x", "seed": "7"}, "seed"),
        (V4, {"prompt": "x", "aspectRatio": "1:1"}, "aspectRatio"),
        (V4, {"prompt": "x", "styleType": "Auto"}, "styleType"),
        (CHARACTER, {"prompt": "x"}, "characterReferenceImage"),
        (CHARACTER, {"prompt": "x", "characterReferenceImage": "asset_nope"}, "characterReferenceImage"),
        (CHARACTER, {"prompt": "x", "characterReferenceImage": "REF", "renderingSpeed": "TURBO"}, "renderingSpeed"),
        (CHARACTER, {"prompt": "x", "characterReferenceImage": "REF", "styleType": "Anime"}, "styleType"),
        (CHARACTER, {"prompt": "x", "characterReferenceImage": "REF", "aspectRatio": "7:5"}, "aspectRatio"),
        (CHARACTER, {"prompt": "x", "characterReferenceImage": "REF", "resolution": "100x100"}, "resolution"),
        (CHARACTER, {"prompt": "x", "characterReferenceImage": "REF", "image": "REF"}, "mask"),
        (CHARACTER, {"prompt": "x", "characterReferenceImage": "REF", "mask": "REF"}, "image"),
        (CHARACTER, {"prompt": "x", "characterReferenceImage": "REF", "numOutputs": 2}, "numOutputs"),
    ],
)
async def test_invalid_input_is_rejected_naming_the_field(api, fake, make_png, model, body, field):
    ref = await api.upload(make_png())
    body = {key: (ref if value == "REF" else value) for key, value in body.items()}
    reply = await api.post(f"/generate/custom/{model}", json=body)
    assert reply.status == 400, reply.data
    assert f'"{field}"' in reply.json["reason"]
    assert fake.jobs == {}
    assert fake.generate_calls[-1].status == 400 and fake.generate_calls[-1].job_id is None


async def test_prompt_at_the_limit_is_accepted(api):
    await api.generate(prompt="x" * 2000)


async def test_unknown_model_is_404(api):
    reply = await api.post("/generate/custom/model_flux", json={"prompt": "x"})
    assert (reply.status, reply.json["reason"]) == (404, "Model not found")


async def test_lifecycle_advances_with_the_clock_and_progress_rises(api, fake, clock):
    job = await api.generate()
    assert (job["status"], job["progress"]) == ("queued", 0)
    seen, progress = [], []
    for _ in range(30):
        clock.advance(0.1)
        current = await api.job(job["jobId"])
        seen.append(current["status"])
        progress.append(current["progress"])
    assert list(dict.fromkeys(seen)) == ["queued", "warming-up", "in-progress", "finalizing", "success"]
    assert progress == sorted(progress) and progress[-1] == 1
    in_progress = [p for s, p in zip(seen, progress, strict=True) if s == "in-progress"]
    assert in_progress[0] < 0.2 and in_progress[-1] > 0.85 and len(set(in_progress)) > 5
    history = [entry["status"] for entry in current["statusHistory"]]
    assert history == ["queued", "warming-up", "in-progress", "finalizing", "success"]
    assert current["updatedAt"] == current["statusHistory"][-1]["date"]
    assert fake.status_first_seen[job["jobId"]]["success"] == pytest.approx(1003.0, abs=0.11)


async def test_job_advances_without_polling(api, fake, clock):
    job = await api.generate()
    clock.advance(10)
    current = await api.job(job["jobId"])
    assert current["status"] == "success" and len(current["statusHistory"]) == 5
    assert fake.jobs[job["jobId"]].success_at == pytest.approx(1003.0)


async def test_v4_makes_num_outputs_images_of_the_preset_size(api, clock):
    job = await api.generate(imageSize="portrait_16_9", numOutputs=3, seed=42)
    clock.advance(3)
    asset_ids = (await api.job(job["jobId"]))["metadata"]["assetIds"]
    assert len(asset_ids) == 3
    payloads = []
    for index, asset_id in enumerate(asset_ids):
        asset = await api.asset(asset_id)
        assert asset["metadata"]["seed"] == str(42 + index) and asset["outputIndex"] == index
        payloads.append((await api.get(asset["url"])).data)
    for data in payloads:
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.size == (576, 1024)
    assert len(set(payloads)) == 3  # the seed colours each image differently


async def test_random_seed_is_recorded(api, fake, clock):
    job = await api.generate()
    clock.advance(3)
    asset = await api.asset((await api.job(job["jobId"]))["metadata"]["assetIds"][0])
    assert asset["metadata"]["seed"].isdigit()
    assert fake.assets[asset["id"]].seed == int(asset["metadata"]["seed"])


@pytest.mark.parametrize(
    ("inputs", "size"),
    [
        ({}, (1024, 768)),
        ({"aspectRatio": "16:9"}, (1024, 576)),
        ({"aspectRatio": "9:16"}, (576, 1024)),
        ({"resolution": "512x1536", "aspectRatio": "16:9"}, (512, 1536)),
        ({"image": "IMG", "mask": "IMG", "resolution": "1024x1024"}, (300, 200)),
    ],
)
async def test_character_output_size(api, fake, clock, make_png, inputs, size):
    ref = await api.upload(make_png())
    img = await api.upload(make_png(300, 200))
    inputs = {key: (img if value == "IMG" else value) for key, value in inputs.items()}
    job = await api.generate(CHARACTER, characterReferenceImage=ref, **inputs)
    clock.advance(3)
    asset_ids = (await api.job(job["jobId"]))["metadata"]["assetIds"]
    assert len(asset_ids) == 1
    data = (await api.get((await api.asset(asset_ids[0]))["url"])).data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == size


async def test_failure_carries_error_and_hint(api, fake, clock):
    fake.fail_next_job("provider refused the prompt", "rephrase it")
    failing = await api.generate()
    ok = await api.generate()
    clock.advance(3)
    failed = await api.job(failing["jobId"])
    assert failed["status"] == "failure"
    assert (failed["metadata"]["error"], failed["metadata"]["hint"]) == ("provider refused the prompt", "rephrase it")
    assert "assetIds" not in failed["metadata"]
    assert (await api.job(ok["jobId"]))["status"] == "success"


async def test_parallel_limit_answers_429_and_creates_nothing(api, fake, clock):
    fake.parallel_limit = 2
    await api.generate()
    await api.generate()
    reply = await api.post(f"/generate/custom/{V4}", json={"prompt": "third"})
    assert reply.status == 429
    assert reply.json == {
        "reason": "You have reached your plan's limit. Please upgrade your plan to continue using this feature.",
        "name": "PlanLimitReachedError",
        "details": {"actionName": "parallel-custom-jobs", "actionLimit": 2, "actionValue": 2, "limitScope": "team"},
    }
    assert len(fake.jobs) == 2
    assert (fake.generate_calls[-1].status, fake.generate_calls[-1].job_id) == (429, None)
    clock.advance(3)
    await api.generate(prompt="third, later")


async def test_custom_jobs_cannot_be_canceled(api):
    job = await api.generate()
    reply = await api.post(f"/jobs/{job['jobId']}/action", json={"action": "cancel"})
    assert reply.status == 400
    assert reply.json["reason"] == "Cannot cancel this type of job. Action not permitted."
    assert (await api.post("/jobs/job_nope/action", json={"action": "cancel"})).status == 404


async def test_jobs_list_updated_after_returns_only_changed_jobs(api, clock):
    first = await api.generate()
    clock.advance(5)
    first_done = await api.job(first["jobId"])
    second = await api.generate()
    params = {"types": "custom", "updatedAfter": first_done["updatedAt"]}
    listed = (await api.get("/jobs", params=params)).json
    assert [job["jobId"] for job in listed["jobs"]] == [second["jobId"]]

    clock.advance(5)
    params["updatedAfter"] = second["updatedAt"]
    listed = (await api.get("/jobs", params=params)).json["jobs"]
    assert [(job["jobId"], job["status"]) for job in listed] == [(second["jobId"], "success")]
    params["updatedAfter"] = listed[0]["updatedAt"]
    assert (await api.get("/jobs", params=params)).json["jobs"] == []


async def test_jobs_list_filters_and_paginates(api, clock):
    ids = []
    for _ in range(5):
        ids.append((await api.generate())["jobId"])
        clock.advance(1)
    # at t+5 the 3 oldest have succeeded, the 2 newest are still running
    collected, token = [], None
    while True:
        params = {"type": "custom", "pageSize": "2", **({"paginationToken": token} if token else {})}
        body = (await api.get("/jobs", params=params)).json
        assert len(body["jobs"]) <= 2
        collected += [(job["updatedAt"], job["jobId"]) for job in body["jobs"]]
        token = body.get("nextPaginationToken")
        if not token:
            break
    assert {job_id for _, job_id in collected} == set(ids) and len(collected) == 5
    assert collected == sorted(collected, reverse=True)  # by update date, newest first
    by_creation = (await api.get("/jobs")).json["jobs"]  # no type filter: by creation date
    assert [job["jobId"] for job in by_creation] == list(reversed(ids))
    success = (await api.get("/jobs", params={"status": "success"})).json["jobs"]
    assert {job["jobId"] for job in success} == set(ids[:3])
    created = (await api.get("/jobs", params={"createdAfter": "2000-01-01T00:00:00.000Z"})).json["jobs"]
    assert len(created) == 5
    assert (await api.get("/jobs", params={"types": "inference"})).json["jobs"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"updatedAfter": "2020-01-01T00:00:00.000Z"},
        {"types": "custom", "createdAfter": "2020-01-01T00:00:00.000Z"},
        {"types": "custom", "updatedAfter": "yesterday"},
        {"status": "done"},
        {"types": "custom,bogus"},
        {"pageSize": "0"},
        {"paginationToken": "garbage"},
    ],
)
async def test_jobs_list_rejects_bad_queries(api, params):
    reply = await api.get("/jobs", params=params)
    assert reply.status == 400 and reply.json["reason"]


@pytest.mark.parametrize("price", [None, 10])
@pytest.mark.parametrize("body", [{"prompt": "a"}, {"prompt": "b", "numOutputs": 3, "renderingSpeed": "QUALITY"}])
async def test_a_dry_run_quotes_exactly_what_the_run_charges_and_runs_nothing(api, fake, price, body):
    fake.price_per_image = price
    quote = await api.post(f"/generate/custom/{V4}", json=body, params={"dryRun": "true"})
    assert quote.status == 269 and fake.jobs == {} and fake.generate_calls == [] and fake.charged() == 0
    assert len(fake.dry_runs) == 1 and fake.request_log == []  # free: not among the requests that cost
    run = await api.post(f"/generate/custom/{V4}", json=body)
    assert run.json["creativeUnitsCost"] == run.json["job"]["billing"]["cuCost"] == quote.json["creativeUnitsCost"]
    assert fake.charged() == quote.json["creativeUnitsCost"]
    if price is not None:
        assert quote.json["creativeUnitsCost"] == price * body.get("numOutputs", 1)


async def test_a_failed_job_is_refunded_unless_refunds_are_disabled(api, fake, clock):
    fake.price_per_image = 10
    fake.fail_next_job()
    fake.fail_next_job(refund=False)
    refunded = (await api.generate())["jobId"]
    kept = (await api.generate())["jobId"]
    clock.advance(10)
    assert "disableRefund" not in (await api.get(f"/jobs/{refunded}")).json["job"]["billing"]
    assert (await api.get(f"/jobs/{kept}")).json["job"]["billing"]["disableRefund"] is True
    assert fake.charged() == 10
