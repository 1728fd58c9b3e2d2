"""Finding a job whose generate answer was lost, on APIs that take either listing filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.scenario import IDEOGRAM_V4, ScenarioClient
from fakes.scenario import FakeScenario, Fault

BODY = {"prompt": "a lost answer", "numOutputs": 1}


async def test_a_job_is_found_by_its_input_and_not_twice(fake: FakeScenario, client: ScenarioClient) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    first = await client.run_model(IDEOGRAM_V4, BODY)
    second = await client.run_model(IDEOGRAM_V4, BODY)

    both = {first.job.job_id, second.job.job_id}
    found = await client.find_submitted_job(IDEOGRAM_V4, BODY, since=since)
    assert found is not None and found.job_id in both
    # A job already claimed by another record is never handed out twice.
    again = await client.find_submitted_job(IDEOGRAM_V4, BODY, since=since, exclude_job_ids={found.job_id})
    assert again is not None and {found.job_id, again.job_id} == both
    none_left = await client.find_submitted_job(IDEOGRAM_V4, BODY, since=since, exclude_job_ids=both)
    assert none_left is None
    other = await client.find_submitted_job(IDEOGRAM_V4, {"prompt": "something else"}, since=since)
    assert other is None


async def test_an_api_refusing_created_after_is_searched_with_updated_after(
    fake: FakeScenario, client: ScenarioClient
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    created = await client.run_model(IDEOGRAM_V4, BODY)
    fake.inject(Fault(method="GET", path=r"^/v1/jobs$", kind="status", status=400, times=1))

    found = await client.find_submitted_job(IDEOGRAM_V4, BODY, since=since)

    assert found is not None and found.job_id == created.job.job_id
    listings = [path for method, path in fake.request_log if method == "GET" and path == "/v1/jobs"]
    assert len(listings) == 2
