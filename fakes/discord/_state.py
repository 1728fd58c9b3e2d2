"""Everything the fake Discord remembers: users, servers, channels, messages, interactions, commands."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fakes.discord import _errors as err
from fakes.discord._constants import (
    BOT_ROLE_PERMISSIONS,
    DEFAULT_FILESIZE_LIMIT,
    DEFAULT_USER_ID,
    DISCORD_EPOCH_MS,
    EXTERNAL_CHANNEL_ID,
    EXTERNAL_GUILD_ID,
    GUILD_OWNER_ID,
    INTERACTION_TOKEN_TTL,
    MEMBER_PERMISSIONS,
    MODERATOR_PERMISSIONS,
    MODERATOR_USER_ID,
    Permissions,
)
from fakes.discord._models import (
    Changes,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeUser,
)


def snowflake_time(snowflake: int) -> float:
    """Seconds since the Unix epoch at which a snowflake was made."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


class FakeState:
    """The fake's memory; survives bot restarts (only `FakeDiscord.stop` ends it)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        application_id: int,
        bot_user_id: int,
        guild_id: int,
        channel_id: int,
        guild_filesize_limit: int,
    ) -> None:
        self.clock = clock
        self.application_id = application_id
        self.bot_user_id = bot_user_id
        self.default_guild_id = guild_id
        self.default_channel_id = channel_id
        self.changes = Changes()
        self.cdn_secret = secrets.token_bytes(16)
        self._increment = 0

        self.users: dict[int, FakeUser] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> channel id
        self.messages: dict[int, FakeMessage] = {}
        self.attachments: dict[int, FakeAttachment] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.modals: dict[str, tuple[FakeInteraction, dict[str, Any]]] = {}

        self.global_commands: list[dict[str, Any]] = []  # last PUT payloads, as sent
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.registered: dict[int | None, list[dict[str, Any]]] = {None: []}  # as Discord stores them
        self._command_ids: dict[tuple[int | None, str, int], int] = {}

        self.nonces: dict[tuple[int, int, str], tuple[int, float]] = {}
        self.forbidden_channels: set[int] = set()
        self.forbidden_dm_users: set[int] = set()

        self.add_user(bot_user_id, "Scenario Bot", bot=True, permissions=BOT_ROLE_PERMISSIONS)
        self.add_user(GUILD_OWNER_ID, "owner", permissions=MODERATOR_PERMISSIONS | Permissions.ADMINISTRATOR)
        self.add_user(DEFAULT_USER_ID, "requester")
        self.add_user(MODERATOR_USER_ID, "moderator", permissions=MODERATOR_PERMISSIONS)
        self.add_guild(guild_id, "Fake Server", channel_id=channel_id, filesize_limit=guild_filesize_limit)
        self.add_guild(EXTERNAL_GUILD_ID, "Server without the bot", channel_id=EXTERNAL_CHANNEL_ID, bot_member=False)

    # ids -----------------------------------------------------------------------------------------

    def snowflake(self, at: float | None = None) -> int:
        """A unique snowflake whose timestamp is `at` (default: now on the fake's clock)."""
        moment = self.clock() if at is None else at
        if moment * 1000 < DISCORD_EPOCH_MS:
            raise ValueError(f"fd.clock must return Unix time in seconds (as time.time does), got {moment}")
        self._increment += 1
        ms = int(moment * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (self._increment & 0x3FFFFF)

    # users, servers, channels --------------------------------------------------------------------

    def add_user(
        self,
        user_id: int | None = None,
        name: str | None = None,
        *,
        bot: bool = False,
        permissions: int = MEMBER_PERMISSIONS,
    ) -> FakeUser:
        user_id = user_id or self.snowflake()
        existing = self.users.get(user_id)
        if existing is not None and name is None:
            return existing
        user = FakeUser(user_id, name or f"user{user_id % 10000}", bot=bot, permissions=permissions)
        self.users[user_id] = user
        for guild in self.guilds.values():
            self._add_member(guild, user)
        return user

    def user(self, user_id: int) -> FakeUser:
        """The user with that id, registered on first use."""
        return self.users.get(user_id) or self.add_user(user_id)

    def add_guild(
        self,
        guild_id: int | None = None,
        name: str = "Server",
        *,
        channel_id: int | None = None,
        bot_member: bool = True,
        filesize_limit: int = DEFAULT_FILESIZE_LIMIT,
    ) -> FakeGuild:
        guild_id = guild_id or self.snowflake()
        guild = FakeGuild(
            id=guild_id,
            name=name,
            owner_id=GUILD_OWNER_ID,
            bot_member=bot_member,
            filesize_limit=filesize_limit,
            joined_at=self.clock(),
        )
        guild.roles = [
            _role(guild_id, "@everyone", MEMBER_PERMISSIONS, position=0),
            _role(self.snowflake(), "Moderators", MODERATOR_PERMISSIONS, position=1),
        ]
        if bot_member:
            bot_role = _role(self.snowflake(), self.users[self.bot_user_id].name, BOT_ROLE_PERMISSIONS, position=2)
            bot_role["managed"] = True
            bot_role["tags"] = {"bot_id": str(self.bot_user_id)}
            guild.roles.append(bot_role)
        self.guilds[guild_id] = guild
        for user in self.users.values():
            self._add_member(guild, user)
        self.add_channel(guild_id, channel_id, name="general")
        return guild

    def _add_member(self, guild: FakeGuild, user: FakeUser) -> None:
        if user.id == self.bot_user_id and not guild.bot_member:
            return
        if user.id not in guild.member_ids:
            guild.member_ids.append(user.id)
        if user.id == self.bot_user_id:
            guild.member_roles[user.id] = [int(r["id"]) for r in guild.roles if r.get("managed")]
        elif user.permissions & Permissions.MANAGE_MESSAGES:
            guild.member_roles[user.id] = [int(guild.roles[1]["id"])]
        else:
            guild.member_roles[user.id] = []

    def add_channel(
        self, guild_id: int, channel_id: int | None = None, *, name: str = "channel", nsfw: bool = False
    ) -> FakeChannel:
        guild = self.guilds[guild_id]
        channel = FakeChannel(
            id=channel_id or self.snowflake(),
            type=0,
            guild_id=guild_id,
            name=name,
            position=len(guild.channel_ids),
            nsfw=nsfw,
        )
        self.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        return channel

    def add_thread(
        self,
        parent: FakeChannel,
        name: str,
        *,
        owner_id: int,
        kind: int = 11,
        thread_id: int | None = None,
        auto_archive_duration: int = 1440,
    ) -> FakeChannel:
        """A thread under a text channel; started from a message, it takes that message's id (as on Discord)."""
        now = self.clock()
        thread = FakeChannel(
            id=thread_id or self.snowflake(),
            type=kind,
            guild_id=parent.guild_id,
            name=name,
            parent_id=parent.id,
            owner_id=owner_id,
            auto_archive_duration=auto_archive_duration,
            created_at=now,
            archive_timestamp=now,
        )
        self.channels[thread.id] = thread
        self.changes.notify()
        return thread

    def active_threads(self, guild_id: int) -> list[FakeChannel]:
        return [c for c in self.channels.values() if c.is_thread and c.guild_id == guild_id and not c.archived]

    def dm_channel(self, user_id: int) -> FakeChannel:
        """The bot's DM channel with a user (one per user, created on first use)."""
        channel_id = self.dm_channels.get(user_id)
        if channel_id is None:
            self.user(user_id)
            channel = FakeChannel(id=self.snowflake(), type=1, recipient_id=user_id)
            self.channels[channel.id] = channel
            self.dm_channels[user_id] = channel.id
            return channel
        return self.channels[channel_id]

    def channel(self, channel_id: int) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise err.unknown_channel()
        return channel

    def guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id is not None else None

    def bot_permissions(self, guild: FakeGuild) -> int:
        if not guild.bot_member:
            return 0
        return self.member_permissions(guild, self.bot_user_id)

    def member_permissions(self, guild: FakeGuild, user_id: int) -> int:
        role_ids = {guild.id, *guild.member_roles.get(user_id, [])}
        value = 0
        for role in guild.roles:
            if int(role["id"]) in role_ids:
                value |= int(role["permissions"])
        if user_id == guild.owner_id or value & Permissions.ADMINISTRATOR:
            return (1 << 51) - 1
        return value

    # messages ------------------------------------------------------------------------------------

    def message(self, message_id: int) -> FakeMessage:
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise err.unknown_message()
        return message

    def store_message(self, message: FakeMessage) -> FakeMessage:
        self.messages[message.id] = message
        channel = self.channels.get(message.channel_id)
        if channel is not None and not message.ephemeral:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1
        self.changes.notify()
        return message

    def channel_messages(self, channel_id: int) -> list[FakeMessage]:
        return [m for m in self.messages.values() if m.channel_id == channel_id and not m.deleted]

    # interactions --------------------------------------------------------------------------------

    def add_interaction(self, interaction: FakeInteraction) -> FakeInteraction:
        interaction._changes = self.changes
        self.interactions[interaction.id] = interaction
        self.interactions_by_token[interaction.token] = interaction
        self.changes.notify()
        return interaction

    def token_expired(self, interaction: FakeInteraction) -> bool:
        return interaction.token_revoked or self.clock() >= interaction.created_at + INTERACTION_TOKEN_TTL

    # commands ------------------------------------------------------------------------------------

    def command_id(self, guild_id: int | None, name: str, kind: int) -> int:
        """Ids stay stable across re-syncs of the same command, as on Discord."""
        key = (guild_id, name, kind)
        if key not in self._command_ids:
            self._command_ids[key] = self.snowflake()
        return self._command_ids[key]

    def find_command(self, name: str, guild_id: int | None) -> dict[str, Any] | None:
        """A guild command shadows a global one of the same name, as in Discord's client."""
        for scope in ([guild_id] if guild_id is not None else []) + [None]:
            for command in self.registered.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        return None


def _role(role_id: int, name: str, permissions: int, *, position: int) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
        "description": None,
    }
