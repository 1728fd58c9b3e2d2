"""The Scenario API client: jobs, assets and downloads over one shared aiohttp session.

Which requests are retried (see `_http.retrying`, `errors.is_retryable` and `bot.retry.RetryPolicy`):
- GET /jobs/{id}, GET /jobs, GET /assets/{id}, POST /assets/get-bulk and CDN downloads are idempotent and
  retried on connection errors, timeouts, 408/409/429/5xx and unreadable bodies, up to `retry.max_retries`.
- POST /assets (upload) is retried the same way: a duplicate upload only wastes a little storage, it costs
  no creative units, and the bot uses only the id it gets back.
- POST /generate (paid, no idempotency key) is sent exactly once per `submit_generate` call and never
  retried here. Its caller owns the policy: `errors.submission_failure` says whether a failure may have
  created a job, and `find_submitted_job` looks for it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ValidationError

from bot.images import ImageTooLargeError
from bot.retry import RetryPolicy
from bot.scenario import _http, _lookup
from bot.scenario.errors import (
    MAX_UPLOAD_BYTES,
    APIResponseValidationError,
    APIStatusError,
    JobCanceledError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
)
from bot.scenario.models import Asset, GenerateResult, Job, JobStatus
from bot.scenario.polling import OnUpdate, PollSchedule, poll_job

__all__ = ["DEFAULT_BASE_URL", "ScenarioClient"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.cloud.scenario.com/v1"
DEFAULT_RETRY = RetryPolicy()
"""Two retries of an idempotent request, after about 0.5 s and 1 s (or what `Retry-After` asks)."""
BULK_CHUNK = 200
_FALLBACK_CONCURRENCY = 8


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(model: type[BaseModel], data: Any, key: str, what: str) -> Any:
    """`model` validated from `data[key]`, or a clear `APIResponseValidationError`."""
    try:
        return model.model_validate(data[key])
    except (KeyError, TypeError, ValidationError) as exc:
        detail = f"missing {key!r}" if not isinstance(exc, ValidationError) else _first_error(exc)
        raise APIResponseValidationError(f"Scenario's answer to {what} was not understood: {detail}") from None


def _moment(stamp: str) -> datetime | None:
    """An ISO-8601 stamp as an aware datetime (UTC when it names no zone), or None if it is not one."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_listed_job(raw: Any) -> Job | None:
    """A job as `GET /jobs` lists it, or None (logged) when it cannot be read: one bad entry spoils no listing."""
    try:
        return Job.model_validate(raw)
    except ValidationError as exc:
        log.warning("Skipping a job Scenario listed that could not be read: %s", _first_error(exc))
        return None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB ({size:,} bytes)"


