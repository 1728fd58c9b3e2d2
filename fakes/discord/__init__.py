"""A fake Discord (REST, gateway websocket, attachment CDN) that the real discord.py talks to on loopback.

    fd = FakeDiscord(token="t")
    await fd.start()
    discord.http.Route.BASE = fd.api_base                                   # or DISCORD_API_BASE_URL
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fd.gateway_url)  # or from GET /gateway/bot
    ... start the bot, then: await fd.wait_until_connected()
    ix = await fd.send_command("imagine", {"prompt": "a cat"}, attachments={"image": FakeFile("a.png", data)})
    message = await ix.wait_until(lambda: ix.original and not ix.original.loading and ix.original)
    click = await fd.click(message.id, "reroll:1")
    typed = await fd.autocomplete("character", {"character": "lu"}, "character")  # -> typed.autocomplete_choices
    ...
    await bot.close()   # before fd.stop(), or discord.py reconnects
    await fd.stop()

What it enforces, as Discord does: every request body against Discord's OpenAPI description (400/50035,
recorded in `fd.violations`; see `_openapi.py` for what the spec can and cannot check); 2000-character
content, 10 files, 10 embeds and 6000 embed characters (400/50035); per-file upload limits (413/40005);
one acknowledgement per interaction (40060) within `fd.ack_deadline` seconds (10062); interaction tokens
that die 15 minutes after the interaction (401/50027); nonces with `enforce_nonce`; permissions of the bot
in its servers (403/50001, 50013), closed DMs (50007); 5 followups for user installs outside the bot's
servers (40094); signed CDN URLs that expire; threads (POST /channels/{id}/threads, from a message, PATCH
/channels/{id} to archive; THREAD_CREATE/THREAD_UPDATE; Create Public Threads / Manage Threads); users' own
messages (`fd.post_message`, MESSAGE_CREATE without content or attachments for a bot lacking the Message Content
intent unless it is mentioned); reactions; file uploads in modals (type 19, `data.resolved.attachments`). The
gateway is sharded as Discord's (`_shards.py`): a server's events reach only the connection of shard
`(guild_id >> 22) % shard_count` (DMs: shard 0), IDENTIFY's shard is checked (4010), GET /gateway/bot recommends
`recommended_shards`; `fd.gateway_events` records who got what.
`fd.slow(...)` holds matching requests for a while (a slow upload), `fd.inject(...)` answers them with an
error. Unknown routes answer 404 and are recorded as violations.

Time follows `fd.clock` (Unix seconds, default `time.time`); discord.py itself uses the wall clock.
"""

from fakes.discord._constants import (
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
from fakes.discord._fake import FakeDiscord
from fakes.discord._interactions import ClientCheckError
from fakes.discord._models import (
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
from fakes.discord._openapi import SpecNotFoundError
from fakes.discord._server import DROPPED, Fault, Slowdown
from fakes.discord._shards import GatewayEvent

__all__ = [
    "APPLICATION_ID",
    "BOT_USER_ID",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_GUILD_ID",
    "DEFAULT_USER_ID",
    "DROPPED",
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
    "GatewayEvent",
    "MessageFlags",
    "Permissions",
    "RecordedRequest",
    "Slowdown",
    "SpecNotFoundError",
    "SpecViolation",
]
