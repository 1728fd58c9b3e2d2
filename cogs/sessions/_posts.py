"""What a session posts: its header, the contact sheet with its index, and the summary in the parent channel."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import discord

from bot.images import sniff_image_mime
from bot.jobs.models import JobRecord
from bot.sessions import SessionRecord, summary
from bot.sessions.sheet import Tile, contact_sheets
from cogs import imagine
from cogs.sessions._items import add_idea_button

if TYPE_CHECKING:
    from bot.app import ScenarioBot

log = logging.getLogger(__name__)

MAX_FILES = 10
MAX_EMBEDS = 10
EMBED_DESCRIPTION = 4096
MESSAGE_EMBED_CHARS = 5800  # Discord allows 6000 per message, titles included
PARALLEL_DOWNLOADS = 4
MEDALS = ("🥇", "🥈", "🥉")
SPEED_NAMES = {"turbo": "Turbo", "balanced": "Balanced", "quality": "Quality"}


def header(session: SessionRecord, *, content_intent: bool, bot_id: int) -> discord.Embed:
    """The thread's first message: the title, the defaults, who started it and how to add ideas."""
    defaults = session.defaults
    how = (
        "Click **Add idea** (a prompt, and a reference image if you like), or just post your idea as a message here"
        if content_intent
        else f"Click **Add idea** (a prompt, and a reference image if you like), or mention <@{bot_id}> with your idea"
    )
    embed = discord.Embed(
        title=f"🧠 {session.title}" + (" — ended" if session.ended else ""),
        description=(
            f"A brainstorm session started by <@{session.starter_id}>.\n{how}: each idea becomes an image, numbered "
            "#1, #2… Vote for your favourites with 👍. `/session sheet` shows everything side by side; "
            "`/session end` closes the session and posts the top 3."
        ),
        colour=discord.Colour.gold(),
    )
    embed.add_field(name="Size", value=imagine.SIZES.get(defaults.size or "", "Square HD (default)"), inline=True)
    embed.add_field(name="Speed", value=SPEED_NAMES.get(defaults.speed or "", "Balanced (default)"), inline=True)
    embed.add_field(name="Images per idea", value=str(defaults.count or 1), inline=True)
    embed.add_field(
        name="Style", value=summary.shorten(defaults.style, 1000) if defaults.style else "none", inline=False
    )
    if session.budget_cu is not None:
        embed.add_field(name="Budget", value=f"{session.budget_cu:g} CU for the whole session", inline=True)
    embed.set_footer(text=f"Session {session.thread_id}")
    return embed


def header_view(thread_id: int, *, ended: bool = False) -> discord.ui.View:
    """The header's Add idea button (disabled once the session ended); answered by the registered DynamicItem."""
    view = discord.ui.View(timeout=None)
    button = add_idea_button(thread_id)
    button.disabled = ended
    view.add_item(button)
    view.stop()
    return view


@dataclass
class Outgoing:
    """One message to post: embeds and files."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[discord.File] = field(default_factory=list)


async def first_images(bot: ScenarioBot, jobs: Sequence[JobRecord]) -> dict[str, bytes]:
    """Each result's first image, fetched from Scenario again (its URLs are temporary); a failed one is left out."""
    limit = asyncio.Semaphore(PARALLEL_DOWNLOADS)

    async def one(job: JobRecord) -> tuple[str, bytes | None]:
        async with limit:
            try:
                images = await bot.engine.images(job, first=1)
            except Exception as exc:  # one missing thumbnail must not lose the whole sheet
                log.warning("Could not fetch the image of job %s for a session sheet: %s", job.id, exc)
                return job.id, None
            return job.id, images[0].data if images else None

    found = await asyncio.gather(*(one(job) for job in jobs))
    return {job_id: data for job_id, data in found if data is not None}


