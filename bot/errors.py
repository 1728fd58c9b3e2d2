"""Errors whose message is meant for the person who asked: short, specific, and safe to show."""

from __future__ import annotations


class UserFacingError(Exception):
    """An error the requester can act on; `str(error)` is the whole reply they see."""


class InvalidInputError(UserFacingError):
    """An option, prompt or attachment was refused before anything was spent."""


class QueueFullError(UserFacingError):
    """The requester already has as many jobs waiting as the bot allows."""


class ShuttingDownError(UserFacingError):
    """The bot is restarting and takes no new jobs for the moment."""


class NotAllowedError(UserFacingError):
    """The person may not do this (for example delete someone else's result)."""
