"""What the fake records: users, messages, attachments, interactions, requests and spec violations."""

from __future__ import annotations

import asyncio
import inspect
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fakes.discord._constants import MEMBER_PERMISSIONS, MessageFlags

POLL_INTERVAL = 0.02


@dataclass(frozen=True)
class FakeFile:
    """A file a user attaches to a slash-command option; served on the fake CDN."""

    filename: str
    data: bytes
    content_type: str | None = None

    def guessed_content_type(self) -> str | None:
        return self.content_type or mimetypes.guess_type(self.filename)[0]


@dataclass(eq=False)
class FakeAttachment:
    """A stored upload: exact bytes plus the fields Discord reports for it."""

    id: int
    filename: str
    data: bytes
    content_type: str | None
    size: int
    channel_id: int
    width: int | None = None
    height: int | None = None
    description: str | None = None
    ephemeral: bool = False
    url: str = ""
    proxy_url: str = ""


@dataclass(frozen=True)
class FakeUser:
    """A Discord user the fake knows; `permissions` is the default for interactions in servers."""

    id: int
    name: str
    bot: bool = False
    permissions: int = MEMBER_PERMISSIONS
    global_name: str | None = None


@dataclass(eq=False)
class FakeMessage:
    """A message as the fake stores it; `mentions` are the user ids that would actually be pinged."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    timestamp: float
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    nonce: str | int | None = None
    interaction_id: int | None = None
    webhook: bool = False
    deleted: bool = False
    edit_count: int = 0
    edited_timestamp: float | None = None
    allowed_mentions: dict[str, Any] | None = None
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    # users named in content whose mention allowed_mentions lets through (the API's `mentions` field)
    explicit_mentions: list[int] = field(default_factory=list)
    tts: bool = False
    type: int = 0
    message_reference: dict[str, Any] | None = None
    reactions: list[tuple[str, int]] = field(default_factory=list)
    """(emoji, user id) pairs, in the order they were added."""

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlags.EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred "is thinking…" response not yet edited."""
        return bool(self.flags & MessageFlags.LOADING)

    def custom_ids(self) -> list[str]:
        """Every custom_id in the message's components, depth first."""
        found: list[str] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for item in items:
                if item.get("custom_id"):
                    found.append(item["custom_id"])
                walk(item.get("components") or [])
                for key in ("accessory", "component"):
                    if isinstance(item.get(key), dict):
                        walk([item[key]])

        walk(self.components)
        return found


@dataclass(frozen=True)
class RecordedRequest:
    """One REST request the fake received; `json` is the body or the multipart `payload_json`."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[tuple[str, str, bytes]]
    status: int
    response: Any = None


@dataclass(frozen=True)
class SpecViolation:
    """A request the OpenAPI description rejects (kind "schema") or a route the fake does not serve."""

    method: str
    path: str
    message: str
    body: Any
    kind: str = "schema"


class Changes:
    """Wakes waiters whenever the fake's state changes; waiters also re-check on a short poll."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float, describe: Callable[[], str]) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s; {describe()}")
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            await asyncio.wait([fut], timeout=min(remaining, POLL_INTERVAL))
            if not fut.done():
                fut.cancel()


@dataclass(eq=False)
class FakeInteraction:
    """An interaction the fake delivered, and everything the bot did with its token."""

    id: int
    token: str
    type: int
    user_id: int
    channel_id: int
    guild_id: int | None
    payload: dict[str, Any]
    created_at: float
    delivered_at: float
    attachment_size_limit: int
    user_install: bool = False
    bot_in_guild: bool = True
    message_id: int | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    autocomplete_choices: list[dict[str, Any]] | None = None
    token_revoked: bool = False
    shard: int | None = None
    """The shard whose gateway connection received it (0 for an unsharded connection)."""
    connection: int | None = None
    """Which IDENTIFY's session received it (1 for the first the fake saw): tells two processes apart."""
    _changes: Changes | None = field(default=None, repr=False)

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)

    @property
    def messages(self) -> list[FakeMessage]:
        """The original response (when it is a message this interaction created) and the followups."""
        own = [self.original] if self.original is not None and self.original.interaction_id == self.id else []
        return own + self.followups

    @property
    def ephemeral_all(self) -> bool:
        """True when the bot sent at least one message for this interaction and all were ephemeral."""
        messages = self.messages
        return bool(messages) and all(m.ephemeral for m in messages)

    async def wait_for_callback(self, timeout: float = 5.0) -> dict[str, Any]:
        """The first callback (`{"type", "data"}`) the bot posted for this interaction."""
        await self.wait_until(lambda: self.callbacks, timeout)
        return self.callbacks[0]

    async def wait_until(self, predicate: Callable[..., Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` (or `predicate(interaction)`) is truthy; returns its value."""
        check = _bind(predicate, self)
        assert self._changes is not None, "interaction not attached to a FakeDiscord"
        return await self._changes.wait_for(check, timeout, lambda: f"interaction {self.id}: {self.callbacks}")


def _bind(predicate: Callable[..., Any], arg: Any) -> Callable[[], Any]:
    """Allow both zero-argument predicates and ones taking the interaction."""
    try:
        params = inspect.signature(predicate).parameters.values()
    except (TypeError, ValueError):
        return predicate
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    if positional:
        return lambda: predicate(arg)
    return predicate


@dataclass(eq=False)
class FakeChannel:
    """A text channel in a server (type 0), a DM with the bot (type 1), or a thread (11 public, 12 private)."""

    id: int
    type: int
    guild_id: int | None = None
    name: str | None = None
    recipient_id: int | None = None
    position: int = 0
    last_message_id: int | None = None
    nsfw: bool = False
    """Age-restricted (Discord's `nsfw` flag on a channel; a thread follows its parent)."""
    # threads only
    parent_id: int | None = None
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: float | None = None
    created_at: float | None = None
    message_count: int = 0

    @property
    def is_thread(self) -> bool:
        return self.type in (10, 11, 12)


@dataclass(eq=False)
class FakeGuild:
    """A server; `bot_member` is False for servers that only see the app through user installs."""

    id: int
    name: str
    owner_id: int
    bot_member: bool
    filesize_limit: int
    joined_at: float
    channel_ids: list[int] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)
    # user id -> role ids (besides @everyone, whose id is the guild id)
    member_roles: dict[int, list[int]] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)
