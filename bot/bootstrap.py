"""One bootstrap for every way the bot runs: `python -m bot`, the demo, the tests and the benchmarks.

    async with open_bot(settings) as bot:
        await bot.start(settings.discord_token.get_secret_value())

builds the HTTP session → Scenario client → job store → engine → bot, and closes them in reverse order
(discord.py's `examples/advanced_startup.py`: one block owns every resource).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import discord

from bot.app import ScenarioBot
from bot.clock import SYSTEM_CLOCK, Clock
from bot.health import HealthServer
from bot.jobs.config import EngineConfig
from bot.jobs.store import open_store
from bot.scenario import ScenarioClient
from bot.scenario.webhook import WebhookReceiver
from bot.settings import Settings

log = logging.getLogger(__name__)


@asynccontextmanager
async def open_bot(
    settings: Settings,
    *,
    config: EngineConfig | None = None,
    clock: Clock = SYSTEM_CLOCK,
    guild_ready_timeout: float = 2.0,
) -> AsyncIterator[ScenarioBot]:
    """The bot with everything it uses, ready to `start` (or `login` + `connect`); closed on the way out.

    `config` defaults to `EngineConfig.from_settings(settings)`; `clock` lets tests run time forward.
    Raises `OSError` or `RuntimeError` when the job store cannot be opened, and `HealthServerError` when
    `METRICS_PORT` (or `SCENARIO_WEBHOOK_PORT`) is set but cannot be
    listened on. That endpoint (`bot.health`) answers from here on, before
    the bot logs in, so `/readyz` says "gateway not connected" until it has.
    """
    if settings.discord_api_base_url:
        # A rate-limit proxy (or a local fake Discord) takes every REST call.
        discord.http.Route.BASE = settings.discord_api_base_url
    store = open_store(settings.database_url)
    await store.open()
    try:
        async with aiohttp.ClientSession() as session:
            scenario = ScenarioClient(
                session,
                settings.scenario_sdk_api_key.get_secret_value(),
                settings.scenario_sdk_api_secret.get_secret_value(),
                settings.scenario_base_url,
                request_timeout=settings.scenario_timeout_seconds,
                clock=clock.monotonic,
                sleep=clock.sleep,
            )
            bot = ScenarioBot(
                settings=settings,
                session=session,
                scenario=scenario,
                store=store,
                config=config,
                clock=clock,
                guild_ready_timeout=guild_ready_timeout,
            )
            async with bot, AsyncExitStack() as endpoint:
                if settings.metrics_port is not None:
                    bot.health = await endpoint.enter_async_context(
                        HealthServer(
                            gateway_connected=bot.gateway_connected,
                            store=store,
                            host=settings.metrics_host,
                            port=settings.metrics_port,
                        )
                    )
                if settings.scenario_webhook_port is not None:
                    if bot.engine.watch is None:
                        log.warning("SCENARIO_WEBHOOK_PORT is ignored with STATUS_MODE=per_job")
                    else:
                        bot.webhook = await endpoint.enter_async_context(
                            WebhookReceiver(bot.engine.watch, port=settings.scenario_webhook_port)
                        )
                yield bot
    finally:
        await store.close()
