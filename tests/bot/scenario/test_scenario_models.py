"""Parsing the API's jobs, assets and error bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.scenario import Asset, ErrorBody, GenerateResult, Job, JobStatus

JOB = {
    "jobId": "job_a1",
    "jobType": "custom",
    "status": "failure",
    "progress": 0.4,
    "createdAt": "2026-07-01T10:00:00.000Z",
    "updatedAt": "2026-07-01T10:00:05.250Z",
    "statusHistory": [
        {"status": "queued", "date": "2026-07-01T10:00:00.000Z"},
        {"status": "failure", "date": "2026-07-01T10:00:05.250Z"},
    ],
    "metadata": {"input": {"prompt": "p"}, "error": "provider refused", "hint": "rephrase", "flow": []},
    "ownerId": "proj_x",
    "billing": {"cuCost": 24, "cuDiscount": 0, "disableRefund": True},
    "somethingNew": {"added": "later"},
}


def test_job_fields_are_snake_case_with_datetimes() -> None:
    job = Job.model_validate(JOB)
    assert job.job_id == "job_a1" and job.job_type == "custom"
    assert job.status is JobStatus.FAILURE and job.status.terminal
    assert job.progress == 0.4
    assert job.created_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert job.updated_at == datetime(2026, 7, 1, 10, 0, 5, 250000, tzinfo=UTC)
    assert [change.status for change in job.status_history] == [JobStatus.QUEUED, JobStatus.FAILURE]
    assert job.metadata.error == "provider refused" and job.metadata.hint == "rephrase"
    assert job.metadata.input == {"prompt": "p"}
    assert job.billing is not None and job.billing.cu_cost == 24 and job.billing.disable_refund is True
    assert job.asset_ids == []


def test_snake_case_names_also_build_a_job() -> None:
    job = Job(job_id="job_b", status="success", metadata={"asset_ids": ["asset_1"]})
    assert job.asset_ids == ["asset_1"]


def test_every_status_and_which_are_terminal() -> None:
    assert [s.value for s in JobStatus] == [
        "pending", "queued", "warming-up", "in-progress", "finalizing", "success", "failure", "canceled",
    ]  # fmt: skip
    assert {s for s in JobStatus if s.terminal} == {JobStatus.SUCCESS, JobStatus.FAILURE, JobStatus.CANCELED}
    for status in JobStatus:
        assert Job.model_validate({**JOB, "status": status.value}).status is status


def test_unknown_status_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="unknown job status 'paused'"):
        Job.model_validate({**JOB, "status": "paused"})


def test_naive_dates_are_utc_and_nulls_are_tolerated() -> None:
    job = Job.model_validate(
        {"jobId": "j", "status": "queued", "createdAt": "2026-07-01T10:00:00", "progress": None, "metadata": None}
    )
    assert job.created_at is not None and job.created_at.tzinfo is not None
    assert job.progress == 0.0 and job.metadata.asset_ids == []


def test_asset_parsing() -> None:
    asset = Asset.model_validate(
        {
            "id": "asset_1",
            "url": "https://cdn.example/asset_1?sig=abc",
            "mimeType": "image/png",
            "kind": "image",
            "status": "success",
            "source": "txt2img",
            "outputIndex": 1,
            "metadata": {"kind": "image", "type": "txt2img", "width": 1024, "height": 768, "seed": 42,
                         "modelId": "model_ideogram-v4", "parentJobId": "job_a1"},
            "properties": {"size": 1834221, "width": 1024, "height": 768, "format": "png"},
            "tags": [],
        }
    )  # fmt: skip
    assert asset.mime_type == "image/png" and asset.output_index == 1
    assert asset.metadata.seed == "42" and asset.metadata.parent_job_id == "job_a1"
    assert asset.properties.size == 1834221 and asset.properties.format == "png"


def test_generate_result_and_error_body() -> None:
    result = GenerateResult.model_validate(
        {"job": JOB, "creativeUnitsCost": 24, "creativeUnitsDiscount": 0, "costDetails": {"custom-generation": 24}}
    )
    assert result.job.job_id == "job_a1" and result.creative_units_cost == 24
    body = ErrorBody.model_validate({"reason": "nope", "name": "X", "details": {"actionLimit": 3}})
    assert (body.reason, body.name, body.details) == ("nope", "X", {"actionLimit": 3})
    assert ErrorBody.model_validate({}).reason is None
