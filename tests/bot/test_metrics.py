"""`bot.metrics`: route templates instead of paths, one count per job end, and the last errors kept short."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from bot import metrics


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/generate/custom/model_ideogram-v4", "POST /generate/custom/{model}"),
        ("POST", "/generate/custom/model_ideogram-character", "POST /generate/custom/{model}"),
        ("GET", "/jobs/job_3fa9c2", "GET /jobs/{id}"),
        ("get", "/jobs", "GET /jobs"),
        ("GET", "/jobs?pageSize=100&createdAfter=2025-01-01", "GET /jobs"),
        ("POST", "/assets", "POST /assets"),
        ("POST", "/assets/get-bulk", "POST /assets/get-bulk"),
        ("GET", "/assets/asset_91bd", "GET /assets/{id}"),
        ("GET", "/assets/asset_91bd/variations", "GET other"),
        ("DELETE", "/projects/proj_secret/things", "DELETE other"),
    ],
)
def test_a_request_is_labelled_by_its_route_template_never_its_path(method: str, path: str, template: str) -> None:
    assert metrics.endpoint(method, path) == template


def test_every_job_end_state_is_exported_from_the_start_and_nothing_else_is_accepted() -> None:
    text = generate_latest(metrics.REGISTRY).decode()
    for state in ("delivered", "failed", "canceled", "undelivered"):
        assert f'bot_jobs_total{{state="{state}"}}' in text
    assert "_created" not in text  # no creation-time series beside each counter
    with pytest.raises(ValueError, match="queued"):
        metrics.job_ended("queued")


def test_a_canceled_job_has_no_duration() -> None:
    before = metrics.JOB_DURATION.collect()[0]
    count = {s.name: s.value for s in before.samples}["bot_job_duration_seconds_count"]
    metrics.job_ended("canceled", 12.0)
    after = {s.name: s.value for s in metrics.JOB_DURATION.collect()[0].samples}
    assert after["bot_job_duration_seconds_count"] == count
    metrics.job_ended("failed", 12.0)
    after = {s.name: s.value for s in metrics.JOB_DURATION.collect()[0].samples}
    assert after["bot_job_duration_seconds_count"] == count + 1


def test_the_last_errors_are_one_short_line_with_their_time() -> None:
    metrics.scenario_error("Scenario answered 503\n   to GET /jobs/{id}: " + "x" * 1000)
    error = metrics.last_scenario_error()
    assert error is not None and error.at.tzinfo is not None
    assert error.message.startswith("Scenario answered 503 to GET /jobs/{id}: xxx")
    assert len(error.message) == metrics.LAST_ERROR_CHARS and error.message.endswith("…")

    metrics.discord_error(50013, "403: Missing Permissions (error code 50013)")
    assert metrics.last_discord_error() is not None
    assert metrics.last_discord_error().message == "403: Missing Permissions (error code 50013)"
    assert 'bot_discord_errors_total{code="50013"}' in generate_latest(metrics.REGISTRY).decode()
