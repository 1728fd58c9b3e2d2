"""The server's rules for a new job: allowed channels, blocked terms, and its limits.

Called from `JobQueue.admit` (so every way into the engine obeys them: commands, buttons, forms, threads),
and by the cogs before they spend anything on a request (uploads), with the same record.
"""

from __future__ import annotations

from bot.errors import InvalidInputError, NotAllowedError, QueueFullError
from bot.jobs import texts
from bot.jobs.models import JobRecord
from bot.servers._settings import ServerSettings
from bot.servers._words import TermTimeout, first_match


def screen(job: JobRecord, settings: ServerSettings, *, queued_here: int) -> None:
    """Raise the private reply for a job this server's settings refuse; `queued_here` counts the requester's
    jobs already waiting in this server."""
    if job.guild_id is None:
        return
    if not settings.channel_allowed(job.channel_id, job.channel_parent_id):
        raise NotAllowedError(texts.channel_not_allowed(settings.allowed_channels))
    try:
        blocked = first_match(job.prompt, settings.blocked_words)
    except TermTimeout:
        blocked = "?"
    if blocked is not None:
        raise InvalidInputError(texts.BLOCKED_TERM)
    count = job.inputs.get("numOutputs")
    if settings.max_count is not None and isinstance(count, int) and count > settings.max_count:
        raise InvalidInputError(texts.too_many_images(count, settings.max_count))
    if settings.max_queued_per_user is not None and queued_here >= settings.max_queued_per_user:
        raise QueueFullError(texts.queue_full(settings.max_queued_per_user, server=True))
