"""Sharding as Discord does it: where a server's events go, IDENTIFY's `shard` checked, GET /gateway/bot's advice.

A bot in many servers splits its gateway into shards; a server's events (GUILD_CREATE, INTERACTION_CREATE,
MESSAGE_CREATE…) go only to shard `(guild_id >> 22) % shard_count`, DMs to shard 0. Each IDENTIFY names its
shard as `[shard_id, shard_count]` (a connection without one is a single, unsharded session that gets
everything). Several connections, from several processes, may be open at once. Every dispatch is recorded
as a `GatewayEvent`, so tests can assert which shard and which connection received what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_GUILDS_PER_SHARD = 2500
"""Discord closes an IDENTIFY with 4011 (sharding required) when one shard would hold more servers than this."""
SESSION_START_TOTAL = 1000
SESSION_START_RESET_MS = 24 * 60 * 60 * 1000

CLOSE_INVALID_SHARD = (4010, b"Invalid shard.")
CLOSE_SHARDING_REQUIRED = (4011, b"Sharding required.")


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that receives a server's events; DMs (no server) go to shard 0."""
    return 0 if not guild_id else (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class GatewayEvent:
    """One dispatch the fake sent, and who received it."""

    event: str
    """READY, GUILD_CREATE, INTERACTION_CREATE, MESSAGE_CREATE…"""
    connection: int
    """The IDENTIFY that opened the session: 1 for the first one the fake saw, 2 for the next…"""
    shard: tuple[int, int] | None
    """`(shard_id, shard_count)` as identified; None for an unsharded connection."""
    guild_id: int | None
    object_id: int | None
    """The id of what the event is about: the interaction, message, server or channel."""

    @property
    def shard_id(self) -> int:
        """The shard that received it (0 for an unsharded connection, which is shard 0 of 1)."""
        return self.shard[0] if self.shard is not None else 0


def parse_shard(value: Any) -> tuple[int, int] | None:
    """IDENTIFY's `shard`: `[shard_id, shard_count]` with `0 <= shard_id < shard_count`; ValueError otherwise."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        or not 0 <= value[0] < value[1]
    ):
        raise ValueError("invalid shard")
    return value[0], value[1]


def object_id(data: dict[str, Any]) -> int | None:
    """The `id` of a dispatch's payload, when it has one."""
    try:
        return int(data["id"])
    except (KeyError, TypeError, ValueError):
        return None


def guild_id_of(event: str, data: dict[str, Any]) -> int | None:
    """The server an event belongs to (a GUILD_CREATE's own id), or None (READY, DMs)."""
    raw = data.get("id") if event == "GUILD_CREATE" else data.get("guild_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


@dataclass
class ShardAdvice:
    """What GET /gateway/bot answers: the recommended shard count and the session start limit."""

    recommended_shards: int = 1
    max_concurrency: int = 1
    sessions_started: int = 0

    def gateway_bot(self, url: str) -> dict[str, Any]:
        limit = {
            "total": SESSION_START_TOTAL,
            "remaining": max(SESSION_START_TOTAL - self.sessions_started, 0),
            "reset_after": SESSION_START_RESET_MS,
            "max_concurrency": self.max_concurrency,
        }
        return {"url": url, "shards": self.recommended_shards, "session_start_limit": limit}
