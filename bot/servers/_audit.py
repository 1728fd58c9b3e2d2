"""The audit channel's line for a job that came to rest: who, which command, the prompt, the cost, how it
ended, and a link to the result."""

from __future__ import annotations

from bot.jobs.models import JobRecord, JobState

PROMPT_LIMIT = 300
OUTCOMES = {
    JobState.DELIVERED: "✅ delivered",
    JobState.UNDELIVERED: "📭 made but not delivered",
    JobState.FAILED: "❌ failed",
    JobState.CANCELED: "🚫 canceled",
}


def result_link(job: JobRecord) -> str | None:
    """A link to the posted result, when it was posted in the server (a DM has none others can open)."""
    if job.state is not JobState.DELIVERED or not job.delivered_message_ids or job.guild_id is None:
        return None
    if job.delivered_via not in ("interaction", "channel") or job.channel_id is None:
        return None
    return f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.delivered_message_ids[-1]}"


def audit_line(job: JobRecord) -> str:
    """One line (a few at most) for the audit channel; mentions in it ping nobody (the caller sends none)."""
    prompt = " ".join(job.prompt.split())
    if len(prompt) > PROMPT_LIMIT:
        prompt = prompt[: PROMPT_LIMIT - 1] + "…"
    prompt = prompt.replace("`", "ˋ")
    cost = f"{job.cost:g} CU" if job.cost is not None else "no charge"
    outcome = OUTCOMES.get(job.state, job.state.value)
    link = result_link(job)
    where = f"[result]({link})" if link else ("sent by DM" if job.delivered_via == "dm" else None)
    if job.state is not JobState.DELIVERED and job.last_error:
        reason = " ".join(job.last_error.split())
        where = reason if len(reason) <= 200 else reason[:199] + "…"
    parts = [outcome, f"<@{job.user_id}>", f"/{job.command.value}", f"`{prompt}`", cost]
    if where:
        parts.append(where)
    parts.append(f"job `{job.id}`")
    return " · ".join(parts)
