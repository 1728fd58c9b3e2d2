"""The REST routes the bot uses, with Discord's rules: permissions, tokens, acknowledgements, nonces."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from multidict import MultiDictProxy

from bot.fakes.discord import _errors as err
from bot.fakes.discord import _payloads as payloads
from bot.fakes.discord._constants import NONCE_WINDOW, MessageFlags, Permissions
from bot.fakes.discord._gateway import Gateway
from bot.fakes.discord._messages import (
    Body,
    apply,
    channel_size_limit,
    check_limits,
    compute_mentions,
    number_components,
)
from bot.fakes.discord._models import FakeChannel, FakeGuild, FakeInteraction, FakeMessage
from bot.fakes.discord._rest_commands import CommandRoutes
from bot.fakes.discord._state import FakeState

Result = tuple[int, Any]


@dataclass
class Call:
    """One REST call as the handlers see it."""

    method: str
    path: str
    args: dict[str, str]
    query: MultiDictProxy[str]
    body: Body

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")

    @property
    def json(self) -> dict[str, Any]:
        return self.body.payload if isinstance(self.body.payload, dict) else {}


Handler = Callable[[Call], Awaitable[Result]]
ID = r"(?P<{}>\d+)"


class Routes:
    """Route table plus handlers; `match` finds the handler for a method and API path."""

    def __init__(
        self, state: FakeState, gateway: Gateway, base_url: Callable[[], str],
        ack_deadline: Callable[[], float | None],
    ) -> None:
        self.state = state
        self.gateway = gateway
        self.base_url = base_url
        self.ack_deadline = ack_deadline
        commands = CommandRoutes(state)
        app = ID.format("app_id")
        hook = rf"/webhooks/{app}/(?P<token>[^/]+)"
        hook_message = hook + r"/messages/(?P<message_id>@original|\d+)"
        channel = "/channels/" + ID.format("channel_id")
        message = channel + "/messages/" + ID.format("message_id")
        guild = "/guilds/" + ID.format("guild_id")
        callback = "/interactions/" + ID.format("interaction_id") + r"/(?P<token>[^/]+)/callback"
        # (method, path pattern, handler, needs the bot token)
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", r"/users/@me", self.get_me, True),
            ("GET", r"/users/" + ID.format("user_id"), self.get_user, True),
            ("POST", r"/users/@me/channels", self.create_dm, True),
            ("GET", r"/oauth2/applications/@me", self.get_application, True),
            ("GET", r"/gateway", self.get_gateway, False),
            ("GET", r"/gateway/bot", self.get_gateway_bot, True),
            ("POST", callback, self.callback, False),
            ("POST", hook, self.followup, False),
            ("GET", hook_message, self.get_webhook_message, False),
            ("PATCH", hook_message, self.edit_webhook_message, False),
            ("DELETE", hook_message, self.delete_webhook_message, False),
            ("GET", channel, self.get_channel, True),
            ("GET", channel + "/messages", self.list_messages, True),
            ("POST", channel + "/messages", self.create_message, True),
            ("POST", channel + "/typing", self.typing, True),
            ("GET", message, self.get_message, True),
            ("PATCH", message, self.edit_message, True),
            ("DELETE", message, self.delete_message, True),
            ("GET", guild, self.get_guild, True),
            ("GET", guild + "/channels", self.get_guild_channels, True),
            ("GET", guild + "/members/" + ID.format("user_id"), self.get_member, True),
            *commands.table(app),
        ]
        self._table = [(m, re.compile(p + "$"), h, auth) for m, p, h, auth in table]

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str], bool] | None:
        for route_method, pattern, handler, auth in self._table:
            if route_method == method:
                found = pattern.match(path)
                if found:
                    return handler, found.groupdict(), auth
        return None

    def render(self, message: FakeMessage) -> dict[str, Any]:
        return payloads.message(self.state, self.base_url(), message)

    async def _event(self, event: str, message: FakeMessage) -> None:
        """Tell connected bots about a message they can see (not ephemeral, in a server they are in)."""
        if message.ephemeral:
            return
        channel = self.state.channels.get(message.channel_id)
        guild = self.state.guild_of(channel) if channel is not None else None
        if guild is not None and not guild.bot_member:
            return
        if event == "MESSAGE_DELETE":
            data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id:
                data["guild_id"] = str(message.guild_id)
        else:
            data = payloads.message(self.state, self.base_url(), message, gateway=True)
        await self.gateway.dispatch_message_event(event, data, message.guild_id)

    # users, application, gateway -----------------------------------------------------------------

    async def get_me(self, call: Call) -> Result:
        return 200, payloads.me(self.state)

    async def get_user(self, call: Call) -> Result:
        found = self.state.users.get(int(call.args["user_id"]))
        if found is None:
            raise err.unknown_user()
        return 200, payloads.user(found)

    async def get_application(self, call: Call) -> Result:
        return 200, payloads.application(self.state)

    async def get_gateway(self, call: Call) -> Result:
        return 200, {"url": self.gateway_url()}

    async def get_gateway_bot(self, call: Call) -> Result:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return 200, {"url": self.gateway_url(), "shards": 1, "session_start_limit": limit}

    def gateway_url(self) -> str:
        return self.base_url().replace("http://", "ws://", 1) + "/gateway"

    async def create_dm(self, call: Call) -> Result:
        try:
            user_id = int(call.json.get("recipient_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise err.invalid_form(["recipient_id"], "BASE_TYPE_REQUIRED", "This field is required") from None
        if user_id not in self.state.users:
            raise err.unknown_user()
        return 200, payloads.channel(self.state, self.state.dm_channel(user_id))

    # interactions --------------------------------------------------------------------------------

    async def callback(self, call: Call) -> Result:
        state = self.state
        ix = state.interactions.get(int(call.args["interaction_id"]))
        if ix is None or ix.token != call.args["token"]:
            raise err.unknown_interaction()
        if ix.acknowledged:
            raise err.already_acknowledged()
        deadline = self.ack_deadline()
        late = deadline is not None and state.clock() - ix.delivered_at > deadline
        if late or state.token_expired(ix):
            raise err.unknown_interaction()
        kind = call.json.get("type")
        data = call.json.get("data") or {}
        if kind not in _CALLBACK_TYPES.get((ix.type, ix.message_id is not None), set()):
            raise err.invalid_form(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
        response: dict[str, Any] = {"interaction": {"id": str(ix.id), "type": ix.type}}
        message: FakeMessage | None = None
        # The message part of a callback is its `data`; files come with the callback's multipart body.
        content = Body(call.body.media_type, data, call.body.uploads)
        if kind in (4, 5):
            check_limits(content, size_limit=ix.attachment_size_limit)
            flags = MessageFlags.LOADING | (int(data.get("flags") or 0) & MessageFlags.EPHEMERAL) if kind == 5 else 0
            message = self._interaction_message(ix, content if kind == 4 else Body(None, {}), flags=flags)
            ix.original = message
        elif kind in (6, 7):
            message = ix.original = state.message(ix.message_id or 0)
            if kind == 7:
                check_limits(content, size_limit=ix.attachment_size_limit)
                apply(state, message, content, creating=False)
        elif kind == 8:
            ix.autocomplete_choices = list(data.get("choices") or [])
        elif kind == 9:
            ix.modal = data
            # Discord numbers the modal's components; the submit echoes those ids back.
            state.modals[data["custom_id"]] = (ix, {**data, "components": number_components(data["components"])})
        ix.callbacks.append({"type": kind, "data": data})
        state.changes.notify()
        if message is not None:
            response["interaction"].update({
                "response_message_id": str(message.id), "response_message_loading": message.loading,
                "response_message_ephemeral": message.ephemeral,
            })
            if kind in (4, 7):
                response["resource"] = {"type": kind, "message": self.render(message)}
            if kind != 6:
                await self._event("MESSAGE_CREATE" if kind in (4, 5) else "MESSAGE_UPDATE", message)
        return (200, response) if call.flag("with_response") else (204, None)

    def _interaction_message(self, ix: FakeInteraction, body: Body, *, flags: int = 0) -> FakeMessage:
        state = self.state
        message = FakeMessage(
            id=state.snowflake(), channel_id=ix.channel_id, guild_id=ix.guild_id, author_id=state.bot_user_id,
            timestamp=state.clock(), flags=flags, interaction_id=ix.id, webhook=True,
            type=20 if ix.type == 2 and not ix.original else 0,
        )
        apply(state, message, body, creating=True, allow_empty=bool(flags & MessageFlags.LOADING))
        return state.store_message(message)

    def _webhook_interaction(self, call: Call) -> FakeInteraction:
        if int(call.args["app_id"]) != self.state.application_id:
            raise err.unknown_webhook()
        ix = self.state.interactions_by_token.get(call.args["token"])
        if ix is None or self.state.token_expired(ix):
            raise err.invalid_webhook_token()
        return ix

    def _webhook_message(self, call: Call, ix: FakeInteraction) -> FakeMessage:
        ref = call.args["message_id"]
        if ref == "@original":
            if ix.original is None or ix.original.deleted:
                raise err.unknown_message()
            return ix.original
        message = self.state.messages.get(int(ref))
        if message is None or message.deleted or message not in (ix.original, *ix.followups):
            raise err.unknown_message()
        return message

    async def followup(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        if not ix.acknowledged:
            raise err.unknown_webhook()
        check_limits(call.body, size_limit=ix.attachment_size_limit)
        original = ix.original
        if original is not None and original.loading and not original.deleted and original.interaction_id == ix.id:
            # Discord's documented compatibility rule: the first followup after a deferred response edits
            # the "thinking" message instead of creating one, keeping its ephemeral state.
            apply(self.state, original, call.body, creating=False)
            message = original
            await self._event("MESSAGE_UPDATE", message)
        else:
            if ix.user_install and not ix.bot_in_guild and len(ix.followups) >= 5:
                raise err.max_followups()
            message = self._interaction_message(ix, call.body)
            ix.followups.append(message)
            await self._event("MESSAGE_CREATE", message)
        self.state.changes.notify()
        return (200, self.render(message)) if call.flag("wait") else (204, None)

    async def get_webhook_message(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        return 200, self.render(self._webhook_message(call, ix))

    async def edit_webhook_message(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        message = self._webhook_message(call, ix)
        check_limits(call.body, size_limit=ix.attachment_size_limit)
        apply(self.state, message, call.body, creating=False)
        self.state.changes.notify()
        await self._event("MESSAGE_UPDATE", message)
        return 200, self.render(message)

    async def delete_webhook_message(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        message = self._webhook_message(call, ix)
        message.deleted = True
        self.state.changes.notify()
        await self._event("MESSAGE_DELETE", message)
        return 204, None

    # channels and messages -----------------------------------------------------------------------

    def _visible_channel(self, call: Call) -> tuple[FakeChannel, FakeGuild | None]:
        channel = self.state.channel(int(call.args["channel_id"]))
        guild = self.state.guild_of(channel)
        if guild is not None and not guild.bot_member:
            raise err.missing_access()
        return channel, guild

    def _channel_message(self, call: Call, channel: FakeChannel) -> FakeMessage:
        message = self.state.messages.get(int(call.args["message_id"]))
        if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
            raise err.unknown_message()
        return message

    async def get_channel(self, call: Call) -> Result:
        channel, _ = self._visible_channel(call)
        return 200, payloads.channel(self.state, channel)

    async def list_messages(self, call: Call) -> Result:
        channel, _ = self._visible_channel(call)
        limit = max(1, min(int(call.query.get("limit", "50")), 100))
        before = int(call.query.get("before", "0") or 0)
        after = int(call.query.get("after", "0") or 0)
        found = [
            m for m in self.state.channel_messages(channel.id)
            if not m.ephemeral and (not before or m.id < before) and (not after or m.id > after)
        ]
        found.sort(key=lambda m: m.id, reverse=True)
        return 200, [self.render(m) for m in found[:limit]]

    async def typing(self, call: Call) -> Result:
        self._visible_channel(call)
        return 204, None

    async def create_message(self, call: Call) -> Result:
        state = self.state
        channel, guild = self._visible_channel(call)
        if channel.id in state.forbidden_channels:
            raise err.missing_permissions()
        if channel.type == 1 and channel.recipient_id in state.forbidden_dm_users:
            raise err.cannot_dm()
        if guild is not None:
            needed = Permissions.VIEW_CHANNEL | Permissions.SEND_MESSAGES
            if call.body.uploads:
                needed |= Permissions.ATTACH_FILES
            if state.bot_permissions(guild) & needed != needed:
                raise err.missing_permissions()
        check_limits(call.body, size_limit=channel_size_limit(state, channel))
        nonce = call.json.get("nonce")
        key = (channel.id, state.bot_user_id, str(nonce))
        if nonce is not None and call.json.get("enforce_nonce"):
            seen = state.nonces.get(key)
            if seen is not None and state.clock() - seen[1] < NONCE_WINDOW:
                return 200, self.render(state.messages[seen[0]])
        message = FakeMessage(
            id=state.snowflake(), channel_id=channel.id, guild_id=channel.guild_id, author_id=state.bot_user_id,
            timestamp=state.clock(),
        )
        apply(state, message, call.body, creating=True)
        if message.flags & MessageFlags.EPHEMERAL:  # only interaction responses can be ephemeral
            message.flags &= ~MessageFlags.EPHEMERAL
            compute_mentions(state, message)
        state.store_message(message)
        if nonce is not None:
            state.nonces[key] = (message.id, state.clock())
        await self._event("MESSAGE_CREATE", message)
        return 200, self.render(message)

    async def get_message(self, call: Call) -> Result:
        channel, _ = self._visible_channel(call)
        return 200, self.render(self._channel_message(call, channel))

    async def edit_message(self, call: Call) -> Result:
        channel, _ = self._visible_channel(call)
        message = self._channel_message(call, channel)
        if message.author_id != self.state.bot_user_id:
            raise err.cannot_edit_others()
        check_limits(call.body, size_limit=channel_size_limit(self.state, channel))
        apply(self.state, message, call.body, creating=False)
        self.state.changes.notify()
        await self._event("MESSAGE_UPDATE", message)
        return 200, self.render(message)

    async def delete_message(self, call: Call) -> Result:
        channel, guild = self._visible_channel(call)
        message = self._channel_message(call, channel)
        may_moderate = guild is not None and self.state.bot_permissions(guild) & Permissions.MANAGE_MESSAGES
        if message.author_id != self.state.bot_user_id and not may_moderate:
            raise err.missing_permissions()
        message.deleted = True
        self.state.changes.notify()
        await self._event("MESSAGE_DELETE", message)
        return 204, None

    # servers -------------------------------------------------------------------------------------

    def _guild(self, call: Call) -> FakeGuild:
        guild = self.state.guilds.get(int(call.args["guild_id"]))
        if guild is None or not guild.bot_member:
            raise err.missing_access() if guild is not None else err.APIError(404, 10004, "Unknown Guild")
        return guild

    async def get_guild(self, call: Call) -> Result:
        data = payloads.guild_create(self.state, self._guild(call))
        for key in ("joined_at", "large", "unavailable", "member_count", "voice_states", "members", "channels",
                    "threads", "presences", "stage_instances", "guild_scheduled_events", "soundboard_sounds", "lazy"):
            data.pop(key, None)
        data.update({"home_header": None, "region": "deprecated", "widget_enabled": False, "widget_channel_id": None,
                     "max_stage_video_channel_users": 50, "max_video_channel_users": 25})
        return 200, data

    async def get_guild_channels(self, call: Call) -> Result:
        guild = self._guild(call)
        return 200, [payloads.channel(self.state, self.state.channels[c]) for c in guild.channel_ids]

    async def get_member(self, call: Call) -> Result:
        guild = self._guild(call)
        user_id = int(call.args["user_id"])
        if user_id not in guild.member_ids:
            raise err.APIError(404, 10007, "Unknown Member")
        return 200, payloads.member(self.state, guild, user_id)


# Callback types Discord accepts, by (interaction type, whether it came from a message).
_CALLBACK_TYPES: dict[tuple[int, bool], set[int]] = {
    (2, False): {4, 5, 9},
    (3, True): {4, 5, 6, 7, 9},
    (4, False): {8},
    (5, False): {4, 5},
    (5, True): {4, 5, 6, 7},
}
