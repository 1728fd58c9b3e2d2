"""Delivering to Discord: the interaction while its token lives, then the channel, then a DM.

Exactly once: editing the interaction's original response is idempotent (a repeat replaces the message
with the same content), a channel or DM message carries a nonce derived from the job id with
`enforce_nonce`, so Discord returns the first message instead of posting twice, and a resumed delivery
first looks at the original response to see whether the result is already there.

Every Discord error on every path goes through one classifier (`classify`) and ends one of three ways:
the next place is tried (the token or the channel is unusable), the post is retried by the engine (Discord
or the network failed), or the result is undelivered and the requester is told to use `/show`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

import aiohttp
import discord
import orjson

from bot import metrics
from bot.clock import utcnow
from bot.images import ImageTooLargeError
from bot.jobs import texts
from bot.jobs.delivery import Delivered, DeliveryError, OutputImage, Reply
from bot.jobs.models import JobRecord
from bot.posting._nsfw import channel_is_age_restricted, plan_for
from bot.posting._render import RenderedResult, render_result
from bot.posting.buttons import result_view
from bot.servers import NsfwPolicy, ServerSettings, audit_line

log = logging.getLogger(__name__)

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
NOWHERE = "the interaction expired, and the bot may not post in that channel or send you a DM"
TOO_LARGE_TEXT = "Discord refused the images as too large, even after shrinking them"


class Verdict(Enum):
    """What a Discord error means for a delivery."""

    UNUSABLE = "try the next place"  # an expired token, a channel the bot cannot see or post in, closed DMs
    TOO_LARGE = "shrink the files"
    RETRY = "try again later"  # Discord's 5xx, a rate limit discord.py gave up on, the network
    REFUSED = "undelivered"  # any other 4xx: the same message would be refused again


def classify(exc: BaseException) -> Verdict | None:
    """The one reading of a Discord error; None for an error that is not Discord's (a bug: let it rise).

    Every error it reads is counted in `bot_discord_errors_total` and remembered for `/status`.
    """
    if isinstance(exc, discord.HTTPException):
        # Discord's own error code when it gave one (50027, 40005…), else the HTTP status (429, 502…).
        metrics.discord_error(exc.code or exc.status, f"{_describe(exc)} (error code {exc.code})")
        if exc.status == 413 or exc.code == TOO_LARGE:
            return Verdict.TOO_LARGE
        if exc.status in (401, 403, 404) or exc.code == INVALID_TOKEN:
            return Verdict.UNUSABLE
        if exc.status >= 500 or exc.status == 429:
            return Verdict.RETRY
        return Verdict.REFUSED
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        # The class only: a network error's text can hold the request's URL, and so an interaction token.
        metrics.discord_error(type(exc).__name__, f"{type(exc).__name__} (no answer from Discord)")
        return Verdict.RETRY
    return None


class _Unusable(Exception):
    """This place cannot take the message; the next one may."""


Post = Callable[[int], Awaitable[tuple[discord.Message, list[str]]]]


async def _attempt(post: Post, limit: int) -> tuple[discord.Message, list[str]]:
    """Post, shrinking the files once if Discord says they are too large; classify every failure."""
    for this_limit in (limit, limit // 2):
        try:
            return await post(this_limit)
        except ImageTooLargeError as exc:
            raise DeliveryError(f"the images cannot be made small enough for Discord ({exc})") from exc
        except Exception as exc:
            verdict = classify(exc)
            if verdict is None:
                raise
            if verdict is Verdict.TOO_LARGE and this_limit == limit:
                log.warning("Discord refused an upload as too large at limit %d; retrying smaller", limit)
                continue
            if verdict is Verdict.UNUSABLE:
                raise _Unusable(str(exc)) from exc
            if verdict is Verdict.RETRY:
                raise DeliveryError(f"Discord failed ({_describe(exc)})", retryable=True) from exc
            if verdict is Verdict.TOO_LARGE:
                raise DeliveryError(TOO_LARGE_TEXT) from exc
            raise DeliveryError(f"Discord refused the message ({_describe(exc)})") from exc
    raise AssertionError("unreachable")


@dataclass
class _Outgoing:
    """One message, as each place needs it: the interaction's own message is edited in place, a channel
    message or a DM mentions the requester (only them)."""

    content: str
    mention: str = ""
    embed: discord.Embed | None = None
    files: list[discord.File] = field(default_factory=list)
    view: discord.ui.View | None = None
    notes: list[str] = field(default_factory=list)


Compose = Callable[[int, str], Awaitable[_Outgoing]]
"""Builds the message for an upload limit and a place (files are single-use: a fresh set for every attempt)."""
SettingsReader = Callable[[int], Awaitable[ServerSettings]]


class DiscordDelivery:
    """The engine's `Delivery`, on discord.py: interaction webhook edits, channel messages and DMs."""

    def __init__(
        self,
        client: discord.Client,
        session: aiohttp.ClientSession,
        *,
        now: Callable[[], datetime] = utcnow,
        token_margin: float = TOKEN_MARGIN_SECONDS,
        server_settings: SettingsReader | None = None,
    ) -> None:
        """`session` carries the progress edits (see `_edit_text`); `server_settings` reads a server's `/config`
        (its NSFW policy and audit channel) at each post."""
        self.client = client
        self._session = session
        self._now = now
        self._token_margin = token_margin
        self._server_settings = server_settings

    # -- progress and failure notices ----------------------------------------------------------------
    def _token_usable(self, job: JobRecord) -> bool:
        return bool(job.application_id and job.token_valid(self._now(), self._token_margin))

    def _webhook(self, job: JobRecord) -> discord.Webhook | None:
        if not self._token_usable(job):
            return None
        return discord.Webhook.partial(job.application_id, job.interaction_token or "", client=self.client)

    async def show_progress(self, job: JobRecord, text: str) -> None:
        if not self._token_usable(job):
            return
        if job.parent_message_url:
            text = f"-# ↪️ from {job.parent_message_url}\n{text}"
        if job.token_expires_at and (job.token_expires_at - self._now()).total_seconds() < TOKEN_NOTICE_SECONDS:
            text += TOKEN_NOTICE
        try:
            if not await self._edit_text(job, text) and (webhook := self._webhook(job)) is not None:
                await webhook.edit_message(ORIGINAL, content=text)  # discord.py waits out a 429, retries a 5xx
        except Exception as exc:
            if classify(exc) is None:
                raise
            # Discord's answer, or the class only: a network error's text can hold the URL, and so the token.
            failure = _describe(exc) if isinstance(exc, discord.HTTPException) else type(exc).__name__
            log.debug("Progress edit for job %s failed: %s", job.id, failure)

    async def _edit_text(self, job: JobRecord, text: str) -> bool:
        """Edit the interaction's message to `text` with one PATCH, as discord.py would send it, without its
        rate-limit bookkeeping or the `Message` it builds from each answer (30 to 50 µs of CPU an edit, measured
        against the fake Discord). False when Discord asked to slow down or failed (429, 5xx) or the network
        did: then discord.py's own edit, which waits and retries, follows. Raises `discord.HTTPException` for
        any other refusal, for `classify`."""
        url = f"{discord.http.Route.BASE}/webhooks/{job.application_id}/{job.interaction_token}/messages/{ORIGINAL}"
        body = orjson.dumps({"content": text, "allowed_mentions": {"parse": []}})
        headers = {"Content-Type": "application/json", "User-Agent": self.client.http.user_agent}
        try:
            async with self._session.patch(url, data=body, headers=headers) as response:
                answer = await response.read()  # read in full, so the connection goes back to the pool
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False
        if response.status < 300:
            return True
        if response.status == 429 or response.status >= 500:
            return False
        try:
            refusal = orjson.loads(answer)
        except ValueError:
            refusal = answer.decode("utf-8", "replace")
        raise discord.HTTPException(response, refusal)

    async def report_failure(self, job: JobRecord, text: str) -> None:
        content = f"❌ {text}\n-# Job `{job.id}`"

        async def compose(_limit: int, _place: str) -> _Outgoing:
            return _Outgoing(content, mention=f"<@{job.user_id}> ")

        try:
            await self._first_place(job, compose, nonce=f"{job.id}:fail", any_error_moves_on=True)
        except DeliveryError as exc:
            log.warning("Could not tell the requester of job %s that it ended: %s", job.id, exc)

    # -- results -------------------------------------------------------------------------------------
    async def deliver(
        self, job: JobRecord, images: Sequence[OutputImage], *, resumed: bool, reply: Reply | None = None
    ) -> Delivered:
        if reply is not None:
            return await self._repost(job, images, reply)
        if resumed and (already := await self._already_delivered(job)) is not None:
            return already
        policy = await self.nsfw_policy(job.guild_id)
        # This process's cache when it holds the channel (its flag may have changed since), else as asked.
        cached = self.client.get_channel(job.channel_id or 0)
        age_restricted = channel_is_age_restricted(cached) if cached is not None else job.channel_age_restricted
        dm_possible: bool | None = None  # known once the labelled images were offered by DM

        async def compose(limit: int, place: str) -> _Outgoing:
            nonlocal dm_possible
            if place == "dm" and dm_possible:
                place = "channel"  # the labelled images are in the requester's DMs already: not twice
            plan = plan_for(
                images, policy, place=place, age_restricted=age_restricted, dm_possible=dm_possible is not False
            )
            if plan.by_dm and dm_possible is None:
                dm_possible = await self._send_by_dm(job, plan.by_dm, limit)
                if not dm_possible:
                    plan = plan_for(images, policy, place=place, age_restricted=age_restricted, dm_possible=False)
            rendered = await _render(job, plan.images, limit, plan.spoilers)
            mention = f"<@{job.user_id}> here is your result." + ("\n" if plan.notes else "")
            return _Outgoing(
                _notes(plan.notes), mention, rendered.embed, rendered.files,
                result_view(job, images), [*rendered.notes, *plan.notes],
            )  # fmt: skip

        message, via, notes = await self._first_place(job, compose, nonce=f"{job.id}:result")
        return Delivered([message.id], via, note="; ".join(notes) or None)

    async def _repost(self, job: JobRecord, images: Sequence[OutputImage], reply: Reply) -> Delivered:
        webhook = discord.Webhook.partial(reply.application_id, reply.token, client=self.client)
        policy = await self.nsfw_policy(reply.guild_id)
        plan = plan_for(images, policy, place="show" if reply.guild_id else "dm", age_restricted=reply.age_restricted)

        async def post(limit: int) -> tuple[discord.Message, list[str]]:
            rendered = await _render(job, plan.images, limit, plan.spoilers)
            content = texts.REPOSTED.format(job_id=job.id) + ("\n" + _notes(plan.notes) if plan.notes else "")
            notes = [*rendered.notes, *plan.notes]
            out = _Outgoing(content, "", rendered.embed, rendered.files, result_view(job, images), notes)
            return await _edit(webhook, out), out.notes

        try:
            message, notes = await _attempt(post, reply.filesize_limit)
        except _Unusable as exc:
            raise DeliveryError(f"Discord no longer accepts this reply ({exc})") from exc
        return Delivered([message.id], "show", note="; ".join(notes) or None)

    async def nsfw_policy(self, guild_id: int | None) -> NsfwPolicy:
        """The server's `/config nsfw` policy (read now: another process may just have changed it)."""
        if guild_id is None or self._server_settings is None:
            return NsfwPolicy.SPOILER
        return (await self._server_settings(guild_id)).nsfw_policy

    async def audit(self, job: JobRecord) -> None:
        """Post the audit line of a job that came to rest in its server's `/config audit_channel`, if any.
        Best effort: never raises."""
        if job.guild_id is None or self._server_settings is None:
            return
        try:
            channel_id = (await self._server_settings(job.guild_id)).audit_channel_id
            if channel_id is None:
                return
            channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
            await channel.send(  # type: ignore[union-attr]
                audit_line(job), allowed_mentions=discord.AllowedMentions.none(), suppress_embeds=True
            )
        except Exception as exc:
            if classify(exc) is None:
                log.exception("Job %s: the audit line failed", job.id)
            else:
                log.warning("Job %s: could not post the audit line: %s", job.id, exc)

    async def _send_by_dm(self, job: JobRecord, images: Sequence[OutputImage], limit: int) -> bool:
        """Send the requester the labelled images a channel may not show; False if Discord would not."""
        channel = f"<#{job.channel_id}>" if job.channel_id else "the server"

        async def post(limit: int) -> tuple[discord.Message, list[str]]:
            rendered = await _render(job, images, limit)
            out = _Outgoing(texts.NSFW_DM_TEXT.format(channel=channel), "", rendered.embed, rendered.files)
            return await self._send(job, "dm", out, f"{job.id}:nsfw"), out.notes

        try:
            await _attempt(post, min(limit, DEFAULT_UPLOAD_LIMIT))
        except (_Unusable, DeliveryError) as exc:
            log.info("Job %s: could not send the NSFW-labelled images by DM (%s)", job.id, exc)
            return False
        return True

    async def _already_delivered(self, job: JobRecord) -> Delivered | None:
        """After a restart: the result may be on the interaction's message already (posted, not recorded)."""
        webhook = self._webhook(job)
        if webhook is None:
            return None
        try:
            existing = await webhook.fetch_message(ORIGINAL)
        except Exception as exc:
            if classify(exc) is None:
                raise
            return None  # the post that follows meets the same error, and classifies it
        if existing.attachments and _is_result_of(existing, job):
            log.info("Job %s was already delivered before the restart", job.id)
            return Delivered([existing.id], "interaction")
        return None

    # -- places --------------------------------------------------------------------------------------
    async def _first_place(
        self, job: JobRecord, compose: Compose, *, nonce: str, any_error_moves_on: bool = False
    ) -> tuple[discord.Message, str, list[str]]:
        """The interaction's message while its token lives, else the channel, else a DM: the first that can.

        A result moves on only from a place that cannot take it (elsewhere, the engine retries or keeps it for
        `/show`); a short notice (`any_error_moves_on`) tries every place before giving up."""
        failure: DeliveryError | None = None
        webhook = self._webhook(job)
        places: list[tuple[str, int]] = []
        if webhook is not None:
            places.append(("interaction", job.filesize_limit or DEFAULT_UPLOAD_LIMIT))
        if job.bot_in_guild and job.guild_id is not None and job.channel_id is not None:
            guild = self.client.get_guild(job.guild_id)
            places.append(("channel", guild.filesize_limit if guild is not None else DEFAULT_UPLOAD_LIMIT))
        places.append(("dm", DEFAULT_UPLOAD_LIMIT))
        for place, limit in places:

            async def post(limit: int, place: str = place) -> tuple[discord.Message, list[str]]:
                out = await compose(limit, place)
                if place == "interaction":
                    assert webhook is not None
                    return await _edit(webhook, out), out.notes
                return await self._send(job, place, out, nonce), out.notes

            try:
                message, notes = await _attempt(post, limit)
            except _Unusable as exc:
                log.info("Job %s: cannot post via %s (%s); trying the next place", job.id, place, exc)
                continue
            except DeliveryError as exc:
                if not any_error_moves_on:
                    raise
                log.info("Job %s: posting via %s failed (%s); trying the next place", job.id, place, exc)
                failure = exc
                continue
            return message, place, notes
        raise failure or DeliveryError(NOWHERE)

    async def _send(self, job: JobRecord, place: str, out: _Outgoing, nonce: str) -> discord.Message:
        """A new message in the job's channel or in the requester's DMs, de-duplicated by its nonce."""
        if place == "channel":
            assert job.channel_id is not None
            target = self.client.get_channel(job.channel_id) or await self.client.fetch_channel(job.channel_id)
        else:
            target = self.client.get_user(job.user_id) or await self.client.fetch_user(job.user_id)
        return await target.send(  # type: ignore[union-attr]
            content=(out.mention + out.content).strip() or None,
            embed=out.embed,
            files=out.files or discord.utils.MISSING,
            view=out.view or discord.utils.MISSING,
            nonce=nonce,
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(job.user_id)], everyone=False, roles=False),
        )


