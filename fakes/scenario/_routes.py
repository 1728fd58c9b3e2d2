"""Route handlers: generate, jobs, assets and the CDN."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakes.scenario import _inputs
from fakes.scenario._images import ImageDecodeError, inspect_image, transform
from fakes.scenario._jobs_list import list_jobs
from fakes.scenario._serialize import asset_json, cost_body, error_body, job_json, plan_limit_body
from fakes.scenario._state import GenerateCall

if TYPE_CHECKING:
    from fakes.scenario._fake import FakeScenario

FAKE_KEY: web.AppKey[FakeScenario] = web.AppKey("fake_scenario")
# web.RequestKey arrived in aiohttp 3.14; older versions take a plain string key.
_RequestKey = getattr(web, "RequestKey", None)
CALL_KEY: Any = (
    _RequestKey("fake_scenario.generate_call", GenerateCall) if _RequestKey else "fake_scenario.generate_call"
)
MAX_UPLOAD_BYTES = 6_000_000  # "images <6 MB" (docs); decimal megabytes, the stricter reading
MAX_BULK_ASSETS = 200
DRY_RUN_STATUS = 269


class ApiError(Exception):
    """Raised by a handler to answer with an API error body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("reason"))
        self.status = status
        self.body = body
        self.headers = headers


def add_routes(app: web.Application) -> None:
    """Register every route of the fake."""
    app.router.add_post("/v1/generate/custom/{model_id}", generate)
    app.router.add_get("/v1/jobs", jobs_list)
    app.router.add_get("/v1/jobs/{job_id}", job_get)
    app.router.add_post("/v1/jobs/{job_id}/action", job_action)
    app.router.add_post("/v1/assets", asset_upload)
    app.router.add_post("/v1/assets/get-bulk", assets_bulk)
    app.router.add_get("/v1/assets/{asset_id}", asset_get)
    app.router.add_get("/cdn/{asset_id}", cdn)


def is_dry_run(request: web.Request) -> bool:
    """`POST /generate/…?dryRun=true` (or `api`): a free quote."""
    return request.query.get("dryRun", "false").lower() in ("true", "api")


def _fake(request: web.Request) -> FakeScenario:
    return request.app[FAKE_KEY]


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise ApiError(400, error_body("Invalid JSON body")) from exc
    if not isinstance(body, dict):
        raise ApiError(400, error_body("The request body must be a JSON object"))
    return body


async def generate(request: web.Request) -> web.Response:
    """POST /generate/custom/{modelId}: validate, then queue a job (or quote it with ?dryRun=true)."""
    fake = _fake(request)
    model_id = request.match_info["model_id"]
    dry_run = is_dry_run(request)
    call = GenerateCall(model_id, None)
    (fake.dry_runs if dry_run else fake.generate_calls).append(call)
    request[CALL_KEY] = call
    try:
        body = await request.json()
    except ValueError:
        body = None
    call.body = body if isinstance(body, dict) else None
    if model_id not in _inputs.MODELS:
        raise ApiError(404, error_body("Model not found"))
    if not isinstance(body, dict):
        raise ApiError(400, error_body("The request body must be a JSON object of the model's inputs"))
    try:
        plan = _inputs.validate(model_id, body, fake.find_asset, fake.rng)
    except _inputs.InputError as exc:
        raise ApiError(400, error_body(str(exc))) from exc

    if dry_run:  # the same price the real run charges; no job, no charge
        cost = cost_body(fake.price(plan))
        quote = {"creativeUnitsCost": cost["creativeUnitsCost"], "costDetails": cost["costDetails"]}
        return web.json_response(quote, status=DRY_RUN_STATUS)

    now = fake.now()
    if fake.parallel_limit is not None:
        active = fake.active_jobs(now)
        if active >= fake.parallel_limit:
            raise ApiError(429, plan_limit_body(fake.parallel_limit, active))
    job = fake.create_job(model_id, body, plan)
    call.job_id = job.job_id
    return web.json_response({"job": job_json(job, job.view(now), fake.timebase), **cost_body(job.cost)})


async def job_get(request: web.Request) -> web.Response:
    """GET /jobs/{jobId}."""
    fake = _fake(request)
    job = fake.jobs.get(request.match_info["job_id"])
    if job is None:
        raise ApiError(404, error_body("Job not found"))
    now = fake.now()
    view = job.view(now)
    fake.observe(job.job_id, view.status, now)
    return web.json_response({"job": job_json(job, view, fake.timebase)})


