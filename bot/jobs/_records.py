"""What every job store backend shares: the JobRecord's fields, their validation, and their JSON encoding.

A backend keeps only its SQL and its column types; what a field may hold, how a change is checked, and which
fields travel as JSON are decided here once, from `JobRecord` itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

import orjson
from pydantic import TypeAdapter

from bot.jobs.models import ACTIVE_STATES, JobRecord, JobState

FIELDS: tuple[str, ...] = tuple(JobRecord.model_fields)
COLUMNS = ", ".join(FIELDS)
JSON_FIELDS = frozenset(
    {
        "inputs",
        "uploaded_asset_ids",
        "output_asset_ids",
        "seeds",
        "delivered_message_ids",
        "nsfw_labels",
        "option_sources",
    }
)
DATETIME_FIELDS = frozenset({"token_expires_at", "submit_started_at", "created_at", "updated_at", "finished_at"})
ACTIVE: tuple[str, ...] = tuple(state.value for state in JobState if state in ACTIVE_STATES)
"""The values of `ACTIVE_STATES`, in declaration order (queries take plain strings)."""


class Row(Protocol):
    """A result row with a column per field, by name (`sqlite3.Row`, `asyncpg.Record`)."""

    def __getitem__(self, key: str, /) -> Any: ...


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(JobRecord.model_fields[name].annotation)


def validate(name: str, value: Any) -> Any:
    """Coerce and check one field value exactly as JobRecord would (a bad value raises ValidationError)."""
    return _adapter(name).validate_python(value)


def changes(fields: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The validated values an update writes: `fields`, plus `updated_at`, plus `finished_at` when it finishes.

    ValueError for a name JobRecord does not have, or `id`. Entering a state the engine no longer works on
    (`not state.active`) sets `finished_at` to `now`, unless given.
    """
    unknown = sorted(set(fields) - set(FIELDS)) + (["id"] if "id" in fields else [])
    if unknown:
        raise ValueError(f"Cannot update job field(s) {', '.join(unknown)}: not JobRecord fields")
    values = {name: validate(name, value) for name, value in fields.items()}
    values.setdefault("updated_at", now)
    if "state" in values and not values["state"].active:
        values.setdefault("finished_at", now)
    return values


def transition_fields(fields: Mapping[str, Any], to_state: JobState) -> dict[str, Any]:
    """`fields` with `state` set to `to_state`; ValueError if the caller passed `state` itself."""
    if "state" in fields:
        raise ValueError("transition() sets state from to_state; do not pass state= as a field")
    return {**fields, "state": to_state}


def state_values(states: Iterable[JobState | str]) -> list[str]:
    """Checked state values for a query (ValueError for a name that is not a JobState)."""
    return [JobState(state).value for state in states]


def to_json(name: str, value: Any) -> str:
    """A JSON field's value as JSON text (non-ASCII kept as is)."""
    return json.dumps(_adapter(name).dump_python(value, mode="json"), ensure_ascii=False)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken as UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_record(row: Row, read_datetime: Callable[[Any], datetime] | None = None) -> JobRecord:
    """A JobRecord from a row with a column per field: JSON text decoded, datetimes in UTC.

    `read_datetime` turns a stored datetime into a `datetime`, for a backend that does not return one itself.
    """
    data: dict[str, Any] = {}
    for name in FIELDS:
        value = row[name]
        if value is not None:
            if name in JSON_FIELDS:
                value = orjson.loads(value)
            elif name in DATETIME_FIELDS:
                value = as_utc(read_datetime(value) if read_datetime else value)
        data[name] = value
    return JobRecord.model_validate(data)


def check_columns(columns: Iterable[str]) -> None:
    """Fail at start, not at the first write, if JobRecord gained a field without a migration."""
    present = set(columns)
    missing = [name for name in FIELDS if name not in present]
    if missing:
        raise RuntimeError(f"The jobs table lacks JobRecord field(s) {', '.join(missing)}; add a migration")
