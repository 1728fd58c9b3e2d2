"""The Bot subclass: holds the core services, loads the cogs, syncs commands and resumes jobs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot import logcontext
from bot.attachments import DISCORD_CDN_HOSTS
from bot.clock import SYSTEM_CLOCK, Clock
from bot.health import HealthServer
from bot.jobs.config import EngineConfig
from bot.jobs.engine import JobEngine
from bot.jobs.store import JobStore
from bot.library.service import Library
from bot.posting import DiscordDelivery
from bot.scenario import ScenarioClient
from bot.scenario.webhook import WebhookReceiver
from bot.settings import Settings
from bot.tree import BotTree

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
UNUSED_MESSAGE_EVENTS = ("MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK")
"""Brought by the guild messages intent, used by nothing: every progress edit would be parsed once more."""
EXTENSIONS = (
    "cogs.imagine",
    "cogs.character",
    "cogs.jobs",
    "cogs.results",
    "cogs.status",
    "cogs.confirm",
    "cogs.spending",
    "cogs.config",
    "cogs.sessions",
    "cogs.characters",
    "cogs.styles",
    "cogs.prefer",
)


def intents_for(settings: Settings) -> discord.Intents:
    """Servers (slash commands, threads) and their messages (ideas in a session's thread); the privileged
    Message Content intent only when `MESSAGE_CONTENT_INTENT` says the portal has it switched on."""
    return discord.Intents(guilds=True, guild_messages=True, message_content=settings.message_content_intent)


DISCORD_CONNECTIONS = 100
"""At most this many connections to Discord's REST API at once (aiohttp's own default; the gateway's shards hold
one each); more requests at once wait for a free one (a few milliseconds each) instead of opening another."""


class ScenarioBot(commands.AutoShardedBot):
    """The bot. Everything it uses is built outside and passed in, so tests can build it the same way.

    Sharded always: `SHARD_COUNT` and `SHARD_IDS` say which gateway shards this process runs; unset, it runs
    them all, as many as Discord recommends (`GET /gateway/bot`). Interactions and events reach only the
    process whose shard holds their server (DMs: shard 0); jobs, posts and buttons work from any process.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        session: aiohttp.ClientSession,
        scenario: ScenarioClient,
        store: JobStore,
        config: EngineConfig | None = None,
        clock: Clock = SYSTEM_CLOCK,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        # The bot never joins voice: don't warn at every start about voice libraries it doesn't need.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents_for(settings),
            tree_cls=BotTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            # No message cache: nothing reads it (no edit or delete events are used, see UNUSED_MESSAGE_EVENTS),
            # and every message the bot posts comes back as MESSAGE_CREATE: up to 1,000 Messages kept for nothing.
            max_messages=None,
            guild_ready_timeout=guild_ready_timeout,
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) if settings.shard_ids is not None else None,
            # discord.py's default pool has no limit: a burst of 1,000 commands opened 1,000 connections to
            # Discord for their answers (a TCP, in production a TLS, handshake each), closed again 15 s later.
            connector=aiohttp.TCPConnector(limit=DISCORD_CONNECTIONS),
        )
        parsers = self._connection.parsers
        for event in UNUSED_MESSAGE_EVENTS:
            # Sessions need MESSAGE_CREATE (an idea posted in a thread); skipping the rest saves building a Message
            # for each of the bot's own progress edits, which Discord echoes as MESSAGE_UPDATE.
            parsers[event] = _ignore_event
        parsers["MESSAGE_CREATE"] = _people_only(parsers["MESSAGE_CREATE"])
        self.settings = settings
        self.session = session
        self.scenario = scenario
        self.store = store
        self.library = Library(store)
        """Saved characters and styles, and each person's `/prefer` defaults."""
        self.delivery = DiscordDelivery(self, session, now=clock.now, server_settings=store.server_settings)
        self.engine = JobEngine(
            store,
            scenario,
            self.delivery,
            config or EngineConfig.from_settings(settings),
            clock=clock,
            audit=self.delivery.audit,
        )
        self.health: HealthServer | None = None
        """The /metrics, /healthz and /readyz endpoint, when `METRICS_PORT` is set (`open_bot` starts it)."""
        self.webhook: WebhookReceiver | None = None
        """The receiver of Scenario's webhooks, when `SCENARIO_WEBHOOK_PORT` is set (`open_bot` starts it)."""
        self.attachment_hosts = set(DISCORD_CDN_HOSTS)
        if settings.discord_api_base_url:
            # Behind a proxy (or a local fake), attachment URLs point at that host instead.
            host = urlsplit(settings.discord_api_base_url).hostname or ""
            self.attachment_hosts |= LOOPBACK_HOSTS if host in LOOPBACK_HOSTS else {host}

    async def setup_hook(self) -> None:
        if self.settings.discord_api_base_url:
            await self._use_gateway_from_api()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()
        await self.engine.start()

    async def sync_commands(self) -> None:
        """Sync to `DEV_GUILD_ID` only when set (instant), else globally."""
        if self.settings.dev_guild_id:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("Synced %d commands to guild %s", len(synced), self.settings.dev_guild_id)
        else:
            synced = await self.tree.sync()
            log.info("Synced %d global commands", len(synced))

    async def _use_gateway_from_api(self) -> None:
        # A REST base override (a rate-limit proxy, or a fake) must also say where the gateway is: discord.py
        # asks GET /gateway/bot only when it picks the shard count itself, and re-identifies at DEFAULT_GATEWAY.
        _, url, *_ = await self.http.get_bot_gateway()
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        log.info("Using the gateway announced by DISCORD_API_BASE_URL")

    @property
    def own_shard_ids(self) -> list[int]:
        """The shards this process runs (all of them unless `SHARD_IDS` says), once the count is known."""
        if self.shard_ids is not None:
            return list(self.shard_ids)
        return list(range(self.shard_count or 0))

    def gateway_connected(self) -> bool:
        """Whether the bot hears Discord now: READY on every shard of this process, not closed, every socket open."""
        if not self.is_ready() or self.is_closed():
            return False
        shards = self.shards
        wanted = self.own_shard_ids
        return bool(wanted) and all(i in shards and not shards[i].is_closed() for i in wanted)

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands: a message (a session's idea) is for the cogs' listeners, never a command prefix."""

    async def on_ready(self) -> None:
        logcontext.set_shard_count(self.shard_count)
        log.info(
            "Ready as %s in %d server(s) on shard(s) %s of %s",
            self.user,
            len(self.guilds),
            ",".join(map(str, self.own_shard_ids)),
            self.shard_count,
        )

    async def close(self) -> None:
        """Stop taking jobs and leave every unfinished one resumable, then disconnect."""
        await self.engine.shutdown()
        # discord.py's close() leaves running the task that dispatches "ready" once the servers have arrived;
        # firing after close, it fails on the cleared loop ("Task exception was never retrieved").
        # A sharded client has one more such task per shard.
        state = self._connection
        for task in [getattr(state, "_ready_task", None), *getattr(state, "_ready_tasks", {}).values()]:
            if task is not None:
                task.cancel()
        await super().close()


def _ignore_event(_data: object) -> None:
    """A gateway event the bot does not use."""


def _people_only(parse: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """MESSAGE_CREATE, but not for bots' messages: no listener reads them (a session's ideas come from people),
    and Discord echoes every result and reply the bot posts, each of which would be built into a Message."""

    def parse_message_create(data: dict[str, Any]) -> None:
        if not data.get("author", {}).get("bot"):
            parse(data)

    return parse_message_create
