"""Submitting a paid generation without ever paying twice by accident.

POST /generate/custom/{model} has no idempotency key, so a blind retry can start (and bill) a second job.
`run_model` therefore follows these rules:

1. The request is sent once. A 2xx answer that can be read gives its job.
2. Any 4xx (including 408, 409 and 429) is raised at once: Scenario refused the request and created
   nothing. (A 429 is the team's parallel-job ceiling; the job engine retries later, not this client.)
3. A failure that proves the request never left this machine (connection refused, DNS failure, connect
   timeout: `APIConnectionError.request_sent is False`) is sent again once, after a backoff delay.
4. Any other failure may have reached Scenario: a 5xx, a read timeout, a connection reset or closed after
   sending, a 2xx whose body cannot be read. The client then looks for the job with
   `find_submitted_job`: GET /jobs?createdAfter=<time just before sending - 60 s> (newest first, up to
   5 pages of 100), keeping jobs whose `metadata.input` holds every key of the body sent with the same
   value and whose id is not in `exclude_job_ids`; the earliest wins. It looks three times (0, 1 and 3 s
   after the failure), since a new job may take a moment to be listed.
   - Found: `GenerateResult(job=..., creative_units_cost=None, recovered=True)`.
   - Not found, every search answered, and the failure was a 5xx other than 504 whose body is Scenario's
     own JSON error (it has a `reason`): Scenario handled and refused the request, so it is sent again once.
   - Otherwise: `SubmitUncertainError`, and nothing is sent again.
5. At most one resubmission per call. When the resubmission fails where rule 3 or 4 would send again,
   its error is raised instead.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.scenario._http import backoff_delay
from bot.scenario.errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    BadRequestError,
    ScenarioError,
    SubmitUncertainError,
)
from bot.scenario.models import GenerateResult, Job

if TYPE_CHECKING:
    from bot.scenario._client import ScenarioClient

__all__ = ["SEARCH_PAUSES", "SUBMIT_SKEW", "find_submitted_job", "input_matches", "run_model"]

log = logging.getLogger(__name__)

SUBMIT_SKEW = timedelta(seconds=60)
"""How far before the send time to look, allowing for a difference between our clock and Scenario's."""
SEARCH_PAUSES = (0.0, 1.0, 2.0)
"""Pauses before each search for a job whose creation answer was lost."""

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def _created(job: Job) -> datetime:
    return job.created_at or job.updated_at or _FAR_FUTURE


def input_matches(job: Job, model_id: str, body: Mapping[str, Any]) -> bool:
    """Whether the job's echoed input holds every key of `body` with the same value (for `model_id`)."""
    echoed = job.metadata.input
    if echoed is None:
        return False
    if job.metadata.model_id is not None and job.metadata.model_id != model_id:
        return False
    return all(key in echoed and echoed[key] == value for key, value in body.items())


async def find_submitted_job(
    client: ScenarioClient,
    model_id: str,
    body: Mapping[str, Any],
    *,
    since: datetime,
    exclude_job_ids: Collection[str] = (),
) -> Job | None:
    """The earliest job created since `since - SUBMIT_SKEW` matching `body`, not in `exclude_job_ids`.

    Uses `createdAfter` (not `updatedAfter`): without a type filter Scenario sorts by creation date and
    applies only `createdAfter`, and it does not depend on guessing the job type of custom models.
    """
    floor = since - SUBMIT_SKEW
    excluded = set(exclude_job_ids)
    try:
        recent = await client.list_jobs(created_after=floor)
    except BadRequestError:
        # An API that only takes the documented batch-polling form: `types=custom&updatedAfter=…`.
        recent = await client.list_jobs(updated_after=floor)
    matches = [
        job
        for job in recent
        if job.job_id not in excluded
        and (job.created_at is None or job.created_at >= floor)
        and input_matches(job, model_id, body)
    ]
    if not matches:
        return None
    # Scenario lists newest first, so among equal timestamps the later-listed job is the older one.
    matches = [job for _, job in sorted(enumerate(matches), key=lambda row: (_created(row[1]), -row[0]))]
    if len(matches) > 1:
        log.warning(
            "%d recent jobs match a lost %s request; taking the earliest, %s",
            len(matches), model_id, matches[0].job_id,
        )  # fmt: skip
    return matches[0]


def _scenario_refused(exc: APIStatusError) -> bool:
    """A 5xx that Scenario itself answered with its JSON error, so the request was handled and refused."""
    return exc.status != 504 and isinstance(exc.body, dict) and isinstance(exc.body.get("reason"), str)


async def _search(
    client: ScenarioClient, model_id: str, body: Mapping[str, Any], since: datetime, excluded: Collection[str]
) -> tuple[Job | None, bool]:
    """Look for the job a few times; returns it (or None) and whether every search got an answer."""
    complete = True
    for pause in SEARCH_PAUSES:
        if pause:
            await client._sleep(pause)
        try:
            job = await find_submitted_job(client, model_id, body, since=since, exclude_job_ids=excluded)
        except ScenarioError as exc:
            log.warning("Could not look for the lost %s job: %s", model_id, exc)
            complete = False
            continue
        if job is not None:
            return job, complete
    return None, complete


async def run_model(
    client: ScenarioClient, model_id: str, body: dict[str, Any], *, exclude_job_ids: Collection[str] = ()
) -> GenerateResult:
    """Submit once, recover a lost answer by searching, resubmit at most once (see the module doc)."""
    for attempt in range(2):
        sent_at = client._now()
        resend_if_absent = False
        try:
            result = await client._post_generate(model_id, body)
        except APIStatusError as exc:
            if exc.status < 500:
                raise
            failure: ScenarioError = exc
            resend_if_absent = _scenario_refused(exc)
        except APIConnectionError as exc:
            failure = exc
            resend_if_absent = not exc.request_sent
        except APIResponseError as exc:
            failure = exc
        else:
            log.info("Started %s job %s (cost %s CU)", model_id, result.job.job_id, result.creative_units_cost)
            return result

        reached = not (isinstance(failure, APIConnectionError) and not failure.request_sent)
        if reached:
            log.warning("Generate request for %s may have reached Scenario (%s); looking for its job",
                        model_id, failure)  # fmt: skip
            job, complete = await _search(client, model_id, body, sent_at, exclude_job_ids)
            if job is not None:
                log.info("Found %s job %s after a lost answer", model_id, job.job_id)
                return GenerateResult(job=job, recovered=True)
            resend_if_absent = resend_if_absent and complete
        if not resend_if_absent:
            raise SubmitUncertainError(model_id, sent_at, str(failure)) from failure
        if attempt == 1:
            raise failure
        delay = backoff_delay(0, getattr(failure, "retry_after", None))
        log.warning("Generate request for %s created no job (%s); sending it again in %.2f s",
                    model_id, failure, delay)  # fmt: skip
        await client._sleep(delay)
    raise AssertionError("unreachable")
