"""Posting to Discord: progress edits, result messages with files, and the fallbacks when a token expires."""

from bot.posting._delivery import DiscordDelivery
from bot.posting._nsfw import channel_is_age_restricted
from bot.posting._render import MODEL_NAMES, render_result

__all__ = ["MODEL_NAMES", "DiscordDelivery", "channel_is_age_restricted", "render_result"]
