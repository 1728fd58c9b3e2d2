"""One place that sets up logging for the whole process: readable text or one JSON object per line.

Both formats carry the fields of the job being worked on (`bot.logcontext`) and pass every line through
`redact`, a safety net behind the rule that secrets are never logged: the chatty loggers that would print
tokens are kept quiet, and what still looks like a token, a credential or a database password is masked.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal

from bot import logcontext

LogFormat = Literal["text", "json"]
MASK = "***"
MIN_SECRET_LENGTH = 8
"""Known secrets shorter than this are not masked by value: doing so would mangle ordinary words."""

_PATTERNS = [
    # Interaction tokens in webhook and interaction-callback URLs: /webhooks/<application id>/<token>/...
    (re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s?#'\"]+"), rf"\g<1>{MASK}"),
    # Authorization headers however printed: `Authorization: Basic …`, `'Authorization': 'Bot …'`, `authorization=…`.
    (
        re.compile(r"""(authorization['"]?\s*[:=]\s*['"]?\s*(?:basic|bearer|bot)\s+)[^\s'",}]+""", re.IGNORECASE),
        rf"\g<1>{MASK}",
    ),
    # PostgreSQL DSN passwords: postgresql://user:password@host → postgresql://user:***@host.
    (re.compile(r"(\bpostgres(?:ql)?(?:\+\w+)?://[^:/@\s]*:)[^\s/]*@", re.IGNORECASE), rf"\g<1>{MASK}@"),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask interaction tokens in URLs, Authorization credentials, DSN passwords and the given secrets."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class _ContextFilter(logging.Filter):
    """Stamps each record with the job fields bound where it was logged (logging is synchronous)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_fields = logcontext.current()
        return True


_ORDER = {name: index for index, name in enumerate(logcontext.FIELDS)}


def _job_fields(record: logging.LogRecord) -> dict[str, object]:
    """The record's job fields in `logcontext.FIELDS` order (read now if no filter stamped the record)."""
    fields = getattr(record, "job_fields", None)
    fields = logcontext.current() if fields is None else fields
    return dict(sorted(fields.items(), key=lambda item: _ORDER.get(item[0], len(_ORDER))))


class TextFormatter(logging.Formatter):
    """`2024-05-01 12:00:00,123 INFO    bot.jobs: message [job=… guild=… shard=… scenario_job=…]`, redacted."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.secrets = _usable(secrets)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = _job_fields(record)
        if fields:
            line += " [" + " ".join(f"{name.removesuffix('_id')}={value}" for name, value in fields.items()) + "]"
        return line

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, the job's fields, exception and stack."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = _usable(secrets)

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # %-arguments that do not fit: keep the line, and the one-object-per-line promise
            message = f"{record.msg} (unformattable arguments: {record.args!r})"
        entry: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(message, self.secrets),
        }
        for name, value in _job_fields(record).items():
            # Snowflakes exceed 2**53: as JSON numbers, many log tools would round them. Discord sends strings too.
            entry[name] = str(value) if name == "guild_id" else value
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text, self.secrets)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info), self.secrets)
        return json.dumps(entry, default=str)


def _usable(secrets: Iterable[str]) -> tuple[str, ...]:
    # Longest first, so a secret that contains another is masked whole.
    return tuple(sorted((s for s in secrets if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True))


def setup_logging(level: str = "INFO", fmt: LogFormat = "text", *, secrets: Iterable[str] = ()) -> None:
    """Log to stderr as `fmt`; chatty loggers (some would print interaction tokens) are kept quiet.

    `secrets` (the bot token, the Scenario key and secret) are masked wherever they would appear.
    """
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter(secrets) if fmt == "json" else TextFormatter(secrets)
    handler.setFormatter(formatter)
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    # Webhook debug lines carry interaction-token URLs: keep them out of logs even at DEBUG.
    logging.getLogger("discord.webhook").setLevel(logging.INFO)
    logging.getLogger("discord.gateway").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Python's warnings, and in JSON a crash's traceback, go through the same format and redaction.
    logging.captureWarnings(True)
    if fmt == "json":
        sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], value: BaseException, traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    logging.getLogger("bot").critical("Uncaught exception", exc_info=(kind, value, traceback))
