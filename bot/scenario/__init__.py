"""The Scenario API client: typed models and inputs, a small error tree, safe retries and a job poller.

    client = ScenarioClient(session, api_key, api_secret)
    result = await client.submit_generate(IDEOGRAM_V4, IdeogramV4Input(prompt="a neon sign").to_body())
    job = await client.wait_for_job(result.job.job_id, on_update=show_progress)
    assets = await client.get_assets(job.asset_ids)

Many jobs in flight are better watched together: `StatusWatch(client).wait_for_job(...)` has the same
contract as `client.wait_for_job` but one `GET /jobs` a tick serves them all (`_watch.py`).

See `_client.py` for which requests are retried. The client is transport only for the paid
`POST /generate`: one attempt per `submit_generate`; `submission_failure` says what a failure means and
`find_submitted_job` looks for a job whose answer was lost, and the caller decides whether to send again.
"""

from __future__ import annotations

from bot.images import ImageTooLargeError  # raised by `upload_image`; one class with the image code's
from bot.scenario._client import DEFAULT_BASE_URL, ScenarioClient
from bot.scenario._http import read_capped
from bot.scenario._watch import StatusWatch
from bot.scenario.errors import (
    MAX_UPLOAD_BYTES,
    APIConnectionError,
    APIResponseError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    DownloadTooLargeError,
    InputError,
    JobCanceledError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    PlanLimitError,
    ScenarioError,
    ServerError,
    SubmitFailure,
    submission_failure,
)
from bot.scenario.inputs import (
    ACCELERATIONS,
    CHARACTER_ASPECT_RATIOS,
    CHARACTER_RENDERING_SPEEDS,
    CHARACTER_RESOLUTIONS,
    CHARACTER_STYLES,
    IDEOGRAM_CHARACTER,
    IDEOGRAM_V4,
    PROMPT_MAX_LENGTH,
    SEED_MAX,
    V4_IMAGE_SIZES,
    V4_MAX_OUTPUTS,
    V4_RENDERING_SPEEDS,
    IdeogramCharacterInput,
    IdeogramV4Input,
)
from bot.scenario.models import (
    Asset,
    AssetMetadata,
    AssetProperties,
    ErrorBody,
    GenerateResult,
    Job,
    JobBilling,
    JobMetadata,
    JobStatus,
    StatusChange,
)
from bot.scenario.polling import OnUpdate, PollSchedule, poll_job

__all__ = [
    "ACCELERATIONS",
    "CHARACTER_ASPECT_RATIOS",
    "CHARACTER_RENDERING_SPEEDS",
    "CHARACTER_RESOLUTIONS",
    "CHARACTER_STYLES",
    "DEFAULT_BASE_URL",
    "IDEOGRAM_CHARACTER",
    "IDEOGRAM_V4",
    "MAX_UPLOAD_BYTES",
    "PROMPT_MAX_LENGTH",
    "SEED_MAX",
    "V4_IMAGE_SIZES",
    "V4_MAX_OUTPUTS",
    "V4_RENDERING_SPEEDS",
    "APIConnectionError",
    "APIResponseError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Asset",
    "AssetMetadata",
    "AssetProperties",
    "AuthenticationError",
    "BadRequestError",
    "DownloadTooLargeError",
    "ErrorBody",
    "GenerateResult",
    "IdeogramCharacterInput",
    "IdeogramV4Input",
    "ImageTooLargeError",
    "InputError",
    "Job",
    "JobBilling",
    "JobCanceledError",
    "JobFailedError",
    "JobMetadata",
    "JobStatus",
    "JobTimeoutError",
    "NotFoundError",
    "OnUpdate",
    "PermissionDeniedError",
    "PlanLimitError",
    "PollSchedule",
    "ScenarioClient",
    "ScenarioError",
    "ServerError",
    "StatusChange",
    "StatusWatch",
    "SubmitFailure",
    "poll_job",
    "read_capped",
    "submission_failure",
]
