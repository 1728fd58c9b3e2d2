"""The JSON shapes of jobs, assets and errors, as the real API returns them (camelCase)."""

from __future__ import annotations

from typing import Any

from fakes.scenario._state import FakeAsset, FakeJob, JobView, Timebase


def error_body(reason: str, name: str | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """An API error body: `{"reason", "name"?, "details"?}`."""
    body: dict[str, Any] = {"reason": reason}
    if name:
        body["name"] = name
    if details is not None:
        body["details"] = details
    return body


def plan_limit_body(limit: int, value: int) -> dict[str, Any]:
    """The 429 body for the parallel custom-jobs ceiling."""
    return error_body(
        "You have reached your plan's limit. Please upgrade your plan to continue using this feature.",
        "PlanLimitReachedError",
        {
            "actionName": "parallel-custom-jobs",
            "actionLimit": limit,
            "actionValue": value,
            "limitScope": "team",
        },
    )


def cost_body(cost: int) -> dict[str, Any]:
    """The cost fields shared by the generate response and the dry run."""
    return {"creativeUnitsCost": cost, "creativeUnitsDiscount": 0, "costDetails": {"custom-generation": cost}}


def job_json(job: FakeJob, view: JobView, timebase: Timebase) -> dict[str, Any]:
    """A Job object as GET /jobs/{jobId} returns it at the instant `view` was taken."""
    metadata: dict[str, Any] = {"input": dict(job.input)}
    if view.status == "success":
        metadata["assetIds"] = list(job.asset_ids)
    elif view.status == "failure" and job.fail:
        metadata["error"], metadata["hint"] = job.fail
    return {
        "jobId": job.job_id,
        "jobType": "custom",
        "status": view.status,
        "progress": view.progress,
        "statusHistory": [{"status": status, "date": timebase.iso(at)} for status, at in view.history],
        "metadata": metadata,
        "ownerId": job.owner_id,
        "authorId": job.author_id,
        "billing": {"cuCost": job.cost, "cuDiscount": 0, **({"disableRefund": True} if job.disable_refund else {})},
        "createdAt": timebase.iso(job.created_at),
        "updatedAt": timebase.iso(view.updated_at),
    }


def asset_json(asset: FakeAsset, url: str, timebase: Timebase) -> dict[str, Any]:
    """An Asset object with every field the SDK requires (scenario-api.md §4)."""
    generated = asset.source != "upload"
    kind_type = asset.source if generated else "uploaded"
    size = len(asset.data)
    fmt = asset.mime_type.split("/")[-1]
    metadata: dict[str, Any] = {
        "kind": "image",
        "type": kind_type,
        "width": asset.width,
        "height": asset.height,
        "size": size,
    }
    if generated:
        metadata.update(
            {
                "prompt": asset.prompt,
                "seed": str(asset.seed),  # the SDK types metadata.seed as a string
                "modelId": asset.model_id,
                "parentJobId": asset.job_id,
                "outputIndex": asset.output_index,
            }
        )
    elif asset.name:
        metadata["name"] = asset.name
    body: dict[str, Any] = {
        "id": asset.asset_id,
        "url": url,
        "mimeType": asset.mime_type,
        "kind": "image",
        "status": "success",
        "source": kind_type,
        "metadata": metadata,
        "properties": {"size": size, "width": asset.width, "height": asset.height, "format": fmt},
        "authorId": asset.author_id,
        "ownerId": asset.owner_id,
        "privacy": "private",
        "tags": [],
        "collectionIds": [],
        "editCapabilities": [
            "DETECTION",
            "GENERATIVE_FILL",
            "PIXELATE",
            "REFRAME",
            "REMOVE_BACKGROUND",
            "UPSCALE",
        ],
        "createdAt": timebase.iso(asset.created_at),
        "updatedAt": timebase.iso(asset.created_at),
    }
    if generated:
        body["outputIndex"] = asset.output_index
    if asset.nsfw:
        body["nsfw"] = list(asset.nsfw)
    return body
