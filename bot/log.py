"""One place that sets up logging for the whole process."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str = "INFO") -> None:
    """Log to stderr with timestamps; chatty loggers (some would print interaction tokens) are kept quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    # Webhook debug lines carry interaction-token URLs: keep them out of logs even at DEBUG.
    logging.getLogger("discord.webhook").setLevel(logging.INFO)
    logging.getLogger("discord.gateway").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Its debug lines print every SQL statement with its parameters, a job's interaction token included.
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
