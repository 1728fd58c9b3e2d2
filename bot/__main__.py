"""`python -m bot`: settings, then `bootstrap.open_bot` (session → Scenario client → store → engine → bot).

`python -m bot --help` lists the commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence

import discord

from bot.log import setup_logging
from bot.settings import SettingsError, load_settings

log = logging.getLogger("bot")

SHARDING_REQUIRED = 4011
"""The gateway's close code when a shard would hold more than 2,500 servers."""

USAGE = """\
usage: python -m bot [--help | demo [--out DIR] [--job-seconds N]]

Commands:
  python -m bot                                     run the bot, configured by the environment and .env
  python -m bot demo [--out DIR] [--job-seconds N]  run the demo against the fake Discord and the Scenario
                                                    sandbox: no token, no credits (needs the [sandbox] extra)
  python -m fakes.sandbox --host H --port P         serve the Scenario sandbox; point SCENARIO_BASE_URL at it

Settings: the "Settings" table in README.md lists every variable; .env.example is a template for .env.
"""


async def run_bot() -> int:
    """Build everything, run until SIGINT/SIGTERM, and shut down leaving jobs resumable."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    secrets = (settings.discord_token, settings.scenario_sdk_api_key, settings.scenario_sdk_api_secret)
    setup_logging(settings.log_level, settings.log_format, secrets=[s.get_secret_value() for s in secrets])

    from bot.bootstrap import open_bot
    from bot.health import HealthServerError

    async with contextlib.AsyncExitStack() as resources:
        try:
            bot = await resources.enter_async_context(open_bot(settings))
        except ValueError as exc:  # a form Settings accepts but this build has no backend for
            print(f"Configuration error: {exc}", file=sys.stderr)
            return 2
        except HealthServerError as exc:  # METRICS_PORT taken, or METRICS_HOST not this machine's
            print(f"Configuration error: {exc}", file=sys.stderr)
            return 2
        except (OSError, sqlite3.Error) as exc:
            # OSError's own text repeats the path; its strerror ("Permission denied") does not.
            reason = (exc.strerror or type(exc).__name__) if isinstance(exc, OSError) else str(exc)
            print(f"Configuration error: DATABASE_URL: cannot open the database ({reason})", file=sys.stderr)
            return 2
        except RuntimeError as exc:  # a schema from a newer bot; the stores never put the URL in the text
            print(f"Configuration error: DATABASE_URL: {exc}", file=sys.stderr)
            return 2
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda s=sig: _stop(bot, s))
        # Modules, settings and clients live as long as the process: keep them out of every garbage
        # collection, which otherwise walks them all again and again under load (bench/load.py).
        gc.freeze()
        try:
            await bot.start(settings.discord_token.get_secret_value())
        except discord.LoginFailure:
            print("Configuration error: DISCORD_TOKEN was rejected by Discord", file=sys.stderr)
            return 2
        except discord.ConnectionClosed as exc:
            if exc.code != SHARDING_REQUIRED:
                raise
            print(
                "Configuration error: SHARD_COUNT is too small: Discord requires more shards for this bot's "
                "servers (at most 2,500 each; GET /gateway/bot recommends a count)",
                file=sys.stderr,
            )
            return 2
    log.info("Stopped")
    return 0


_stopping: set[asyncio.Task[None]] = set()


def _stop(bot: discord.Client, sig: signal.Signals) -> None:
    log.info("Received %s: finishing writes and stopping", sig.name)
    task = asyncio.ensure_future(bot.close())
    _stopping.add(task)
    task.add_done_callback(_stopping.discard)


def run_demo(argv: Sequence[str]) -> int:
    """`python -m bot demo`: the demo lives with the fakes, which a plain `pip install .` cannot run."""
    try:
        from fakes.demo import main as demo_main
    except ModuleNotFoundError as exc:
        print(
            f"python -m bot demo needs the fakes and their extra (missing module {exc.name!r}); "
            'install them from a clone with: pip install -e ".[sandbox]"',
            file=sys.stderr,
        )
        return 2
    return demo_main(list(argv))


def _event_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (not on Windows), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch `python -m bot [--help | demo ...]`; the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        # A Ctrl-C before the signal handlers are in place ends it quietly.
        with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=_event_loop()) as runner:
            return runner.run(run_bot())
        return 0
    if args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0
    if args[0] == "demo":
        return run_demo(args[1:])
    print(f"python -m bot: unknown command {args[0]!r}; python -m bot --help lists the commands", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
