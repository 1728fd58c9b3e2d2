"""An attachment made into a Scenario asset: fetched from Discord's CDN (capped), checked to be a still image,
fitted to Scenario's limit and uploaded once. `/character` and `/characters save` share it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.attachments import fetch_attachment
from bot.images import PreparedImage, prepare_reference
from bot.scenario import MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    from bot.app import ScenarioBot


@dataclass(frozen=True, slots=True)
class Uploaded:
    """The new asset's id, and the image as it was sent (for a thumbnail)."""

    asset_id: str
    image: PreparedImage


async def upload_attachment(bot: ScenarioBot, file: discord.Attachment) -> Uploaded:
    """Fetch, verify, fit and upload one attachment (one `POST /assets`)."""
    return await upload_from_url(bot, url=file.url, filename=file.filename)


async def upload_from_url(bot: ScenarioBot, *, url: str, filename: str) -> Uploaded:
    """The same for an attachment known by its Discord CDN URL and file name (e.g. from a modal's upload)."""
    data = await fetch_attachment(
        bot.session,
        url,
        filename=filename,
        max_bytes=bot.settings.max_attachment_bytes,
        allowed_hosts=bot.attachment_hosts,
    )
    prepared = await asyncio.to_thread(prepare_reference, data, filename=filename, max_bytes=MAX_UPLOAD_BYTES)
    stem = filename.rsplit(".", 1)[0] or "reference"
    asset_id = await bot.scenario.upload_image(
        prepared.data, name=f"{stem}.{prepared.extension}", mime_type=prepared.mime_type
    )
    return Uploaded(asset_id, prepared)