async def jobs_list(request: web.Request) -> web.Response:
    """GET /jobs with the API's filters and pagination."""
    try:
        return web.json_response(list_jobs(_fake(request), request.query))
    except ValueError as exc:
        raise ApiError(400, error_body(str(exc))) from exc


async def job_action(request: web.Request) -> web.Response:
    """POST /jobs/{jobId}/action: custom jobs cannot be canceled, as on the real API."""
    fake = _fake(request)
    job = fake.jobs.get(request.match_info["job_id"])
    if job is None:
        raise ApiError(404, error_body("Job not found"))
    body = await _json_object(request)
    if body.get("action") != "cancel":
        raise ApiError(400, error_body('Invalid "action": must be cancel'))
    raise ApiError(400, error_body("Cannot cancel this type of job. Action not permitted."))


async def asset_upload(request: web.Request) -> web.Response:
    """POST /assets: a base64 image (plain or data URL), stored byte for byte."""
    fake = _fake(request)
    body = await _json_object(request)
    name, image = body.get("name"), body.get("image")
    if not isinstance(name, str) or not name:
        raise ApiError(400, error_body('Missing required field "name"'))
    if not isinstance(image, str) or not image:
        raise ApiError(400, error_body('Missing required field "image" (base64 or a data URL)'))
    if image.startswith("data:"):
        header, comma, image = image.partition(",")
        if not comma or not header.endswith(";base64"):
            raise ApiError(400, error_body('Invalid "image": a data URL must be base64 encoded'))
    try:
        data = base64.b64decode(image, validate=True)
    except binascii.Error as exc:
        raise ApiError(400, error_body('Invalid "image": not valid base64')) from exc
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(400, error_body(f'Invalid "image": {len(data)} bytes, the limit is {MAX_UPLOAD_BYTES}'))
    try:
        mime_type, width, height = inspect_image(data)
    except ImageDecodeError as exc:
        raise ApiError(400, error_body('Invalid "image": not a decodable image')) from exc
    asset = fake.add_upload(name, data, mime_type, width, height)
    return web.json_response({"asset": _asset_body(request, asset.asset_id)})


async def asset_get(request: web.Request) -> web.Response:
    """GET /assets/{assetId}, with a freshly signed CDN URL."""
    asset_id = request.match_info["asset_id"]
    if _fake(request).find_asset(asset_id) is None:
        raise ApiError(404, error_body("Asset not found"))
    return web.json_response({"asset": _asset_body(request, asset_id)})


async def assets_bulk(request: web.Request) -> web.Response:
    """POST /assets/get-bulk: up to 200 ids; ids the API cannot see are left out."""
    fake = _fake(request)
    body = await _json_object(request)
    ids = body.get("assetIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, error_body('Invalid "assetIds": must be a non-empty array of asset ids'))
    if len(ids) > MAX_BULK_ASSETS:
        raise ApiError(400, error_body(f'Invalid "assetIds": at most {MAX_BULK_ASSETS} ids'))
    found = [asset_id for asset_id in dict.fromkeys(ids) if fake.find_asset(asset_id) is not None]
    return web.json_response({"assets": [_asset_body(request, asset_id) for asset_id in found]})


def _asset_body(request: web.Request, asset_id: str) -> dict[str, Any]:
    fake = _fake(request)
    asset = fake.assets[asset_id]
    return asset_json(asset, fake.sign_url(str(request.url.origin()), asset_id), fake.timebase)


async def cdn(request: web.Request) -> web.Response:
    """GET /cdn/{assetId}: the bytes, if the signature is valid and unexpired; no auth."""
    fake = _fake(request)
    asset = fake.find_asset(request.match_info["asset_id"])
    if asset is None:
        return web.Response(status=404, text="Not Found")
    if not fake.check_url(asset.asset_id, request.query.get("sig", ""), request.query.get("exp", "")):
        return web.Response(status=403, text="Forbidden: the URL signature is invalid or expired")
    query = request.query
    changed = transform(asset.data, query.get("width"), query.get("height"), query.get("format"))
    data, mime_type = changed if changed is not None else (asset.data, asset.mime_type)
    return web.Response(body=data, content_type=mime_type, headers={"Cache-Control": "private, max-age=604800"})
