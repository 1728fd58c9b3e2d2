"""One server's settings, as `/config` edits them and the job store keeps them (one JSON document per server)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

MAX_BLOCKED_TERMS = 200
MAX_ALLOWED_CHANNELS = 50


class NsfwPolicy(StrEnum):
    """What happens to images Scenario labels NSFW (`asset.nsfw`)."""

    SPOILER = "spoiler"
    """Posted as spoilers (the default)."""
    AGE_RESTRICTED_ONLY = "age_restricted_only"
    """Posted only in age-restricted channels; elsewhere sent to the requester by DM, with a note in the channel."""
    BLOCK = "block"
    """Not posted; the requester is told."""


class ServerDefaults(BaseModel):
    """A server's defaults for /imagine (and the options /character shares). None = the model's own default."""

    speed: str | None = None
    size: str | None = None
    count: int | None = None
    expand_prompt: bool | None = None

    def as_options(self) -> dict[str, object]:
        """The set defaults, by option name."""
        return {name: value for name, value in self.model_dump().items() if value is not None}


class ServerSettings(BaseModel):
    """Everything `/config` sets for one server. A server that never used `/config` has these defaults."""

    defaults: ServerDefaults = Field(default_factory=ServerDefaults)
    allowed_channels: list[int] = Field(default_factory=list)
    """Empty: the commands answer in every channel (that Discord's own permissions allow)."""
    max_count: int | None = None
    """Images per job; None = the model's limit."""
    max_queued_per_user: int | None = None
    """Jobs one person may have waiting in this server; None = the bot's `MAX_QUEUED_PER_USER`."""
    blocked_words: list[str] = Field(default_factory=list)
    """Whole words, or `/regular expressions/`; matched case-insensitively."""
    nsfw_policy: NsfwPolicy = NsfwPolicy.SPOILER
    audit_channel_id: int | None = None

    def channel_allowed(self, channel_id: int | None, parent_id: int | None = None) -> bool:
        """Whether a command may run in this channel; a thread counts as allowed when its parent channel is."""
        if not self.allowed_channels:
            return True
        return channel_id in self.allowed_channels or (parent_id is not None and parent_id in self.allowed_channels)
