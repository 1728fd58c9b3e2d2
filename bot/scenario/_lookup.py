"""Finding the job a `POST /generate` created when its answer was lost, by the input it echoes.

POST /generate/custom/{model} has no idempotency key, so whoever submits decides when to look and whether
to send again (the job engine does). This module only answers "is there a job for this request?":
GET /jobs?createdAfter=<since - SUBMIT_SKEW> (newest first, up to 5 pages of 100), keeping jobs whose
`metadata.input` holds every key of the body sent with the same value and whose id is not excluded;
the earliest wins. It uses nothing but the client's public `list_jobs`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.scenario.errors import BadRequestError
from bot.scenario.models import Job

if TYPE_CHECKING:
    from bot.scenario._client import ScenarioClient

__all__ = ["SUBMIT_SKEW", "find_submitted_job", "input_matches"]

log = logging.getLogger(__name__)

SUBMIT_SKEW = timedelta(seconds=60)
"""How far before the send time to look, allowing for a difference between our clock and Scenario's."""

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
