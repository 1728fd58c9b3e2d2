"""What both store backends share for the library tables: columns, and rows back into library objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.jobs._records import Row, as_utc
from bot.library.models import Preferences, SavedCharacter, SavedStyle

CHARACTER_COLUMNS = "id, owner_id, guild_id, name, name_key, asset_id, thumbnail, source_job_id, created_at"
CHARACTER_COLUMNS_NO_THUMBNAIL = CHARACTER_COLUMNS.replace("thumbnail", "NULL AS thumbnail")
STYLE_COLUMNS = "id, owner_id, guild_id, name, name_key, text, created_at"
PREFERENCE_COLUMNS = "user_id, speed, size, count, expand_prompt"


def character_values(c: SavedCharacter) -> list[Any]:
    """The values of `CHARACTER_COLUMNS` (created_at as given: each backend encodes it)."""
    return [c.id, c.owner_id, c.guild_id, c.name, c.key, c.asset_id, c.thumbnail, c.source_job_id, c.created_at]


def style_values(s: SavedStyle) -> list[Any]:
    return [s.id, s.owner_id, s.guild_id, s.name, s.key, s.text, s.created_at]


def to_character(row: Row, read_datetime: Callable[[Any], datetime] | None = None) -> SavedCharacter:
    thumbnail = row["thumbnail"]
    return SavedCharacter(
        id=row["id"],
        owner_id=row["owner_id"],
        guild_id=row["guild_id"],
        name=row["name"],
        asset_id=row["asset_id"],
        thumbnail=bytes(thumbnail) if thumbnail is not None else None,
        source_job_id=row["source_job_id"],
        created_at=_when(row["created_at"], read_datetime),
    )


def to_style(row: Row, read_datetime: Callable[[Any], datetime] | None = None) -> SavedStyle:
    return SavedStyle(
        id=row["id"],
        owner_id=row["owner_id"],
        guild_id=row["guild_id"],
        name=row["name"],
        text=row["text"],
        created_at=_when(row["created_at"], read_datetime),
    )


def to_preferences(user_id: int, row: Row | None) -> Preferences:
    if row is None:
        return Preferences(user_id)
    expand = row["expand_prompt"]
    return Preferences(
        user_id=user_id,
        speed=row["speed"],
        size=row["size"],
        count=row["count"],
        expand_prompt=None if expand is None else bool(expand),
    )


def _when(value: Any, read_datetime: Callable[[Any], datetime] | None) -> datetime:
    return as_utc(read_datetime(value) if read_datetime else value)
