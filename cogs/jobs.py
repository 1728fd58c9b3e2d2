"""/jobs, /history and /show: a requester's own jobs, past results, and re-posting one."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.jobs.delivery import Reply
from bot.jobs.models import ACTIVE_STATES, JobRecord, JobState
from bot.posting import channel_is_age_restricted
from cogs._common import CONTEXTS, INSTALLS, defer

if TYPE_CHECKING:
    from bot.app import ScenarioBot

STATE_EMOJI = {
    JobState.QUEUED: "⏳",
    JobState.SUBMITTING: "📨",
    JobState.RUNNING: "🎨",
    JobState.DELIVERING: "📤",
    JobState.UNDELIVERED: "📭",
    JobState.DELIVERED: "✅",
    JobState.FAILED: "❌",
    JobState.CANCELED: "🚫",
}
FINISHED = (JobState.DELIVERED, JobState.UNDELIVERED, JobState.FAILED, JobState.CANCELED)
HISTORY_PAGE = 10
RECENT = 5


def message_link(job: JobRecord) -> str | None:
    if not job.delivered_message_ids or job.channel_id is None:
        return None
    where = job.guild_id or "@me"
    return f"https://discord.com/channels/{where}/{job.channel_id}/{job.delivered_message_ids[0]}"


def describe(job: JobRecord, *, position: int | None = None, now: datetime | None = None) -> str:
    """One line per job: id, command, state (and place in line), prompt, age, link or reason."""
    prompt = discord.utils.escape_markdown(job.prompt.replace("\n", " "))
    prompt = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    state = job.state.value + (f" — #{position} in line" if position else "")
    when = discord.utils.format_dt(job.created_at, "R")
    line = f"{STATE_EMOJI[job.state]} `{job.id}` /{job.command.value} · **{state}** · {when}\n> {prompt}"
    if link := message_link(job):
        line += f"\n> [result]({link})"
    elif job.state in (JobState.FAILED, JobState.UNDELIVERED) and job.last_error:
        line += f"\n> {job.last_error[:200]}"
    return line


class Jobs(commands.Cog):
    """A requester's view of their jobs."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot

    @app_commands.command(name="jobs", description="Your queued, running and recent jobs; cancel a queued one")
    @app_commands.describe(cancel="The id of one of your queued jobs to cancel")
    @app_commands.allowed_installs(**INSTALLS)
    @app_commands.allowed_contexts(**CONTEXTS)
    async def jobs(self, interaction: discord.Interaction[ScenarioBot], cancel: str | None = None) -> None:
        """List the caller's jobs privately; with `cancel`, cancel one of their queued jobs first."""
        notice = ""
        if cancel:
            job = await self.bot.engine.cancel(cancel.strip(), interaction.user.id)
            notice = f"🚫 Canceled `{job.id}` — nothing was charged.\n\n"
        active = await self.bot.store.for_user(interaction.user.id, states=ACTIVE_STATES, limit=25)
        recent = await self.bot.store.for_user(interaction.user.id, states=FINISHED, limit=RECENT)
        lines = [describe(job, position=self.bot.engine.position(job.id)) for job in reversed(active)]
        text = notice + ("**Waiting and running**\n" + "\n".join(lines) if lines else "You have no jobs waiting.")
        if recent:
            text += "\n\n**Recent**\n" + "\n".join(describe(job) for job in recent)
        text += "\n\n-# Cancel a queued job with `/jobs cancel:<id>`. Scenario cannot stop a job once it is running."
        await interaction.response.send_message(
            text[:2000], ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @jobs.autocomplete("cancel")
    async def _queued_ids(
        self, interaction: discord.Interaction[ScenarioBot], current: str
    ) -> list[app_commands.Choice[str]]:
        queued = await self.bot.store.for_user(interaction.user.id, states=[JobState.QUEUED], limit=25)
        return [
            app_commands.Choice(name=f"{job.id} — {job.prompt[:80]}", value=job.id)
            for job in queued
            if job.id.startswith(current.strip())
        ]

    @app_commands.command(name="history", description="Your past results, newest first")
    @app_commands.describe(page="Which page (10 jobs per page)")
    @app_commands.allowed_installs(**INSTALLS)
    @app_commands.allowed_contexts(**CONTEXTS)
    async def history(
        self, interaction: discord.Interaction[ScenarioBot], page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        """A private, paged list of the caller's jobs with prompt, status and links."""
        jobs = await self.bot.store.for_user(
            interaction.user.id, limit=HISTORY_PAGE + 1, offset=(page - 1) * HISTORY_PAGE
        )
        more = len(jobs) > HISTORY_PAGE
        jobs = jobs[:HISTORY_PAGE]
        if not jobs:
            text = "You have no jobs yet. Try `/imagine`!" if page == 1 else f"There is no page {page}."
        else:
            text = f"**Your jobs — page {page}**\n" + "\n".join(describe(job) for job in jobs)
            if more:
                text += f"\n\n-# More: `/history page:{page + 1}`"
            text += "\n-# Re-post any result with `/show job_id:<id>`."
        await interaction.response.send_message(
            text[:2000], ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.command(name="show", description="Post a past result again, with working buttons")
    @app_commands.describe(job_id="The job id shown under the result or in /history")
    @app_commands.allowed_installs(**INSTALLS)
    @app_commands.allowed_contexts(**CONTEXTS)
    async def show(self, interaction: discord.Interaction[ScenarioBot], job_id: str) -> None:
        """Re-post a result through the engine: the same delivery path, lock and size handling as the first post."""
        job = await self.bot.engine.find_visible(job_id.strip(), interaction.user.id, interaction.guild_id)
        self.bot.engine.check_repostable(job)
        await defer(interaction)
        reply = Reply(
            interaction.application_id,
            interaction.token,
            interaction.expires_at,
            interaction.filesize_limit,
            guild_id=interaction.guild_id,
            age_restricted=channel_is_age_restricted(interaction.channel),
        )
        await self.bot.engine.repost(job, reply)


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Jobs(bot))
