"""The Scenario API client: typed models and inputs, a small error tree, safe retries and a job poller.

    client = ScenarioClient(session, api_key, api_secret)
    result = await client.run_model(IDEOGRAM_V4, IdeogramV4Input(prompt="a neon sign").to_body())
    job = await client.wait_for_job(result.job.job_id, on_update=show_progress)
    assets = await client.get_assets(job.asset_ids)

See `_client.py` for which requests are retried and `_submit.py` for the rules that keep a paid
generation from being submitted twice.
"""

from __future__ import annotations

from bot.scenario._client import DEFAULT_BASE_URL, ScenarioClient
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
    ImageTooLargeError,
    InputError,
    JobCanceledError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    PlanLimitError,
    ScenarioError,
    ServerError,
    SubmitUncertainError,
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
    "SubmitUncertainError",
    "poll_job",
]
