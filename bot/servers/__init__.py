"""Per-server settings (`/config`): the stored document, blocked terms, and the admission rule they make."""

from bot.servers._admission import screen
from bot.servers._audit import audit_line
from bot.servers._settings import MAX_ALLOWED_CHANNELS, MAX_BLOCKED_TERMS, NsfwPolicy, ServerDefaults, ServerSettings
from bot.servers._words import first_match, is_pattern, normalize

__all__ = [
    "MAX_ALLOWED_CHANNELS",
    "MAX_BLOCKED_TERMS",
    "NsfwPolicy",
    "ServerDefaults",
    "ServerSettings",
    "audit_line",
    "first_match",
    "is_pattern",
    "normalize",
    "screen",
]
