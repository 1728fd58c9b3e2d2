"""A fake Discord (REST, gateway websocket, attachment CDN) that the real discord.py talks to on loopback.

    fd = FakeDiscord()
    await fd.start()
    discord.http.Route.BASE = fd.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fd.gateway_url)
    ...
    ix = await fd.send_command("imagine", {"prompt": "a cat"})
    await ix.wait_until(lambda: ix.original and not ix.original.loading)

Request bodies are validated against Discord's OpenAPI description (see `_openapi.py`).
"""

from bot.fakes.discord._constants import (
    APPLICATION_ID,
    BOT_USER_ID,
    DEFAULT_CHANNEL_ID,
    DEFAULT_GUILD_ID,
    DEFAULT_USER_ID,
    EXTERNAL_CHANNEL_ID,
    EXTERNAL_GUILD_ID,
    GUILD_OWNER_ID,
    MEMBER_PERMISSIONS,
    MODERATOR_PERMISSIONS,
    MODERATOR_USER_ID,
    MessageFlags,
    Permissions,
)
from bot.fakes.discord._fake import FakeDiscord
from bot.fakes.discord._interactions import ClientCheckError
from bot.fakes.discord._models import (
    FakeAttachment,
    FakeChannel,
    FakeFile,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    RecordedRequest,
    SpecViolation,
)
from bot.fakes.discord._openapi import SpecNotFoundError
from bot.fakes.discord._server import Fault

__all__ = [
    "APPLICATION_ID",
    "BOT_USER_ID",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_GUILD_ID",
    "DEFAULT_USER_ID",
    "EXTERNAL_CHANNEL_ID",
    "EXTERNAL_GUILD_ID",
    "GUILD_OWNER_ID",
    "MEMBER_PERMISSIONS",
    "MODERATOR_PERMISSIONS",
    "MODERATOR_USER_ID",
    "ClientCheckError",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeFile",
    "FakeGuild",
    "FakeInteraction",
    "FakeMessage",
    "FakeUser",
    "Fault",
    "MessageFlags",
    "Permissions",
    "RecordedRequest",
    "SpecNotFoundError",
    "SpecViolation",
]
