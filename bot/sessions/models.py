"""The durable session record: where it lives, who started it, its defaults and budget, and whether it ended."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bot.clock import utcnow


class SessionDefaults(BaseModel):
    """What every idea of the session uses unless it says otherwise; None: the model's own default."""

    size: str | None = None
    """A `/imagine` size value (`square_hd`, `landscape_16_9`…)."""
    speed: str | None = None
    """`turbo`, `balanced` or `quality` (mapped to each model's own words)."""
    count: int | None = None
    style: str | None = None
    """Text appended to every prompt of the session."""


class SessionRecord(BaseModel):
    """One brainstorm session: a public thread whose ideas become numbered, votable results."""

    thread_id: int
    """The thread's id, which is also the session's id (jobs posted in it carry it as `session_id`)."""
    guild_id: int
    channel_id: int
    """The channel the thread was opened in, where the summary goes at the end."""
    title: str
    starter_id: int
    starter_name: str = ""
    defaults: SessionDefaults = Field(default_factory=SessionDefaults)
    budget_cu: float | None = None
    """A cap on the creative units the whole session may spend; None: no cap of its own."""
    header_message_id: int | None = None
    """The thread's first message, with the Add idea button (disabled when the session ends)."""
    last_number: int = 0
    """The number the latest admitted idea got (the next one gets `last_number + 1`)."""
    created_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None
