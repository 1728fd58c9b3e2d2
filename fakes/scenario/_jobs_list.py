"""GET /jobs: filters, ordering and pagination as the SDK documents them.

With `status`, `type`/`types` or `workflowId` the API sorts by update date and only `updatedAfter`
applies; without them it sorts by creation date and only `createdAfter` applies. The fake answers
400 when a date filter is used with the wrong kind of query, the strict reading of "only allowed".
`updatedAfter` is strict (a job updated at exactly that millisecond is not listed). A page can be shorter than
`pageSize` and still carry a token (`FakeScenario.list_page_limit`), and a job can be left out of every
listing (`FakeScenario.hide_next_job_from_list`): the misbehaviour a careful client must survive.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fakes.scenario._serialize import job_json
from fakes.scenario._state import JOB_STATUSES, parse_iso_ms

if TYPE_CHECKING:
    from fakes.scenario._fake import FakeScenario

# The job types the SDK accepts in `type`/`types`.
# fmt: off
JOB_TYPES = frozenset({
    "assets-download", "model-training", "flux-model-training", "musubi-model-training",
    "inference", "pixelate", "embed", "remove-background", "vectorize", "canvas-export",
    "image-generation", "image-prompt-editing", "caption", "generate-prompt", "describe-style",
    "translate", "detection", "restyle", "repaint", "reframe", "segment", "skybox-base-360",
    "skybox-upscale-360", "skybox-hdri", "skybox-3d", "texture", "upscale", "upscale-skybox",
    "upscale-texture", "flux", "openai-image-generation", "upload", "custom", "splat",
    "mesh-preview-rendering", "workflow",
})
# fmt: on
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def list_jobs(fake: FakeScenario, query: Mapping[str, str]) -> dict[str, Any]:
    """The `{"jobs": [...], "nextPaginationToken"?: ...}` body; raises ValueError on a bad query."""
    fake.list_queries.append(dict(query))
    page_size = _page_size(query.get("pageSize"))
    if fake.list_page_limit is not None:
        page_size = min(page_size, fake.list_page_limit)
    offset = _offset(query.get("paginationToken"))
    status = query.get("status")
    if status is not None and status not in JOB_STATUSES:
        raise ValueError(f'Invalid "status": must be one of {", ".join(JOB_STATUSES)}')
    types = _types(query)
    workflow_id = query.get("workflowId")
    by_update = status is not None or types is not None or workflow_id is not None
    updated_after = _date(query, "updatedAfter")
    created_after = _date(query, "createdAfter")
    if updated_after is not None and not by_update:
        raise ValueError('"updatedAfter" is only allowed with "status", "type", "types" or "workflowId"')
    if created_after is not None and by_update:
        raise ValueError('"createdAfter" is not allowed with "status", "type", "types" or "workflowId"')

    now = fake.now()
    tb = fake.timebase
    rows = []
    for job in fake.jobs.values():
        if job.created_at > now or not job.listed:
            continue
        view = job.view(now)
        if status is not None and view.status != status:
            continue
        if (types is not None and "custom" not in types) or workflow_id is not None:
            continue
        author = query.get("authorId")
        if author is not None and author != job.author_id:
            continue
        updated_ms, created_ms = tb.to_ms(view.updated_at), tb.to_ms(job.created_at)
        if updated_after is not None and updated_ms <= updated_after:
            continue
        if created_after is not None and created_ms <= created_after:
            continue
        key = (updated_ms if by_update else created_ms, created_ms, job.job_id)
        rows.append((key, job, view))
    rows.sort(key=lambda row: row[0], reverse=True)

    page = rows[offset : offset + page_size]
    for _, job, view in page:
        fake.observe(job.job_id, view.status, now)
    body: dict[str, Any] = {"jobs": [job_json(job, view, tb) for _, job, view in page]}
    if offset + page_size < len(rows):
        body["nextPaginationToken"] = base64.urlsafe_b64encode(f"offset:{offset + page_size}".encode()).decode()
    return body


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValueError(f'Invalid "pageSize": must be an integer from 1 to {MAX_PAGE_SIZE}')
    return int(raw)


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        kind, value = "", ""
    if kind != "offset" or not value.isdigit():
        raise ValueError('Invalid "paginationToken"')
    return int(value)


def _types(query: Mapping[str, str]) -> set[str] | None:
    raw = query.get("types") or query.get("type")  # "types" wins, as documented
    if raw is None:
        return None
    types = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(types - JOB_TYPES)
    if unknown or not types:
        raise ValueError(f'Invalid job type {unknown[0] if unknown else raw!r} in "types"/"type"')
    return types


def _date(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return parse_iso_ms(raw)
    except ValueError as exc:
        raise ValueError(f'Invalid "{name}": must be an ISO-8601 date') from exc
