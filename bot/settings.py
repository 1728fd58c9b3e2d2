"""Every setting, read from the environment and an optional `.env` file."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SCENARIO_BASE_URL = "https://api.cloud.scenario.com/v1"
DEFAULT_DATABASE_URL = "sqlite:///data/bot.db"


class Settings(BaseSettings):
    """The bot's configuration. Field names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr = Field(min_length=1)
    scenario_sdk_api_key: SecretStr = Field(min_length=1)
    scenario_sdk_api_secret: SecretStr = Field(min_length=1)
    scenario_base_url: str = DEFAULT_SCENARIO_BASE_URL
    discord_api_base_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    dev_guild_id: int | None = None

    max_parallel_jobs: int = Field(default=3, ge=1, le=100)
    max_queued_per_user: int = Field(default=5, ge=1, le=100)
    job_timeout_seconds: float = Field(default=900.0, gt=0)
    scenario_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    max_attachment_mb: float = Field(default=25.0, gt=0)
    log_level: str = "INFO"

    @field_validator("scenario_base_url", "discord_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None if value == "" else value
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("dev_guild_id", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def max_attachment_bytes(self) -> int:
        return int(self.max_attachment_mb * 1024 * 1024)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable, never its value."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            reason = "is required but not set" if error["type"] == "missing" else f"is invalid: {error['msg']}"
            problems.append(f"{name} {reason}")
        raise SettingsError("; ".join(problems)) from None
