"""Finding a job whose generate answer was lost: by its input, the earliest first, on either listing filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.scenario import IDEOGRAM_V4, APIConnectionError, BadRequestError, Job, ScenarioClient
from bot.scenario._lookup import SUBMIT_SKEW, find_submitted_job
from fakes.clock import FakeClock
from fakes.scenario import FakeScenario, Fault

BODY = {"prompt": "a lost answer", "numOutputs": 1}


async def test_a_job_is_found_by_its_input_and_not_twice(fake: FakeScenario, client: ScenarioClient,
                                                         clock: FakeClock) -> None:  # fmt: skip
    since = datetime.now(UTC) - timedelta(seconds=1)
    first = await client.submit_generate(IDEOGRAM_V4, BODY)
    clock.advance(0.5)
    second = await client.submit_generate(IDEOGRAM_V4, BODY)

    found = await client.find_submitted_job(IDEOGRAM_V4, BODY, since=since)
    assert found is not None and found.job_id == first.job.job_id  # the earliest match wins
    # A job already claimed by another record is never handed out twice.
    again = await client.find_submitted_job(IDEOGRAM_V4, BODY, since=since, exclude_job_ids={found.job_id})
    assert again is not None and again.job_id == second.job.job_id
    both = {first.job.job_id, second.job.job_id}
    assert await client.find_submitted_job(IDEOGRAM_V4, BODY, since=since, exclude_job_ids=both) is None
    assert await client.find_submitted_job(IDEOGRAM_V4, {"prompt": "something else"}, since=since) is None
    assert await client.find_submitted_job(IDEOGRAM_V4, {**BODY, "seed": 5}, since=since) is None


async def test_the_job_of_a_post_whose_answer_was_lost_is_found(fake: FakeScenario, client: ScenarioClient) -> None:
    since = datetime.now(UTC)
    fake.inject(Fault(method="POST", path=r"^/v1/generate/", kind="reset_after"))
    with pytest.raises(APIConnectionError):
        await client.submit_generate(IDEOGRAM_V4, BODY)
    found = await client.find_submitted_job(IDEOGRAM_V4, BODY, since=since)
    assert found is not None and list(fake.jobs) == [found.job_id]


async def test_an_api_refusing_created_after_is_searched_with_updated_after(
    fake: FakeScenario, client: ScenarioClient
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    created = await client.submit_generate(IDEOGRAM_V4, BODY)
    fake.inject(Fault(method="GET", path=r"^/v1/jobs$", kind="status", status=400, times=1))

    found = await client.find_submitted_job(IDEOGRAM_V4, BODY, since=since)

    assert found is not None and found.job_id == created.job.job_id
    listings = [path for method, path in fake.request_log if method == "GET" and path == "/v1/jobs"]
    assert len(listings) == 2


# -- the matching rules, on a stub that has nothing but the client's public `list_jobs` ------------------

SINCE = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def _job(job_id: str, created: datetime | None, body: dict[str, Any] = BODY, model: str = IDEOGRAM_V4) -> Job:
    return Job.model_validate({"jobId": job_id, "status": "queued", "createdAt": created and created.isoformat(),
                               "metadata": {"input": {**body, "extra": "echoed"}, "modelId": model}})  # fmt: skip


class ListingOnly:
    """Answers `list_jobs` newest first, optionally refusing `created_after` like an older API."""

    def __init__(self, jobs: list[Job], *, refuse_created_after: bool = False) -> None:
        self.jobs = jobs
        self.refuse_created_after = refuse_created_after
        self.calls: list[dict[str, Any]] = []

    async def list_jobs(self, **filters: Any) -> list[Job]:
        self.calls.append(filters)
        if self.refuse_created_after and "created_after" in filters:
            raise BadRequestError(400, '"createdAfter" is not allowed')
        return self.jobs


async def test_matching_rules() -> None:
    just_before = SINCE - SUBMIT_SKEW + timedelta(seconds=1)
    listing = ListingOnly([
        _job("job_other_model", SINCE, model="model_other"),
        _job("job_other_prompt", SINCE, body={"prompt": "no", "numOutputs": 1}),
        _job("job_newer", SINCE + timedelta(seconds=2)),
        _job("job_tie_listed_first", just_before),
        _job("job_tie_listed_last", just_before),
        _job("job_too_old", SINCE - SUBMIT_SKEW - timedelta(seconds=1)),
    ])  # fmt: skip
    found = await find_submitted_job(listing, IDEOGRAM_V4, BODY, since=SINCE)  # type: ignore[arg-type]
    # Newest first, so of two jobs created at the same moment the one listed last is the older one.
    assert found is not None and found.job_id == "job_tie_listed_last"
    assert listing.calls == [{"created_after": SINCE - SUBMIT_SKEW}]
    excluded = {"job_tie_listed_last", "job_tie_listed_first"}
    found = await find_submitted_job(listing, IDEOGRAM_V4, BODY, since=SINCE, exclude_job_ids=excluded)  # type: ignore[arg-type]
    assert found is not None and found.job_id == "job_newer"


async def test_updated_after_is_the_fallback_only_when_created_after_is_refused() -> None:
    listing = ListingOnly([_job("job_1", SINCE)], refuse_created_after=True)
    found = await find_submitted_job(listing, IDEOGRAM_V4, BODY, since=SINCE)  # type: ignore[arg-type]
    assert found is not None and found.job_id == "job_1"
    floor = SINCE - SUBMIT_SKEW
    assert listing.calls == [{"created_after": floor}, {"updated_after": floor}]