class ScenarioClient:
    """Async client for the parts of Scenario's REST API the bot uses. Never logs or shows credentials."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        api_secret: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        request_timeout: float = 60.0,
    ) -> None:
        self._session = session
        token = base64.b64encode(f"{api_key}:{api_secret}".encode()).decode("ascii")
        self.__authorization = f"Basic {token}"
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.request_timeout = request_timeout
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"ScenarioClient(base_url={self.base_url!r}, credentials=<hidden>)"

    # -- plumbing -------------------------------------------------------------------------------------

    async def _send(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> _http.Response:
        """One attempt, no retry."""
        headers = {"Authorization": self.__authorization, "Accept": "application/json"}
        return await _http.send_json(
            self._session, method, self.base_url + path, path,
            headers=headers, params=params, body=body, timeout=self.request_timeout,
        )  # fmt: skip

    async def _request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> _http.Response:
        """An idempotent (or harmless to repeat) request, retried on transient failures."""
        return await _http.retrying(
            lambda: self._send(method, path, params=params, body=body),
            what=f"{method} {path}",
            policy=self.retry,
            sleep=self._sleep,
        )

    # -- generation -----------------------------------------------------------------------------------

    async def submit_generate(self, model_id: str, body: Mapping[str, Any]) -> GenerateResult:
        """Start a (paid) generation: exactly one `POST /generate/custom/{model}`, never retried.

        Every failure is raised as what it is: an `APIStatusError` subclass (`PlanLimitError` for 429),
        `APIConnectionError` (`request_sent` False when the request provably never left), or
        `APIResponseError`/`APIResponseValidationError` for a 2xx that cannot be read. Pass it to
        `submission_failure` to learn whether a job may have been created.
        """
        path = f"/generate/custom/{quote(model_id, safe='')}"
        response = await self._send("POST", path, body=dict(body))
        try:
            result = GenerateResult.model_validate(response.data)
        except ValidationError as exc:
            raise APIResponseValidationError(
                f"Scenario's answer to POST {path} was not understood: {_first_error(exc)}",
                status=response.status,
                request_id=response.request_id,
            ) from None
        log.info("Started %s job %s (cost %s CU)", model_id, result.job.job_id, result.creative_units_cost)
        return result

    async def estimate(self, model_id: str, body: Mapping[str, Any]) -> float:
        """What a generation would cost in CU, without running it: `POST /generate/custom/{model}?dryRun=true`.

        Scenario answers 269 with `creativeUnitsCost`, creates no job and charges nothing, so this is sent
        (and retried) like any harmless request. `ipDetection` is never sent: it is charged even on a dry run.
        """
        path = f"/generate/custom/{quote(model_id, safe='')}"
        quote_body = {key: value for key, value in body.items() if key != "ipDetection"}
        response = await self._request("POST", path, params={"dryRun": "true"}, body=quote_body)
        cost = response.data.get("creativeUnitsCost") if isinstance(response.data, dict) else None
        if not isinstance(cost, int | float) or isinstance(cost, bool):
            raise APIResponseValidationError(
                f"Scenario's answer to the dry run of POST {path} has no creativeUnitsCost",
                status=response.status,
                request_id=response.request_id,
            )
        return float(cost)

    async def find_submitted_job(
        self,
        model_id: str,
        body: Mapping[str, Any],
        *,
        since: datetime,
        exclude_job_ids: Collection[str] = (),
    ) -> Job | None:
        """The earliest job created since `since` (less a clock skew) whose input matches `body`.

        For a `submit_generate` whose answer was lost; jobs in `exclude_job_ids` (already claimed) are skipped.
        """
        return await _lookup.find_submitted_job(self, model_id, body, since=since, exclude_job_ids=exclude_job_ids)

    # -- jobs -----------------------------------------------------------------------------------------

    async def get_job(self, job_id: str) -> Job:
        """The current state of one job."""
        path = f"/jobs/{quote(job_id, safe='')}"
        response = await self._request("GET", path)
        return _parse(Job, response.data, "job", f"GET {path}")

    async def list_jobs(
        self,
        *,
        updated_after: datetime | None = None,
        created_after: datetime | None = None,
        types: Collection[str] | None = None,
        max_pages: int = 5,
    ) -> list[Job]:
        """Recent jobs, newest first, following pagination for at most `max_pages` pages of 100.

        Scenario applies `updatedAfter` only together with a type (or status) filter, sorting by update
        date, and `createdAfter` only without one, sorting by creation date; so `updated_after` without
        `types` filters on `types=custom` (the type of custom-model jobs). A job that cannot be parsed is
        skipped with a warning rather than failing the whole listing.
        """
        params: dict[str, str] = {"pageSize": "100"}
        if updated_after is not None:
            params["updatedAfter"] = _iso(updated_after)
            types = types or ("custom",)
        if created_after is not None:
            params["createdAfter"] = _iso(created_after)
        if types:
            params["types"] = ",".join(types)
        jobs, _ = await self._pages(params, max_pages)
        return jobs

    async def list_updated_jobs(
        self,
        updated_after: datetime,
        *,
        types: Collection[str] = ("custom",),
        max_pages: int = 10,
        wanted: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> tuple[list[Job], bool, datetime | None]:
        """Jobs of `types` updated strictly after `updated_after`, most recently updated first (for a batched
        status look), following `nextPaginationToken` for up to `max_pages` pages of 100.

        Returns the jobs, whether that reached the end of the listing (False: it stopped with a token left),
        and the newest `updatedAt` listed. `wanted` sees each raw job first: only those it keeps are parsed
        (a busy team lists many jobs that are none of the caller's business, or carry no news).
        """
        params = {"pageSize": "100", "updatedAfter": _iso(updated_after), "types": ",".join(types)}
        # The greatest `updatedAt` of each shape (length and time zone): ISO-8601 stamps of one shape sort as
        # text in time order, so only those few are parsed, not one per job listed at every tick.
        greatest: dict[tuple[int, str], str] = {}

        def keep(raw: Mapping[str, Any]) -> bool:
            stamp = raw.get("updatedAt")
            if isinstance(stamp, str) and stamp:
                shape = (len(stamp), "Z" if stamp.endswith("Z") else stamp[-6:])
                if stamp > greatest.get(shape, ""):
                    greatest[shape] = stamp
            return wanted is None or wanted(raw)

        jobs, complete = await self._pages(params, max_pages, keep)
        moments = [moment for stamp in greatest.values() if (moment := _moment(stamp)) is not None]
        return jobs, complete, max(moments, default=None)

    async def _pages(
        self, params: dict[str, str], max_pages: int, keep: Callable[[Mapping[str, Any]], bool] | None = None
    ) -> tuple[list[Job], bool]:
        # A short or empty page may still carry a token: only a page without one ends the listing.
        jobs: list[Job] = []
        for _ in range(max_pages):
            data = (await self._request("GET", "/jobs", params=params)).data
            raw_jobs = data.get("jobs") if isinstance(data, dict) else None
            if not isinstance(raw_jobs, list):
                raise APIResponseValidationError("Scenario's answer to GET /jobs has no 'jobs' list")
            for raw in raw_jobs:
                if keep is not None and isinstance(raw, dict) and not keep(raw):
                    continue
                if (job := parse_listed_job(raw)) is not None:
                    jobs.append(job)
            token = data.get("nextPaginationToken")
            if not token or not isinstance(token, str):
                return jobs, True
            params = {**params, "paginationToken": token}
        return jobs, False

    async def wait_for_job(
        self,
        job_id: str,
        *,
        on_update: OnUpdate | None = None,
        timeout: float = 900.0,
        schedule: PollSchedule | None = None,
        wait_first: bool = False,
        progress_every: float = 0.0,
    ) -> Job:
        """Poll until the job ends; return it on success, raise `JobFailedError`/`JobCanceledError`.

        Raises `JobTimeoutError` when it has not ended after `timeout` seconds. With `wait_first` (the
        caller has just seen the job, e.g. in the answer that created it) the first poll waits one delay.
        `progress_every`: a change of progress alone reaches `on_update` at most this often (see `poll_job`).
        """
        job = await poll_job(
            lambda: self.get_job(job_id),
            on_update=on_update,
            timeout=timeout,
            schedule=schedule or PollSchedule(),
            clock=self._clock,
            sleep=self._sleep,
            job_id=job_id,
            wait_first=wait_first,
            progress_every=progress_every,
        )
        if job.status is JobStatus.SUCCESS:
            return job
        error_cls = JobCanceledError if job.status is JobStatus.CANCELED else JobFailedError
        raise error_cls(job, job.metadata.error, job.metadata.hint)

    # -- assets ---------------------------------------------------------------------------------------

    async def upload_image(self, data: bytes, *, name: str, mime_type: str = "image/png") -> str:
        """Upload an image as a new asset and return its id. Refuses (sending nothing) over 6 MB."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise ImageTooLargeError(
                f"The image is {_megabytes(len(data))}; Scenario accepts uploads of at most "
                f"{_megabytes(MAX_UPLOAD_BYTES)}.",
                size=len(data),
                limit=MAX_UPLOAD_BYTES,
            )
        image = f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"
        response = await self._request("POST", "/assets", body={"name": name, "image": image})
        asset = response.data.get("asset") if isinstance(response.data, dict) else None
        asset_id = asset.get("id") if isinstance(asset, dict) else None
        if not isinstance(asset_id, str) or not asset_id:
            raise APIResponseValidationError("Scenario's answer to POST /assets has no asset id")
        log.debug("Uploaded %s (%d bytes) as %s", name, len(data), asset_id)
        return asset_id

    async def get_asset(self, asset_id: str) -> Asset:
        """One asset, with a freshly signed URL."""
        path = f"/assets/{quote(asset_id, safe='')}"
        response = await self._request("GET", path)
        return _parse(Asset, response.data, "asset", f"GET {path}")

    async def get_assets(self, asset_ids: Sequence[str]) -> list[Asset]:
        """Several assets in the order asked, via POST /assets/get-bulk (≤200 a call).

        Falls back to one GET each when get-bulk answers 404/405, and fetches singly any id the bulk
        answer left out (so a missing asset raises `NotFoundError`).
        """
        wanted = list(dict.fromkeys(asset_ids))
        found: dict[str, Asset] = {}
        for start in range(0, len(wanted), BULK_CHUNK):
            chunk = wanted[start : start + BULK_CHUNK]
            try:
                response = await self._request("POST", "/assets/get-bulk", body={"assetIds": chunk})
            except APIStatusError as exc:
                if exc.status not in (404, 405):
                    raise
                log.info("POST /assets/get-bulk unavailable (%s); fetching assets one by one", exc.status)
                break
            raw_assets = response.data.get("assets") if isinstance(response.data, dict) else None
            if not isinstance(raw_assets, list):
                raise APIResponseValidationError("Scenario's answer to POST /assets/get-bulk has no 'assets'")
            for raw in raw_assets:
                asset = _parse(Asset, {"asset": raw}, "asset", "POST /assets/get-bulk")
                found[asset.id] = asset
        missing = [asset_id for asset_id in wanted if asset_id not in found]
        limit = asyncio.Semaphore(_FALLBACK_CONCURRENCY)

        async def fetch(asset_id: str) -> Asset:
            async with limit:
                return await self.get_asset(asset_id)

        for asset in await asyncio.gather(*(fetch(asset_id) for asset_id in missing)):
            found[asset.id] = asset
        return [found[asset_id] for asset_id in asset_ids]

    async def download_asset(self, asset: Asset, *, max_bytes: int) -> bytes:
        """The asset's file, streamed and capped at `max_bytes` (`DownloadTooLargeError` past it).

        A 403/404 from the CDN usually means the signed URL expired: the asset is fetched again for a
        fresh URL and the download tried once more.
        """
        try:
            return await self._download(asset.url, asset.id, max_bytes)
        except (PermissionDeniedError, NotFoundError) as exc:
            log.info("CDN refused the URL of asset %s (%s); fetching a fresh URL", asset.id, exc.status)
        fresh = await self.get_asset(asset.id)
        return await self._download(fresh.url, asset.id, max_bytes)

    async def _download(self, url: str, asset_id: str, max_bytes: int) -> bytes:
        return await _http.retrying(
            lambda: _http.fetch_bytes(
                self._session, url, asset_id=asset_id, max_bytes=max_bytes, timeout=self.request_timeout
            ),
            what=f"download of asset {asset_id}",
            policy=self.retry,
            sleep=self._sleep,
        )
