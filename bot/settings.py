"""Every setting, read from the environment and an optional `.env` file."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.jobs.sqlite import SQLITE_FORMS, sqlite_path
from bot.log import LogFormat
from bot.scenario import DEFAULT_BASE_URL

ENV_FILE = ".env"
DEFAULT_DATABASE_URL = "sqlite:///data/bot.db"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

_POSTGRES_FORM = "postgresql://user:password@host:port/database"
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


class Settings(BaseSettings):
    """The bot's configuration. Field names are the environment variable names, lower-cased.

    An empty variable counts as unset (so `.env.example`'s blank lines mean "the default"). Validators
    never put the value in their message: a URL can carry a password.
    """

    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    discord_token: SecretStr = Field(min_length=1)
    scenario_sdk_api_key: SecretStr = Field(min_length=1)
    scenario_sdk_api_secret: SecretStr = Field(min_length=1)
    scenario_base_url: str = DEFAULT_BASE_URL
    discord_api_base_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    # A Discord snowflake: a positive 64-bit number.
    dev_guild_id: int | None = Field(default=None, gt=0, lt=2**64)

    max_parallel_jobs: Literal["auto"] | int = "auto"
    max_queued_per_user: int = Field(default=5, ge=1, le=100)
    job_timeout_seconds: float = Field(default=900.0, gt=0, allow_inf_nan=False)
    scenario_timeout_seconds: float = Field(default=60.0, gt=0, le=600, allow_inf_nan=False)
    # With PostgreSQL: a job whose process stopped answering is taken over by another after this long.
    job_lease_seconds: float = Field(default=30.0, ge=3, le=3600, allow_inf_nan=False)
    max_attachment_mb: float = Field(default=25.0, gt=0, allow_inf_nan=False)
    # How jobs in flight are watched: one GET /jobs per tick for all of them, or one poller per job.
    status_mode: Literal["batched", "per_job"] = "batched"
    status_tick_seconds: float = Field(default=0.3, ge=0.1, le=5.0, allow_inf_nan=False)
    # Optional: receive Scenario's project webhooks here, as a hint to look at a job at once.
    scenario_webhook_port: int | None = Field(default=None, ge=0, le=65535)
    # Discord's privileged Message Content intent, switched on in the developer portal too: every plain message
    # in a session's thread is an idea. Off: only messages that mention the bot are.
    message_content_intent: bool = False
    # The /metrics, /healthz and /readyz endpoint: off unless a port is given (0: any free port, for tests).
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = Field(default="127.0.0.1", min_length=1)
    # Budgets in creative units (CU); unset = unlimited. Admins override the first two per server (/budget).
    budget_user_daily_cu: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    budget_server_monthly_cu: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    budget_total_monthly_cu: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    # Above this estimate (CU), the requester confirms with Run first; unset = never asked.
    confirm_above_cu: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    log_level: LogLevel = "INFO"
    log_format: LogFormat = "text"
    # Gateway shards: unset = Discord's recommended count, all in this process. SHARD_IDS picks this process's
    # share when several processes split the gateway (NoDecode: a comma list, not JSON).
    shard_count: int | None = None
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None

    @field_validator("scenario_base_url", "discord_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)
            parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
        except ValueError:
            valid = False
        if not valid:
            raise ValueError("must be an http:// or https:// URL with a host, such as https://example.com/v1")
        return value.rstrip("/")

    @field_validator("metrics_host")
    @classmethod
    def _metrics_host(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _HOST_NAME.fullmatch(value):
                raise ValueError(
                    "must be an IP address or a host name, such as 127.0.0.1 or 0.0.0.0 (no scheme, no port)"
                ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme, sep, _ = value.partition("://")
        if sep and scheme in ("postgresql", "postgres"):
            try:
                urlsplit(value).port  # noqa: B018 -- a password with an unescaped "/", "?" or "#" breaks the URL
            except ValueError:
                raise ValueError(
                    f"is not a valid PostgreSQL URL; use {_POSTGRES_FORM} (special characters %-escaped)"
                ) from None
            return value
        if not sep or scheme != "sqlite":
            raise ValueError(f"must be {SQLITE_FORMS}, or {_POSTGRES_FORM}")
        sqlite_path(value)  # the store's own reading of the URL, so the two can never disagree
        return value

    @field_validator("max_parallel_jobs", mode="before")
    @classmethod
    def _auto_or_a_number(cls, value: object) -> object:
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        if not text.isdigit() or not 1 <= int(text) <= 100:
            raise ValueError("must be auto (the plan's own ceiling) or a whole number from 1 to 100")
        return int(text)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("status_mode", mode="before")
    @classmethod
    def _status_mode(cls, value: object) -> object:
        return value.strip().lower().replace("-", "_") if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("shard_count", mode="before")
    @classmethod
    def _shard_count(cls, value: object) -> object:
        if value is None:
            return None
        text = str(value).strip()
        if not text.isdigit() or int(text) < 1:
            raise ValueError("must be a whole number of 1 or more: the number of shards across all processes")
        return int(text)

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",")]
        if not all(part.isdigit() for part in parts):
            raise ValueError("must be a comma-separated list of shard numbers, such as 0,1")
        ids = tuple(int(part) for part in parts)
        if len(set(ids)) != len(ids):
            raise ValueError("names a shard twice")
        if "shard_count" not in info.data:
            return ids  # SHARD_COUNT is itself malformed, and reported on its own
        count = info.data["shard_count"]
        if count is None:
            raise ValueError("needs SHARD_COUNT, the number of shards across all processes")
        if max(ids) >= count:
            raise ValueError("must be below SHARD_COUNT: shards are numbered from 0 to SHARD_COUNT-1")
        return ids

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
            if error["type"] == "missing":
                problems.append(f"{name} is required but not set")
            else:
                problems.append(f"{name} is invalid: {error['msg'].removeprefix('Value error, ')}")
        raise SettingsError("; ".join(problems)) from None
    except UnicodeDecodeError:
        raise SettingsError(f"{ENV_FILE} could not be read: it is not UTF-8 text") from None
    except OSError as exc:
        raise SettingsError(f"{ENV_FILE} could not be read: {exc.strerror or type(exc).__name__}") from None
