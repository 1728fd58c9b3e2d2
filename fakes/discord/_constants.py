"""Fixed ids, permission bits, flags and limits the fake Discord uses (values from Discord's documentation)."""

from __future__ import annotations

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000

# Fixed ids, so tests and the demo can refer to them without asking the fake.
APPLICATION_ID = 1_300_000_000_000_000_001
BOT_USER_ID = 1_300_000_000_000_000_002
DEFAULT_GUILD_ID = 1_310_000_000_000_000_001
DEFAULT_CHANNEL_ID = 1_310_000_000_000_000_002
DEFAULT_USER_ID = 1_320_000_000_000_000_001
MODERATOR_USER_ID = 1_320_000_000_000_000_002
GUILD_OWNER_ID = 1_320_000_000_000_000_003
# A server that has not installed the app: where user-installed commands run.
EXTERNAL_GUILD_ID = 1_330_000_000_000_000_001
EXTERNAL_CHANNEL_ID = 1_330_000_000_000_000_002

MIB = 1024 * 1024
DEFAULT_FILESIZE_LIMIT = 10 * MIB
# Guild.filesize_limit in discord.py is derived from the premium tier.
PREMIUM_TIER_BY_LIMIT = {10 * MIB: 0, 50 * MIB: 2, 100 * MIB: 3}


class Permissions:
    """Permission bits (https://discord.com/developers/docs/topics/permissions)."""

    CREATE_INSTANT_INVITE = 1 << 0
    ADMINISTRATOR = 1 << 3
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EXTERNAL_APPS = 1 << 50


P = Permissions
# What @everyone may do in a freshly created server (Mention @everyone is on by default there).
MEMBER_PERMISSIONS = (
    P.CREATE_INSTANT_INVITE
    | P.ADD_REACTIONS
    | P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.READ_MESSAGE_HISTORY
    | P.MENTION_EVERYONE
    | P.USE_EXTERNAL_EMOJIS
    | P.CONNECT
    | P.SPEAK
    | P.CHANGE_NICKNAME
    | P.USE_APPLICATION_COMMANDS
    | P.SEND_MESSAGES_IN_THREADS
    | P.USE_EXTERNAL_APPS
)
MODERATOR_PERMISSIONS = MEMBER_PERMISSIONS | P.MANAGE_MESSAGES
# The managed role a bot gets from its invite link (the README's permission integer): send messages, attach
# files, and open, post in and archive threads (/session); no message moderation.
BOT_ROLE_PERMISSIONS = (
    P.CREATE_PUBLIC_THREADS
    | P.MANAGE_THREADS
    | P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.READ_MESSAGE_HISTORY
    | P.ADD_REACTIONS
    | P.USE_EXTERNAL_EMOJIS
    | P.SEND_MESSAGES_IN_THREADS
)
# app_permissions of a user-installed app in a server that did not install it.
USER_INSTALL_APP_PERMISSIONS = (
    P.VIEW_CHANNEL | P.SEND_MESSAGES | P.EMBED_LINKS | P.ATTACH_FILES | P.READ_MESSAGE_HISTORY | P.USE_EXTERNAL_EMOJIS
)


class MessageFlags:
    """Message flag bits."""

    SUPPRESS_EMBEDS = 1 << 2
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    IS_COMPONENTS_V2 = 1 << 15


# Flags a message author may set when sending, and the subset that may change on edit.
SETTABLE_FLAGS = (
    MessageFlags.SUPPRESS_EMBEDS
    | MessageFlags.EPHEMERAL
    | MessageFlags.SUPPRESS_NOTIFICATIONS
    | MessageFlags.IS_COMPONENTS_V2
)
EDITABLE_FLAGS = MessageFlags.SUPPRESS_EMBEDS | MessageFlags.IS_COMPONENTS_V2

MAX_CONTENT = 2000
MAX_FILES = 10
MAX_EMBEDS = 10
MAX_EMBED_CHARS = 6000
MAX_USER_INSTALL_FOLLOWUPS = 5
INTERACTION_TOKEN_TTL = 15 * 60
NONCE_WINDOW = 5 * 60
CDN_URL_TTL = 24 * 60 * 60
HEARTBEAT_INTERVAL_MS = 41_250

# Gateway intents that decide which message events a session receives.
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
"""Privileged: without it, message events carry no content, attachments or embeds unless they mention the bot."""
PUBLIC_THREAD, PRIVATE_THREAD = 11, 12
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)
AUTO_ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
