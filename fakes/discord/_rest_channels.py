"""Bot-token routes: who the bot is, the gateway URL, DMs, channel messages (with nonces), servers."""

from __future__ import annotations

from urllib.parse import unquote

from fakes.discord import _errors as err
from fakes.discord import _payloads as payloads
from fakes.discord._constants import NONCE_WINDOW, MessageFlags, Permissions
from fakes.discord._messages import apply, channel_size_limit, check_limits, compute_mentions
from fakes.discord._models import FakeChannel, FakeGuild, FakeMessage
from fakes.discord._rest_base import ID, Call, Result, RouteGroup, RouteTable


class ChannelRoutes(RouteGroup):
    """Everything the bot does with its own token, except application commands."""

    def table(self) -> RouteTable:
        channel = "/channels/" + ID.format("channel_id")
        message = channel + "/messages/" + ID.format("message_id")
        guild = "/guilds/" + ID.format("guild_id")
        return [
            ("GET", r"/users/@me", self.get_me, True),
            ("GET", r"/users/" + ID.format("user_id"), self.get_user, True),
            ("POST", r"/users/@me/channels", self.create_dm, True),
            ("GET", r"/oauth2/applications/@me", self.get_application, True),
            ("GET", r"/gateway", self.get_gateway, False),
            ("GET", r"/gateway/bot", self.get_gateway_bot, True),
            ("GET", channel, self.get_channel, True),
            ("GET", channel + "/messages", self.list_messages, True),
            ("POST", channel + "/messages", self.create_message, True),
            ("POST", channel + "/typing", self.typing, True),
            ("GET", message, self.get_message, True),
            ("PATCH", message, self.edit_message, True),
            ("DELETE", message, self.delete_message, True),
            ("PUT", message + r"/reactions/(?P<emoji>[^/]+)/@me", self.add_reaction, True),
            ("GET", guild, self.get_guild, True),
            ("GET", guild + "/channels", self.get_guild_channels, True),
            ("GET", guild + "/members/" + ID.format("user_id"), self.get_member, True),
        ]

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
        return 200, self.gateway.advice.gateway_bot(self.gateway_url())

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
            m
            for m in self.state.channel_messages(channel.id)
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
            send = Permissions.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permissions.SEND_MESSAGES
            needed = Permissions.VIEW_CHANNEL | send
            if call.body.uploads:
                needed |= Permissions.ATTACH_FILES
            if state.bot_permissions(guild) & needed != needed:
                raise err.missing_permissions()
        if channel.is_thread and channel.archived:
            if channel.locked:
                raise err.APIError(400, 50083, "Thread is archived")
            channel.archived = False  # a message unarchives a thread that is not locked, as on Discord
            await self.gateway.dispatch_guild_event("THREAD_UPDATE", payloads.thread(state, channel), guild.id)
        check_limits(call.body, size_limit=channel_size_limit(state, channel))
        nonce = call.json.get("nonce")
        key = (channel.id, state.bot_user_id, str(nonce))
        if nonce is not None and call.json.get("enforce_nonce"):
            seen = state.nonces.get(key)
            if seen is not None and state.clock() - seen[1] < NONCE_WINDOW:
                return 200, self.render(state.messages[seen[0]])
        message = FakeMessage(
            id=state.snowflake(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=state.bot_user_id,
            timestamp=state.clock(),
        )
        apply(state, message, call.body, creating=True)
        if message.flags & MessageFlags.EPHEMERAL:  # only interaction responses can be ephemeral
            message.flags &= ~MessageFlags.EPHEMERAL
            compute_mentions(state, message)
        state.store_message(message)
        if nonce is not None:
            state.nonces[key] = (message.id, state.clock())
        await self.publish("MESSAGE_CREATE", message)
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
        await self.publish("MESSAGE_UPDATE", message)
        return 200, self.render(message)

    async def delete_message(self, call: Call) -> Result:
        channel, guild = self._visible_channel(call)
        message = self._channel_message(call, channel)
        may_moderate = guild is not None and self.state.bot_permissions(guild) & Permissions.MANAGE_MESSAGES
        if message.author_id != self.state.bot_user_id and not may_moderate:
            raise err.missing_permissions()
        message.deleted = True
        await self.publish("MESSAGE_DELETE", message)
        return 204, None

    async def add_reaction(self, call: Call) -> Result:
        channel, guild = self._visible_channel(call)
        message = self._channel_message(call, channel)
        needed = Permissions.ADD_REACTIONS | Permissions.READ_MESSAGE_HISTORY
        if guild is not None and self.state.bot_permissions(guild) & needed != needed:
            raise err.missing_permissions()
        reaction = (unquote(call.args["emoji"]), self.state.bot_user_id)
        if reaction not in message.reactions:
            message.reactions.append(reaction)
        self.state.changes.notify()
        return 204, None

    # servers -------------------------------------------------------------------------------------

    def _guild(self, call: Call) -> FakeGuild:
        guild = self.state.guilds.get(int(call.args["guild_id"]))
        if guild is None or not guild.bot_member:
            raise err.missing_access() if guild is not None else err.APIError(404, 10004, "Unknown Guild")
        return guild

    async def get_guild(self, call: Call) -> Result:
        data = payloads.guild_create(self.state, self._guild(call))
        for key in (
            "joined_at",
            "large",
            "unavailable",
            "member_count",
            "voice_states",
            "members",
            "channels",
            "threads",
            "presences",
            "stage_instances",
            "guild_scheduled_events",
            "soundboard_sounds",
            "lazy",
        ):
            data.pop(key, None)
        data.update(
            {
                "home_header": None,
                "region": "deprecated",
                "widget_enabled": False,
                "widget_channel_id": None,
                "max_stage_video_channel_users": 50,
                "max_video_channel_users": 25,
            }
        )
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
