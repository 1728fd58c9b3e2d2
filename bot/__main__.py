"""`python -m bot`: settings → session → Scenario client → store → bot. `python -m bot demo` runs the demo."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys

import aiohttp
import discord

from bot.log import setup_logging
from bot.settings import SettingsError, load_settings

log = logging.getLogger("bot")


async def run_bot() -> int:
    """Build everything, run until SIGINT/SIGTERM, and shut down leaving jobs resumable."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)

    from bot.app import ScenarioBot
    from bot.jobs.store import open_store
    from bot.scenario import ScenarioClient

    if settings.discord_api_base_url:
        discord.http.Route.BASE = settings.discord_api_base_url
    try:
        store = open_store(settings.database_url)
        await store.open()
    except (ValueError, OSError) as exc:
        print(f"Configuration error: DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    try:
        async with aiohttp.ClientSession() as session:
            scenario = ScenarioClient(
                session,
                settings.scenario_sdk_api_key.get_secret_value(),
                settings.scenario_sdk_api_secret.get_secret_value(),
                settings.scenario_base_url,
                request_timeout=settings.scenario_timeout_seconds,
            )
            bot = ScenarioBot(settings=settings, session=session, scenario=scenario, store=store)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, lambda s=sig: _stop(bot, s))
            # Modules, settings and clients live as long as the process: keep them out of every garbage
            # collection, which otherwise walks them all again and again under load (bench/load.py).
            gc.freeze()
            async with bot:
                try:
                    await bot.start(settings.discord_token.get_secret_value())
                except discord.LoginFailure:
                    print("Configuration error: DISCORD_TOKEN was rejected by Discord", file=sys.stderr)
                    return 2
    finally:
        await store.close()
    log.info("Stopped")
    return 0


_stopping: set[asyncio.Task[None]] = set()


def _stop(bot: discord.Client, sig: signal.Signals) -> None:
    log.info("Received %s: finishing writes and stopping", sig.name)
    task = asyncio.ensure_future(bot.close())
    _stopping.add(task)
    task.add_done_callback(_stopping.discard)


def main() -> None:
    if sys.argv[1:2] == ["demo"]:
        from fakes.demo import main as demo_main

        sys.exit(demo_main(sys.argv[2:]))
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(run_bot()))


if __name__ == "__main__":
    main()
