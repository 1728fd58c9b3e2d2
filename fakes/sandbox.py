"""`python -m fakes.sandbox`: serve the fake Scenario API locally, so the bot runs without real credentials.

    python -m fakes.sandbox --host 127.0.0.1 --port 8765 [--key K --secret S] [--job-seconds 3] [--price-per-image 10]

Prints one ready line with the base URL (set it as the bot's Scenario base URL), then serves
until SIGINT or SIGTERM and exits 0. `--port 0` picks a free port; the ready line shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from fakes.scenario import FakeScenario

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line options."""
    parser = argparse.ArgumentParser(prog="python -m fakes.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one (default 8765)")
    parser.add_argument("--key", default=None, help="API key to require (default: accept any credentials)")
    parser.add_argument("--secret", default=None, help="API secret to require (default: accept any)")
    parser.add_argument("--job-seconds", type=float, default=3.0, help="seconds a job takes to succeed (default 3)")
    parser.add_argument("--parallel-limit", type=int, default=None, help="parallel jobs before 429 (default none)")
    parser.add_argument(
        "--price-per-image",
        type=int,
        default=None,
        help="CU each image costs, for every model and option, in dry runs and real runs (default: per model)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Run the fake until SIGINT/SIGTERM."""
    fake = FakeScenario(
        api_key=args.key,
        api_secret=args.secret,
        job_duration=args.job_seconds,
        parallel_limit=args.parallel_limit,
        price_per_image=args.price_per_image,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: KeyboardInterrupt still ends the run
            loop.add_signal_handler(signum, stop.set)
    base_url = await fake.start(args.host, args.port)
    try:
        required = args.key is not None or args.secret is not None
        credentials = "--key/--secret credentials required" if required else "any credentials accepted"
        print(f"Scenario sandbox ready at {base_url} ({credentials})", flush=True)
        await stop.wait()
    finally:
        await fake.stop()
        log.info("Scenario sandbox stopped")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.verbose:
        logging.getLogger("fakes").setLevel(logging.DEBUG)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