async def sheet_messages(
    bot: ScenarioBot, session: SessionRecord, *, final: bool = False
) -> tuple[list[Outgoing], list[JobRecord], dict[str, int], dict[str, bytes]]:
    """The contact sheet (several images when there are many results) and its index, as messages to post.

    Also returns the results, their votes and their first images, for a summary."""
    results = summary.results(await bot.store.session_jobs(session.thread_id))
    votes = await bot.store.session_votes(session.thread_id)
    title = ("Final sheet — " if final else "") + session.title
    if not results:
        return [Outgoing(content=f"🗂️ **{title}**: no results yet.")], results, votes, {}
    images = await first_images(bot, results)
    tiles = [Tile(job.session_number or 0, images.get(job.id, b"")) for job in results]
    sheets = await asyncio.to_thread(contact_sheets, tiles, title=title)
    files = [discord.File(io.BytesIO(data), filename=f"sheet-{n}.png") for n, data in enumerate(sheets, start=1)]
    embeds = index_embeds(title, summary.index_lines(results, votes))
    messages = pack(embeds, files)
    messages[0].content = f"🗂️ **{title}** — {len(results)} result(s)"
    return messages, results, votes, images


def index_embeds(title: str, lines: Sequence[str]) -> list[discord.Embed]:
    """The index, one line per result, over as many embeds as its length needs."""
    embeds: list[discord.Embed] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > EMBED_DESCRIPTION:
            embeds.append(discord.Embed(description="\n".join(chunk)))
            chunk = []
        chunk.append(line[:EMBED_DESCRIPTION])
    if chunk:
        embeds.append(discord.Embed(description="\n".join(chunk)))
    embeds[0].title = f"Index — {summary.shorten(title, 200)}"
    return embeds


def pack(embeds: Sequence[discord.Embed], files: Sequence[discord.File]) -> list[Outgoing]:
    """Spread embeds and files over messages within Discord's limits (10 of each, 6000 embed characters)."""
    messages = [Outgoing()]
    for embed in embeds:
        current = messages[-1]
        used = sum(len(e) for e in current.embeds)
        if current.embeds and (len(current.embeds) >= MAX_EMBEDS or used + len(embed) > MESSAGE_EMBED_CHARS):
            messages.append(current := Outgoing())
        current.embeds.append(embed)
    for index, file in enumerate(files):
        slot = index // MAX_FILES
        while len(messages) <= slot:
            messages.append(Outgoing())
        messages[slot].files.append(file)
    return messages


def summary_message(
    session: SessionRecord,
    results: Sequence[JobRecord],
    votes: Mapping[str, int],
    images: Mapping[str, bytes],
    thread_url: str,
) -> Outgoing:
    """The end of a session, for its parent channel: the top 3 by votes with their images, and the thread."""
    best = summary.top(results, votes)
    lines = [
        f"{MEDALS[place]} **#{job.session_number}** by <@{job.user_id}> — 👍 {votes.get(job.id, 0)} — "
        f"“{summary.shorten(job.prompt, 80)}”"
        for place, job in enumerate(best)
    ]
    embed = discord.Embed(
        title=f"🏁 {summary.shorten(session.title, 200)} — session ended",
        description=("\n".join(lines) or "No results in this session.")
        + f"\n\n{len(results)} result(s) in all: [see the thread]({thread_url})",
        url=thread_url,
        colour=discord.Colour.gold(),
    )
    files = [
        discord.File(
            io.BytesIO(images[job.id]), filename=f"top-{place}-{job.session_number}.{_extension(images[job.id])}"
        )
        for place, job in enumerate(best, start=1)
        if job.id in images
    ]
    if files:
        embed.set_image(url=f"attachment://{files[0].filename}")
    return Outgoing(
        content=f"🏁 The brainstorm session **{session.title}** has ended: {thread_url}", embeds=[embed], files=files
    )


def _extension(data: bytes) -> str:
    return {"image/jpeg": "jpg", "image/webp": "webp"}.get(sniff_image_mime(data) or "", "png")
