"""FakeDiscord: the object tests, crash tests, benchmarks and the demo drive."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import EllipsisType
from typing import Any

from fakes.discord import _payloads as payloads
from fakes.discord._constants import (
    API_PREFIX,
    APPLICATION_ID,
    BOT_USER_ID,
    DEFAULT_CHANNEL_ID,
    DEFAULT_FILESIZE_LIMIT,
    DEFAULT_GUILD_ID,
    DEFAULT_USER_ID,
    EXTERNAL_GUILD_ID,
    MEMBER_PERMISSIONS,
    MODERATOR_PERMISSIONS,
)
from fakes.discord._gateway import Gateway
from fakes.discord._interactions import InteractionFactory
from fakes.discord._messages import compute_mentions, make_attachment
from fakes.discord._models import (
    FakeChannel,
    FakeFile,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    RecordedRequest,
    SpecViolation,
)
from fakes.discord._openapi import OpenAPI, default_spec_path
from fakes.discord._rest import Routes
from fakes.discord._server import Fault, Server, Slowdown
from fakes.discord._shards import MAX_GUILDS_PER_SHARD, GatewayEvent
from fakes.discord._state import FakeState


class FakeDiscord:
    """Discord's REST API, gateway and CDN on loopback, for the real discord.py to talk to.

    One server ("Fake Server") with one text channel by default, where the bot is a member allowed to
    send messages and attach files; a second server the bot is not in receives user-installed commands.
    State survives bot restarts; only `stop()` ends it. Any number of bots (processes) may connect at once,
    each on its own shards: GET /gateway/bot recommends `recommended_shards` with `max_concurrency`, and an
    IDENTIFY whose shards would hold more than `max_guilds_per_shard` servers each is closed with 4011.
    """

    def __init__(
        self,
        *,
        validate: bool = True,
        application_id: int = APPLICATION_ID,
        bot_user_id: int = BOT_USER_ID,
        token: str | None = None,
        guild_id: int = DEFAULT_GUILD_ID,
        channel_id: int = DEFAULT_CHANNEL_ID,
        guild_filesize_limit: int = DEFAULT_FILESIZE_LIMIT,
        spec_path: Path | None = None,
        ack_deadline: float | None = 3.0,
        recommended_shards: int = 1,
        max_concurrency: int = 1,
        max_guilds_per_shard: int = MAX_GUILDS_PER_SHARD,
    ) -> None:
        self.clock: Callable[[], float] = time.time
        """Seconds since the Unix epoch; snowflakes and token expiry follow it (discord.py uses the wall clock)."""
        self.ack_deadline = ack_deadline
        """Seconds after delivery within which a callback must arrive (10062 after); None disables it."""
        self.openapi = OpenAPI.load(spec_path) if validate else None
        self._state = FakeState(
            clock=lambda: self.clock(),
            application_id=application_id,
            bot_user_id=bot_user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            guild_filesize_limit=guild_filesize_limit,
        )
        self._host = "127.0.0.1"
        self._gateway = Gateway(self._state, token_ok=self._token_ok, url=lambda: self.gateway_url)
        self._gateway.advice.recommended_shards = recommended_shards
        self._gateway.advice.max_concurrency = max_concurrency
        self._gateway.max_guilds_per_shard = max_guilds_per_shard
        routes = Routes(self._state, self._gateway, lambda: self.base_url, lambda: self.ack_deadline)
        self._server = Server(self._state, self._gateway, routes, self.openapi, token)
        self._interactions = InteractionFactory(self._state, lambda: self.base_url)
        self._background: set[asyncio.Task[None]] = set()

    @staticmethod
    def spec_available(spec_path: Path | None = None) -> bool:
        """Whether Discord's OpenAPI file is where `validate=True` would look for it."""
        return (spec_path or default_spec_path()).is_file()

    # lifecycle -----------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeDiscord:
        self._host = host
        await self._server.start(host, port)
        return self

    async def stop(self) -> None:
        await self._server.stop()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _token_ok(self, presented: str | None) -> bool:
        return self._server.token_ok(presented)

    @property
    def base_url(self) -> str:
        if self._server.port is None:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://{self._host}:{self._server.port}"

    @property
    def api_base(self) -> str:
        """What DISCORD_API_BASE_URL (discord.http.Route.BASE) is set to."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1) + "/gateway"

    # identity ------------------------------------------------------------------------------------

    @property
    def application_id(self) -> int:
        return self._state.application_id

    @property
    def bot_user_id(self) -> int:
        return self._state.bot_user_id

    @property
    def guild_id(self) -> int:
        return self._state.default_guild_id

    @property
    def channel_id(self) -> int:
        return self._state.default_channel_id

    @property
    def token(self) -> str | None:
        return self._server.token

    # what happened -------------------------------------------------------------------------------

    @property
    def messages(self) -> dict[int, FakeMessage]:
        """Every message ever created (channel, interaction responses, followups, DMs), deleted ones too."""
        return self._state.messages

    @property
    def interactions(self) -> dict[int, FakeInteraction]:
        return self._state.interactions

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._server.requests

    @property
    def violations(self) -> list[SpecViolation]:
        return self._server.violations

    @property
    def cdn_requests(self) -> list[str]:
        return self._server.cdn_requests

    @property
    def global_commands(self) -> list[dict[str, Any]]:
        """The last global command list the bot PUT, as sent."""
        return self._state.global_commands

    @property
    def guild_commands(self) -> dict[int, list[dict[str, Any]]]:
        """The last command list PUT per server, as sent."""
        return self._state.guild_commands

    def registered_commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Commands as Discord stores them (with ids and versions), global or for one server."""
        return [{k: v for k, v in c.items() if k != "_sent"} for c in self._state.registered.get(guild_id, [])]

    def channel_messages(self, channel_id: int | None = None) -> list[FakeMessage]:
        """Messages in a channel (default: the default channel), oldest first, deleted ones left out."""
        return sorted(self._state.channel_messages(channel_id or self.channel_id), key=lambda m: m.id)

    def dm_messages(self, user_id: int) -> list[FakeMessage]:
        channel_id = self._state.dm_channels.get(user_id)
        return self.channel_messages(channel_id) if channel_id is not None else []

    def dm_channel_id(self, user_id: int) -> int:
        return self._state.dm_channel(user_id).id

    def assert_no_violations(self) -> None:
        """Fail with every recorded OpenAPI violation and unhandled route."""
        if self.violations:
            lines = "\n".join(f"  {v.kind}: {v.method} {v.path}: {v.message}" for v in self.violations)
            raise AssertionError(f"{len(self.violations)} Discord API violation(s):\n{lines}")

    # users and servers ---------------------------------------------------------------------------

    def user(
        self,
        user_id: int | None = None,
        name: str | None = None,
        *,
        permissions: int = MEMBER_PERMISSIONS,
        bot: bool = False,
    ) -> FakeUser:
        """Register (or get) a user; they become a member of every server."""
        if user_id is not None and name is None and user_id in self._state.users:
            return self._state.users[user_id]
        return self._state.add_user(user_id, name, permissions=permissions, bot=bot)

    def moderator(self, user_id: int | None = None, name: str | None = None) -> FakeUser:
        """A member with Manage Messages."""
        return self._state.add_user(user_id, name or "moderator", permissions=MODERATOR_PERMISSIONS)

    @property
    def users(self) -> dict[int, FakeUser]:
        return self._state.users

    @property
    def guilds(self) -> dict[int, FakeGuild]:
        return self._state.guilds

    @property
    def channels(self) -> dict[int, FakeChannel]:
        return self._state.channels

    def add_guild(
        self,
        guild_id: int | None = None,
        name: str = "Another Server",
        *,
        channel_id: int | None = None,
        bot_member: bool = True,
        filesize_limit: int = DEFAULT_FILESIZE_LIMIT,
    ) -> FakeGuild:
        """Another server; connected bots get its GUILD_CREATE (as when a bot is added to a server)."""
        guild = self._state.add_guild(
            guild_id, name, channel_id=channel_id, bot_member=bot_member, filesize_limit=filesize_limit
        )
        if bot_member:
            self._in_background(
                self._gateway.dispatch_guild_event("GUILD_CREATE", payloads.guild_create(self._state, guild), guild.id)
            )
        return guild

    def add_channel(
        self, guild_id: int | None = None, channel_id: int | None = None, *, name: str = "channel", nsfw: bool = False
    ) -> FakeChannel:
        """Another text channel (age-restricted with `nsfw`); connected bots get CHANNEL_CREATE."""
        channel = self._state.add_channel(guild_id or self.guild_id, channel_id, name=name, nsfw=nsfw)
        if self._state.guilds[channel.guild_id or 0].bot_member:
            data = payloads.channel(self._state, channel)
            self._in_background(self._gateway.dispatch_guild_event("CHANNEL_CREATE", data, channel.guild_id or 0))
        return channel

    def add_thread(
        self, parent_id: int | None = None, channel_id: int | None = None, *, name: str = "thread"
    ) -> FakeChannel:
        """A public thread in a channel (default: the default channel); commands can be sent in it (`channel_id`)."""
        parent = self._state.channels[parent_id or self.channel_id]
        return self._state.add_thread(parent, name, owner_id=self._state.bot_user_id, thread_id=channel_id)

    def _in_background(self, coro: Coroutine[Any, Any, None]) -> None:
        """Deliver a gateway event from synchronous API calls, when a loop is running."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()  # not started yet: bots will see it in their GUILD_CREATE
            return
        task = loop.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def threads(self, parent_id: int | None = None) -> list[FakeChannel]:
        """Threads opened under a channel (default: the default channel), oldest first, archived ones too."""
        parent = parent_id or self.channel_id
        return sorted(
            (c for c in self._state.channels.values() if c.is_thread and c.parent_id == parent), key=lambda c: c.id
        )

    # users acting --------------------------------------------------------------------------------

    async def post_message(
        self,
        channel_id: int,
        content: str = "",
        *,
        user_id: int = DEFAULT_USER_ID,
        attachments: list[FakeFile] | None = None,
        mention_bot: bool = False,
    ) -> FakeMessage:
        """A user posts a message (in a channel, a thread or a DM with the bot); bots get MESSAGE_CREATE.

        `mention_bot` puts `<@bot>` in front of the content. A bot without the Message Content intent receives
        the content and attachments only of messages that mention it (and of DMs), as on Discord. Posting in an
        archived thread that is not locked unarchives it."""
        state = self._state
        channel = state.channel(channel_id)
        user = self.user(user_id)
        if channel.is_thread and channel.archived:
            if channel.locked:
                raise PermissionError(f"thread {channel.id} is locked: Discord's client would not let {user.name} post")
            channel.archived = False
            await self._gateway.dispatch_guild_event(
                "THREAD_UPDATE", payloads.thread(state, channel), channel.guild_id or 0
            )
        message = FakeMessage(
            id=state.snowflake(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=user.id,
            timestamp=state.clock(),
            content=(f"<@{state.bot_user_id}> " if mention_bot else "") + content,
        )
        message.attachments = [
            make_attachment(state, channel.id, file.filename, file.data, file.guessed_content_type())
            for file in attachments or []
        ]
        compute_mentions(state, message)
        state.store_message(message)
        data = payloads.message(state, self.base_url, message, gateway=True)
        await self._gateway.dispatch_message_event("MESSAGE_CREATE", data, channel.guild_id)
        return message

    async def send_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user_id: int = DEFAULT_USER_ID,
        guild_id: int | EllipsisType | None = ...,
        channel_id: int | None = None,
        attachments: dict[str, FakeFile] | None = None,
        age_seconds: float = 0.0,
        user_install: bool = False,
        attachment_size_limit: int | None = None,
        member_permissions: int | None = None,
        raw_options: list[Any] | None = None,
    ) -> FakeInteraction:
        """A user runs a slash command ("name" or "group sub"); the bot receives INTERACTION_CREATE.

        `guild_id` defaults to the default server (or, with `user_install`, a server without the bot);
        None means a DM with the bot. Attachment options take a FakeFile (in `options` or `attachments`).
        `attachment_size_limit` defaults to the server's upload limit (10 MiB unboosted and in DMs).
        """
        if guild_id is ...:
            guild_id = EXTERNAL_GUILD_ID if user_install else self.guild_id
        if attachment_size_limit is None:
            guild = self._state.guilds.get(guild_id) if guild_id is not None else None
            attachment_size_limit = guild.filesize_limit if guild is not None else DEFAULT_FILESIZE_LIMIT
        ix = self._interactions.command(
            name,
            options or {},
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            attachments=attachments,
            age_seconds=age_seconds,
            user_install=user_install,
            attachment_size_limit=attachment_size_limit,
            member_permissions=member_permissions,
            raw_options=raw_options,
        )
        await self._deliver(ix)
        return ix

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        guild_id: int | EllipsisType | None = ...,
        channel_id: int | None = None,
        user_install: bool = False,
        member_permissions: int | None = None,
    ) -> FakeInteraction:
        """A user types into an autocomplete option (`focused`) of a slash command ("name" or "group sub");
        the bot receives an APPLICATION_COMMAND_AUTOCOMPLETE interaction and answers with choices (type 8),
        which land in `interaction.autocomplete_choices`. `options` holds what is typed so far."""
        if guild_id is ...:
            guild_id = EXTERNAL_GUILD_ID if user_install else self.guild_id
        guild = self._state.guilds.get(guild_id) if guild_id is not None else None
        ix = self._interactions.autocomplete(
            name,
            options,
            focused,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            user_install=user_install,
            attachment_size_limit=guild.filesize_limit if guild is not None else DEFAULT_FILESIZE_LIMIT,
            member_permissions=member_permissions,
        )
        await self._gateway.dispatch_interaction(ix.payload, ix.guild_id)
        return ix

    async def click(
        self,
        message_id: int,
        custom_id: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        values: list[str] | None = None,
        member_permissions: int | None = None,
        age_seconds: float = 0.0,
    ) -> FakeInteraction:
        """A user clicks a button (or picks `values` in a select menu) on a message the fake holds."""
        message = self._state.messages.get(message_id)
        if message is None or message.deleted:
            raise LookupError(f"no message {message_id} to click on")
        ix = self._interactions.click(
            message,
            custom_id,
            user_id=user_id,
            values=values,
            member_permissions=member_permissions,
            age_seconds=age_seconds,
        )
        await self._deliver(ix)
        return ix

    async def submit_modal(
        self,
        custom_id: str,
        fields: dict[str, Any],
        *,
        user_id: int | None = None,
        message_id: int | None = None,
        member_permissions: int | None = None,
        age_seconds: float = 0.0,
        raw_components: list[Any] | None = None,
    ) -> FakeInteraction:
        """A user submits a modal the bot opened; `fields` maps input custom_ids to values.

        By default the submitter is whoever the modal was opened for, in the same channel; a modal opened
        from a message component carries that message.
        """
        ix = self._interactions.modal_submit(
            custom_id,
            fields,
            user_id=user_id,
            message_id=message_id,
            member_permissions=member_permissions,
            age_seconds=age_seconds,
            raw_components=raw_components,
        )
        await self._deliver(ix)
        return ix

    async def _deliver(self, ix: FakeInteraction) -> None:
        session = await self._gateway.dispatch_interaction(ix.payload, ix.guild_id)
        ix.shard = session.shard[0] if session.shard else 0
        ix.connection = session.number

    # waiting -------------------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy and return its value (woken by every change, else polled)."""
        return await self._state.changes.wait_for(predicate, timeout, self._describe)

    async def wait_until_connected(self, timeout: float = 10.0) -> None:
        """Until a bot has IDENTIFYed, received READY, and is still connected."""
        await self.wait_for(lambda: self._gateway.connected_sessions(), timeout)

    @property
    def connected(self) -> bool:
        return bool(self._gateway.connected_sessions())

    @property
    def ready_count(self) -> int:
        """How many READYs were sent (one per IDENTIFY) over the fake's life."""
        return self._gateway.ready_count

    @property
    def resume_count(self) -> int:
        return self._gateway.resume_count

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to connected bots; discord.py reconnects and RESUMEs."""
        await self._gateway.request_reconnect()

    # shards --------------------------------------------------------------------------------------

    @property
    def recommended_shards(self) -> int:
        """The shard count GET /gateway/bot recommends (what an AutoShardedBot without `shard_count` runs)."""
        return self._gateway.advice.recommended_shards

    @recommended_shards.setter
    def recommended_shards(self, count: int) -> None:
        self._gateway.advice.recommended_shards = count

    @property
    def connected_shards(self) -> list[tuple[int, int] | None]:
        """`(shard_id, shard_count)` of every connected session, by shard (None: an unsharded session)."""
        shards = [s.shard for s in self._gateway.connected_sessions()]
        return sorted(shards, key=lambda shard: shard or (0, 0))

    @property
    def gateway_events(self) -> list[GatewayEvent]:
        """Every dispatch sent, in order, with the connection and shard that received it."""
        return self._gateway.events

    def events_received(self, shard_id: int, event: str | None = None) -> list[GatewayEvent]:
        """The dispatches a shard's connections received (of one kind, when given)."""
        return [e for e in self._gateway.events if e.shard_id == shard_id and event in (None, e.event)]

    async def drop_connection(self, shard_id: int | None = None, code: int = 4000) -> int:
        """Close the gateway sockets (of one shard, when given) with `code`; 4000 lets the bot RESUME."""
        return await self._gateway.drop(shard_id, code)

    @property
    def gateway_accepting(self) -> bool:
        """False: new gateway connections are refused with 503, as in an outage (live ones stay)."""
        return self._gateway.accepting

    @gateway_accepting.setter
    def gateway_accepting(self, accepting: bool) -> None:
        self._gateway.accepting = accepting

    def _describe(self) -> str:
        recent = ", ".join(f"{r.method} {r.path} -> {r.status}" for r in self.requests[-5:]) or "none"
        violations = "; ".join(v.message for v in self.violations[-3:]) or "none"
        return f"last requests: {recent}; violations: {violations}"

    # faults --------------------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        json: dict[str, Any] | None = None,
        times: int | None = 1,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer the next `times` matching requests (None: all) with `status` (`DROPPED`: close the connection
        without an answer, recorded with status 0).

        `path_regex` is searched in the API path without the /api/v10 prefix. A 429 gets Discord's body
        `{"message", "retry_after", "global": false}` and rate-limit headers (retry_after defaults to 1 s).
        """
        fault = Fault(method.upper(), re.compile(path_regex), status, json, times, retry_after)
        self._server.faults.append(fault)
        return fault

    def slow(
        self, method: str, path_regex: str, seconds: float, *, times: int | None = 1, uploads_only: bool = False
    ) -> Slowdown:
        """Hold the next `times` matching requests (None: all) `seconds`, or until `.release()`, then handle them.

        `path_regex` is searched in the API path without the /api/v10 prefix; with `uploads_only`, only
        requests carrying files match (a result upload, not a progress edit of the same message). The hold
        is real time, whatever `clock` says. A held request is applied even if the client died meanwhile, as
        Discord applies a request it has received; wait on `slowdown.started` / `slowdown.finished`.
        """
        slowdown = Slowdown(method.upper(), re.compile(path_regex), seconds, times, uploads_only)
        self._server.slowdowns.append(slowdown)
        return slowdown

    def clear_faults(self) -> None:
        """Forget injected faults and slowdowns (requests held right now go through)."""
        self._server.faults.clear()
        for slowdown in self._server.slowdowns:
            slowdown.release()
        self._server.slowdowns.clear()

    def expire_token(self, interaction_id: int) -> None:
        """Every later use of that interaction's token answers 401 / 50027 Invalid Webhook Token."""
        self._state.interactions[interaction_id].token_revoked = True

    def forbid_channel(self, channel_id: int) -> None:
        """Sending messages there answers 403 / 50013 Missing Permissions."""
        self._state.forbidden_channels.add(channel_id)

    def allow_channel(self, channel_id: int) -> None:
        self._state.forbidden_channels.discard(channel_id)

    def forbid_dms(self, user_id: int) -> None:
        """Sending that user DMs answers 403 / 50007 Cannot send messages to this user."""
        self._state.forbidden_dm_users.add(user_id)

    def allow_dms(self, user_id: int) -> None:
        self._state.forbidden_dm_users.discard(user_id)
