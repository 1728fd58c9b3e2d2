"""Fetching a Discord attachment safely: only from Discord's own CDN, never more than a byte cap."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

import aiohttp

from bot.errors import InvalidInputError
from bot.images import format_size
from bot.scenario import DownloadTooLargeError, read_capped

DISCORD_CDN_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})


def check_declared_size(filename: str, declared: int, max_bytes: int) -> None:
    """Refuse an attachment Discord says is too big, before downloading a byte of it."""
    if declared <= 0:
        raise InvalidInputError(f"`{filename}` is empty (0 bytes). Please attach a PNG, JPEG or WebP image.")
    if declared > max_bytes:
        raise InvalidInputError(
            f"`{filename}` is {format_size(declared)}; the limit is {format_size(max_bytes)}. "
            "Please attach a smaller image."
        )


async def fetch_attachment(
    session: aiohttp.ClientSession,
    url: str,
    *,
    filename: str,
    max_bytes: int,
    allowed_hosts: Collection[str] = DISCORD_CDN_HOSTS,
) -> bytes:
    """Download an attachment from its Discord URL, stopping as soon as it exceeds `max_bytes`."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or parts.hostname not in allowed_hosts:
        raise InvalidInputError(f"`{filename}` does not come from Discord's CDN, so the bot will not fetch it.")
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=60)) as response:
            if response.status != 200:
                raise InvalidInputError(
                    f"Discord would not hand over `{filename}` (HTTP {response.status}). Please attach it again."
                )
            return await read_capped(response, max_bytes)
    except DownloadTooLargeError as exc:
        limit = format_size(max_bytes)
        if exc.declared:
            raise InvalidInputError(f"`{filename}` is {format_size(exc.size)}; the limit is {limit}.") from None
        raise InvalidInputError(f"`{filename}` is larger than the {limit} limit.") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise InvalidInputError(
            f"Could not download `{filename}` from Discord ({type(exc).__name__}). Try again."
        ) from exc
