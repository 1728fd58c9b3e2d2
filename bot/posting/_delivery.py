"""Delivering to Discord: the interaction while its token lives, then the channel, then a DM.

Exactly once: editing the interaction's original response is idempotent (a repeat replaces the message
with the same content), a channel or DM message carries a nonce derived from the job id with
`enforce_nonce`, so Discord returns the first message instead of posting twice, and a resumed delivery
first looks at the original response to see whether the result is already there.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import discord

from bot.images import ImageTooLargeError
from bot.jobs.delivery import Delivered, DeliveryError, OutputImage
from bot.jobs.models import JobRecord, utcnow
from bot.posting._render import RenderedResult, render_result

log = logging.getLogger(__name__)

ViewFactory = Callable[[JobRecord, Sequence[OutputImage]], discord.ui.View | None]
TOKEN_MARGIN_SECONDS = 90.0
# Within this long of the token's end, progress says where the result will come instead.
TOKEN_NOTICE_SECONDS = 300.0
TOKEN_NOTICE = (
    "\n-# Discord lets the bot update this message for 15 minutes only: the result will come as a new message"
    " that mentions you (or by DM)."
)
# The interaction's own reply, addressed the way every Discord API client (and proxy) supports. discord.py
# types the id as int but only formats it into the URL.
ORIGINAL: int = "@original"  # type: ignore[assignment]
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
TOO_LARGE = 40005
INVALID_TOKEN = 50027


class DiscordDelivery:
    """The engine's `Delivery`, on discord.py: interaction webhook edits, channel messages and DMs."""

    def __init__(
        self,
        client: discord.Client,
        *,
        view_factory: ViewFactory | None = None,
        now: Callable[[], datetime] = utcnow,
        token_margin: float = TOKEN_MARGIN_SECONDS,
    ) -> None:
        self.client = client
        self.view_factory = view_factory
        self._now = now
        self._token_margin = token_margin

    # -- the interaction's own message ---------------------------------------------------------------
    def _webhook(self, job: JobRecord) -> discord.Webhook | None:
        if not (job.application_id and job.token_valid(self._now(), self._token_margin)):
            return None
        return discord.Webhook.partial(job.application_id, job.interaction_token or "", client=self.client)

    async def show_progress(self, job: JobRecord, text: str) -> None:
        webhook = self._webhook(job)
        if webhook is None:
            return
        if job.parent_message_url:
            text = f"-# ↪️ from {job.parent_message_url}\n{text}"
        if job.token_expires_at and (job.token_expires_at - self._now()).total_seconds() < TOKEN_NOTICE_SECONDS:
            text += TOKEN_NOTICE
        try:
            await webhook.edit_message(ORIGINAL, content=text)
        except discord.HTTPException as exc:
            log.debug("Progress edit for job %s failed: %s", job.id, exc)

    async def report_failure(self, job: JobRecord, text: str) -> None:
        content = f"❌ {text}\n-# Job `{job.id}`"
        webhook = self._webhook(job)
        try:
            if webhook is not None:
                await webhook.edit_message(ORIGINAL, content=content, embeds=[], view=None)
                return
            await self._post_elsewhere(job, content=f"<@{job.user_id}> {content}", nonce=f"{job.id}:fail")
        except (discord.HTTPException, DeliveryError) as exc:
            log.warning("Could not tell the requester of job %s that it failed: %s", job.id, exc)

    # -- results -------------------------------------------------------------------------------------
    async def deliver(self, job: JobRecord, images: Sequence[OutputImage], *, resumed: bool) -> Delivered:
        webhook = self._webhook(job)
        if webhook is not None:
            try:
                return await self._deliver_to_interaction(webhook, job, images, resumed=resumed)
            except discord.HTTPException as exc:
                if exc.status == 401 or exc.code == INVALID_TOKEN or exc.status == 404:
                    log.info("Job %s: interaction response unusable (%s); posting elsewhere", job.id, exc)
                elif exc.status >= 500:
                    raise DeliveryError(f"Discord failed ({exc.status})", retryable=True) from exc
                else:
                    raise DeliveryError(_explain(exc)) from exc
        return await self._deliver_elsewhere(job, images)

    async def _deliver_to_interaction(
        self, webhook: discord.Webhook, job: JobRecord, images: Sequence[OutputImage], *, resumed: bool
    ) -> Delivered:
        message_id = ORIGINAL
        if resumed:
            existing = await webhook.fetch_message(message_id)
            if existing.attachments and _is_result_of(existing, job):
                log.info("Job %s was already delivered before the restart", job.id)
                return Delivered([existing.id], "interaction")
        limit = job.filesize_limit or DEFAULT_UPLOAD_LIMIT

        async def post(limit: int) -> tuple[discord.Message, list[str]]:
            rendered = await _render(job, images, limit)
            message = await webhook.edit_message(
                message_id,
                content="",
                embed=rendered.embed,
                attachments=rendered.files,
                view=self._view(job, images),
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return message, rendered.notes

        message, notes = await _with_shrink_retry(post, limit)
        return Delivered([message.id], "interaction", note="; ".join(notes) or None)

    async def _deliver_elsewhere(self, job: JobRecord, images: Sequence[OutputImage]) -> Delivered:
        limit = DEFAULT_UPLOAD_LIMIT
        if job.bot_in_guild and job.guild_id is not None:
            guild = self.client.get_guild(job.guild_id)
            limit = guild.filesize_limit if guild is not None else DEFAULT_UPLOAD_LIMIT

        async def post(limit: int) -> tuple[discord.Message, list[str]]:
            rendered = await _render(job, images, limit)
            message = await self._post_elsewhere(
                job,
                content=f"<@{job.user_id}> here is your result.",
                embed=rendered.embed,
                files=rendered.files,
                view=self._view(job, images),
                nonce=f"{job.id}:result",
            )
            return message, rendered.notes

        message, notes = await _with_shrink_retry(post, limit)
        via = "dm" if isinstance(message.channel, discord.DMChannel) else "channel"
        return Delivered([message.id], via, note="; ".join(notes) or None)

    async def _post_elsewhere(self, job: JobRecord, **kwargs: object) -> discord.Message:
        """A channel message mentioning only the requester; if the bot cannot post there, a DM."""
        kwargs["allowed_mentions"] = discord.AllowedMentions(
            users=[discord.Object(job.user_id)], everyone=False, roles=False
        )
        files = kwargs.get("files")
        # A discord.File is single-use: a refused channel send leaves it read to the end, and the DM would
        # upload empty files. Keep the bytes to build fresh files for the DM.
        blobs = [(f.fp.getvalue(), f.filename, f.description) for f in files] if isinstance(files, list) else None
        if job.bot_in_guild and job.guild_id is not None and job.channel_id is not None:
            try:
                channel = self.client.get_channel(job.channel_id) or await self.client.fetch_channel(job.channel_id)
                return await channel.send(**kwargs)  # type: ignore[union-attr,arg-type]
            except (discord.Forbidden, discord.NotFound) as exc:
                log.info("Job %s: cannot post in channel %s (%s); trying a DM", job.id, job.channel_id, exc)
            except discord.HTTPException as exc:
                if exc.status == 413 or exc.code == TOO_LARGE or exc.status < 500:
                    raise
                raise DeliveryError(f"Discord failed ({exc.status})", retryable=True) from exc
        if blobs is not None:
            kwargs["files"] = [discord.File(io.BytesIO(data), name, description=text) for data, name, text in blobs]
        try:
            user = self.client.get_user(job.user_id) or await self.client.fetch_user(job.user_id)
            return await user.send(**kwargs)  # type: ignore[arg-type]
        except discord.Forbidden as exc:
            raise DeliveryError(
                "the interaction expired, and the bot may not post in that channel or send you a DM"
            ) from exc
        except discord.HTTPException as exc:
            if exc.status == 413 or exc.code == TOO_LARGE:
                raise
            raise DeliveryError(f"Discord failed ({exc.status})", retryable=exc.status >= 500) from exc

    def _view(self, job: JobRecord, images: Sequence[OutputImage]) -> discord.ui.View:
        view = self.view_factory(job, images) if self.view_factory else None
        return view if view is not None else discord.utils.MISSING


async def _render(job: JobRecord, images: Sequence[OutputImage], limit: int) -> RenderedResult:
    """Build the message; in a thread only when an image must be re-encoded to fit (a thread hop costs more
    CPU than building an embed around files that are posted as they are)."""
    if all(len(image.data) <= limit for image in images):
        return render_result(job, images, limit=limit)
    return await asyncio.to_thread(render_result, job, images, limit=limit)


async def _with_shrink_retry(post, limit: int):
    """Post; if Discord refuses a file as too large, fit the files under half the limit and try once more."""
    too_large = "Discord refused the images as too large, even after shrinking them"
    try:
        return await post(limit)
    except ImageTooLargeError as exc:
        raise DeliveryError(f"the images cannot be made small enough for Discord ({exc})") from exc
    except discord.HTTPException as exc:
        if not (exc.status == 413 or exc.code == TOO_LARGE):
            raise
        log.warning("Discord refused an upload as too large at limit %d; retrying smaller", limit)
    try:
        return await post(limit // 2)
    except ImageTooLargeError as exc:
        raise DeliveryError(too_large) from exc
    except discord.HTTPException as exc:
        if exc.status == 413 or exc.code == TOO_LARGE:
            raise DeliveryError(too_large) from exc
        raise


def _is_result_of(message: discord.Message, job: JobRecord) -> bool:
    return any(embed.footer and job.id in (embed.footer.text or "") for embed in message.embeds)


def _explain(exc: discord.HTTPException) -> str:
    return f"Discord refused the message ({exc.status}: {exc.text or 'no details'})"
