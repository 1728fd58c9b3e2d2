"""One HTTP attempt to Scenario (or its CDN), turned into data or a typed error, and the retry loop.

Retries follow openai-python's `_base_client.py`: only requests marked safe are retried, when
`errors.is_retryable` says so (connection errors, timeouts, 408/409/429/5xx, unreadable bodies, unless
`x-should-retry` says otherwise), up to `policy.max_retries` times, waiting `policy.delay` (which honours
`Retry-After`/`retry-after-ms`). Errors never carry request headers: aiohttp's own exceptions (which can
hold the Authorization header in `request_info`) are described in text and dropped.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import orjson
from multidict import CIMultiDictProxy
from yarl import URL

from bot import metrics
from bot.retry import RetryPolicy
from bot.scenario.errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    DownloadTooLargeError,
    ScenarioError,
    is_retryable,
    make_status_error,
)
from bot.scenario.models import ErrorBody

__all__ = [
    "Response",
    "describe_failure",
    "fetch_bytes",
    "parse_retry_after",
    "read_capped",
    "retrying",
    "send_json",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

_CHUNK_BYTES = 64 * 1024
_REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "x-amzn-request-id", "request-id", "x-amz-cf-id")


@dataclass(frozen=True, slots=True)
class Response:
    """A successful (2xx) JSON answer."""

    status: int
    data: Any
    request_id: str | None


def request_id_of(headers: CIMultiDictProxy[str] | Mapping[str, str]) -> str | None:
    """The request id Scenario (or its gateway) put in the response headers, if any."""
    for name in _REQUEST_ID_HEADERS:
        if value := headers.get(name):
            return value
    return None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if given."""
    try:
        return float(headers["retry-after-ms"]) / 1000
    except (KeyError, TypeError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else float(email.utils.mktime_tz(parsed) - time.time())


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """Run `attempt`, retrying what `is_retryable` allows up to `policy.max_retries` times with backoff."""
    for number in range(policy.max_retries + 1):
        try:
            return await attempt()
        except ScenarioError as exc:
            if number >= policy.max_retries or not is_retryable(exc):
                raise
            delay = policy.delay(number, getattr(exc, "retry_after", None))
            log.info("%s failed (%s); retry %d of %d in %.2f s", what, exc, number + 1, policy.max_retries, delay)
            await sleep(delay)
    raise AssertionError("unreachable")


def describe_failure(exc: BaseException, *, timeout: float) -> APIConnectionError:
    """Turn an aiohttp/asyncio failure into our error, keeping only its type and text."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return APITimeoutError(f"Could not connect to Scenario within {timeout:g} s.", request_sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return APIConnectionError(f"Could not connect to Scenario: {exc}", request_sent=False)
    if isinstance(exc, TimeoutError):
        return APITimeoutError(f"Scenario did not answer within {timeout:g} s.")
    detail = str(exc) or type(exc).__name__
    return APIConnectionError(f"The connection to Scenario failed: {detail}")


def error_from_response(
    status: int, raw: bytes, headers: CIMultiDictProxy[str], *, method: str, path: str
) -> APIStatusError:
    """The typed error for a 4xx/5xx answer, reading Scenario's `{reason, name, details}` body."""
    body = ErrorBody()
    parsed: Any = None
    try:
        parsed = orjson.loads(raw)
        if isinstance(parsed, dict):
            body = ErrorBody.model_validate(parsed)
            if body.reason is None and isinstance(parsed.get("message"), str):
                body.reason = parsed["message"]
    except ValueError:
        pass
    reason = body.reason
    if reason is None:
        text = raw.decode("utf-8", "replace").strip()
        reason = " ".join(text.split())[:200] or None
    should_retry = {"true": True, "false": False}.get(headers.get("x-should-retry", ""))
    return make_status_error(
        status,
        reason,
        name=body.name,
        request_id=request_id_of(headers),
        details=body.details,
        method=method,
        path=path,
        retry_after=parse_retry_after(headers),
        should_retry=should_retry,
        body=parsed,
    )


def decode_json(raw: bytes, *, status: int, request_id: str | None, what: str) -> Any:
    """Parse a 2xx body, or raise `APIResponseError` (retryable) when it is not JSON."""
    try:
        return orjson.loads(raw)
    except ValueError:  # orjson.JSONDecodeError is one
        snippet = raw[:80].decode("utf-8", "replace")
        raise APIResponseError(
            f"Scenario answered {what} with {status} but the body is not valid JSON: {snippet!r}",
            status=status,
            request_id=request_id,
        ) from None


async def send_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    path: str,
    *,
    headers: Mapping[str, str],
    params: Mapping[str, str] | None,
    body: Any,
    timeout: float,
) -> Response:
    """One request to the API: 2xx JSON → `Response`, anything else → a `ScenarioError`.

    Each call is counted in `bot_scenario_requests_total` under its route template, never its path.
    """
    route = metrics.endpoint(method, path)
    started = time.perf_counter()
    failure: BaseException | None = None
    try:
        async with session.request(
            method,
            URL(url, encoded=True),
            params=params,
            json=body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=min(5.0, timeout)),
        ) as resp:
            raw = await resp.read()
            status, resp_headers = resp.status, resp.headers
    except (aiohttp.ClientError, TimeoutError) as exc:
        failure = exc
    if failure is not None:
        # Raised outside the except block so the aiohttp error (and its request headers) is not chained.
        error = describe_failure(failure, timeout=timeout)
        log.debug("Scenario %s %s failed: %s", method, path, error)
        metrics.scenario_request(route, type(error).__name__)
        metrics.scenario_error(f"{route}: {error}")
        raise error
    metrics.scenario_request(route, status)
    request_id = request_id_of(resp_headers)
    log.debug(
        "Scenario %s %s -> %s (request id %s, %.0f ms)",
        method, path, status, request_id, (time.perf_counter() - started) * 1000,
    )  # fmt: skip
    try:
        if status >= 400:
            raise error_from_response(status, raw, resp_headers, method=method, path=path)
        data = decode_json(raw, status=status, request_id=request_id, what=f"{method} {path}")
    except ScenarioError as exc:
        metrics.scenario_error(str(exc).replace(f"{method} {path}", route))  # the route: no job or asset id
        raise
    return Response(status, data, request_id)


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int, *, asset_id: str | None = None) -> bytes:
    """The response's body, refused as soon as it (or its declared length) is over `max_bytes`.

    Raises `DownloadTooLargeError` without reading further; used for CDN files and Discord attachments.
    """
    if response.content_length is not None and response.content_length > max_bytes:
        raise DownloadTooLargeError(response.content_length, max_bytes, asset_id=asset_id, declared=True)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise DownloadTooLargeError(size, max_bytes, asset_id=asset_id)
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch_bytes(
    session: aiohttp.ClientSession, url: str, *, asset_id: str, max_bytes: int, timeout: float
) -> bytes:
    """Stream a CDN file (no Authorization header: the URL is signed) and stop past `max_bytes`."""
    target = URL(url, encoded=True)
    where = f"the CDN {target.path}"  # never the query: the signature is a credential for the file
    failure: BaseException | None = None
    answered = False
    try:
        async with session.get(target, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            answered = True
            metrics.scenario_request(metrics.CDN, resp.status)
            request_id = request_id_of(resp.headers)
            log.debug("CDN GET %s -> %s (request id %s)", target.path, resp.status, request_id)
            if resp.status >= 400:
                raw = await resp.content.read(4096)
                refused = error_from_response(resp.status, raw, resp.headers, method="GET", path=where)
                metrics.scenario_error(str(refused).replace(where, "the CDN"))
                raise refused
            return await read_capped(resp, max_bytes, asset_id=asset_id)
    except (aiohttp.ClientError, TimeoutError) as exc:
        failure = exc
    error = describe_failure(failure, timeout=timeout)
    log.debug("CDN GET %s failed: %s", target.path, error)
    if not answered:  # a body cut off after the status was counted is the same request, not another
        metrics.scenario_request(metrics.CDN, type(error).__name__)
    metrics.scenario_error(f"{metrics.CDN}: {error}")
    raise error