async def _edit(webhook: discord.Webhook, out: _Outgoing) -> discord.Message:
    """Replace the interaction's own message (idempotent: a repeat leaves the same message)."""
    return await webhook.edit_message(
        ORIGINAL,
        content=out.content,
        embeds=[out.embed] if out.embed is not None else [],
        attachments=out.files,
        view=out.view,
        allowed_mentions=discord.AllowedMentions.none(),
    )


async def _render(
    job: JobRecord, images: Sequence[OutputImage], limit: int, spoilers: frozenset[str] = frozenset()
) -> RenderedResult:
    """Build the message; in a thread only when an image must be re-encoded to fit (a thread hop costs more
    CPU than building an embed around files that are posted as they are)."""
    if all(len(image.data) <= limit for image in images):
        return render_result(job, images, limit=limit, spoilers=spoilers)
    return await asyncio.to_thread(render_result, job, images, limit=limit, spoilers=spoilers)


def _notes(notes: Sequence[str]) -> str:
    return "\n".join(f"-# ⚠️ {note}" for note in notes)


def _is_result_of(message: discord.Message, job: JobRecord) -> bool:
    return any(embed.footer and job.id in (embed.footer.text or "") for embed in message.embeds)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"{exc.status}: {exc.text or 'no details'}"
    return str(exc) or type(exc).__name__
