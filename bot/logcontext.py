"""Fields bound to every log line written while working on one job: its id, guild, shard and Scenario job id.

The fields live in a `ContextVar`. Each job runs in its own asyncio task, which starts with a copy of the
context it was created in; what the task binds stays with it, and with the tasks it spawns afterwards, and
never leaks into another job's lines. `bot.log` reads them when it writes a line.

The shard is not bound: it follows from the guild (Discord's `(guild_id >> 22) % shard_count`) and is worked
out when a line is written, with the shard count the client reports (`set_shard_count`; 1 until then, and
for this bot, which runs one shard). A job from a DM has no guild and is shard 0, where Discord sends DMs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType

FIELDS = ("job_id", "guild_id", "shard_id", "scenario_job_id")
"""The names of the job's fields, in the order they are written."""

_EMPTY: Mapping[str, object] = MappingProxyType({})
_bound: ContextVar[Mapping[str, object]] = ContextVar("log_fields", default=_EMPTY)
_shard_count = 1


def bind(**fields: object) -> None:
    """Add fields to every line the current task (and the tasks it spawns from now on) logs; None unbinds."""
    merged = {**_bound.get(), **fields}
    _bound.set(MappingProxyType({name: value for name, value in merged.items() if value is not None}))


def bind_job(job_id: str, guild_id: int | None = None, scenario_job_id: str | None = None) -> None:
    """Bind a job's fields (replacing any other job's) for the rest of the current task."""
    _bound.set(_EMPTY)
    bind(job_id=job_id, guild_id=guild_id, scenario_job_id=scenario_job_id)


@contextlib.contextmanager
def job_context(job_id: str, guild_id: int | None = None, scenario_job_id: str | None = None) -> Iterator[None]:
    """Bind a job's fields for a block run outside the job's own task (e.g. `/show` reposting it)."""
    token = _bound.set(_EMPTY)
    try:
        bind(job_id=job_id, guild_id=guild_id, scenario_job_id=scenario_job_id)
        yield
    finally:
        _bound.reset(token)


def set_shard_count(count: int | None) -> None:
    """The number of shards the bot runs (None or 0: unsharded, one shard)."""
    global _shard_count
    _shard_count = max(count or 1, 1)


def shard_of(guild_id: int | None) -> int:
    """The shard that receives a guild's events; DMs go to shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % _shard_count


def current() -> dict[str, object]:
    """The fields of the line being written now, shard included when a job is bound."""
    fields = dict(_bound.get())
    if "job_id" in fields and "shard_id" not in fields:
        guild_id = fields.get("guild_id")
        fields["shard_id"] = shard_of(guild_id if isinstance(guild_id, int) else None)
    return fields
