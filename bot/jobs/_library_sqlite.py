"""The library tables (saved characters, saved styles, personal defaults) on SQLite: `SQLiteJobStore` uses this.

Names are unique per owner and per server, compared case-insensitively: two unique indexes on the casefolded
`name_key` (a NULL `guild_id`, a personal item, never clashes in the second) refuse a clash atomically.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.clock import utcnow
from bot.jobs import _library_records as rec
from bot.jobs._records import as_utc
from bot.jobs._remembered import Remembered
from bot.jobs._sqlite_connection import Connection
from bot.library.models import NameTakenError, Preferences, SavedCharacter, SavedStyle, name_key

MIGRATION = """
CREATE TABLE characters (
    id TEXT PRIMARY KEY,
    owner_id INTEGER NOT NULL,
    guild_id INTEGER,                          -- the server it is shared with; NULL: its owner's alone
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,                    -- the name casefolded: names are unique case-insensitively
    asset_id TEXT NOT NULL,                    -- the Scenario asset, uploaded once
    thumbnail BLOB,                            -- a small JPEG for /characters list
    source_job_id TEXT,                        -- the result it was saved from, if any
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX characters_owner_name ON characters (owner_id, name_key);
CREATE UNIQUE INDEX characters_guild_name ON characters (guild_id, name_key);
CREATE TABLE styles (
    id TEXT PRIMARY KEY,
    owner_id INTEGER NOT NULL,
    guild_id INTEGER,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    text TEXT NOT NULL,                        -- the template; {prompt} marks where the prompt goes
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX styles_owner_name ON styles (owner_id, name_key);
CREATE UNIQUE INDEX styles_guild_name ON styles (guild_id, name_key);
CREATE TABLE preferences (
    user_id INTEGER PRIMARY KEY,
    speed TEXT,                                -- option values (turbo, square_hd…); NULL: not set
    size TEXT,
    count INTEGER,
    expand_prompt INTEGER,
    updated_at TEXT NOT NULL
);
ALTER TABLE jobs ADD COLUMN style_name TEXT;
ALTER TABLE jobs ADD COLUMN character_name TEXT;
ALTER TABLE jobs ADD COLUMN option_sources TEXT NOT NULL DEFAULT '{}';
"""
"""Schema version 7: the library, and what a result shows of it."""


def _iso(value: datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")


class SQLiteLibrary:
    """Library reads and writes; each is one committed statement on the store's connection."""

    _conn: Connection  # the store's open connection (`SQLiteJobStore._conn`)
    _preference_rows: Remembered[int, sqlite3.Row | None]  # kept by `SQLiteJobStore`

    # --- characters -------------------------------------------------------------------------------------

    async def save_character(self, character: SavedCharacter) -> None:
        """Insert a character; `NameTakenError` when its owner or its server already has that name."""
        values = rec.character_values(character)
        values[-1] = _iso(character.created_at)
        await self._library_insert("characters", rec.CHARACTER_COLUMNS, values, character.name)

    async def characters_for(
        self, user_id: int, guild_id: int | None, *, thumbnails: bool = False
    ) -> Sequence[SavedCharacter]:
        """The person's own characters and those shared with this server, by name."""
        columns = rec.CHARACTER_COLUMNS if thumbnails else rec.CHARACTER_COLUMNS_NO_THUMBNAIL
        rows = await self._library_visible("characters", columns, user_id, guild_id)
        return [rec.to_character(row, datetime.fromisoformat) for row in rows]

    async def get_character(self, character_id: str) -> SavedCharacter | None:
        rows = await self._conn.execute_fetchall(
            f"SELECT {rec.CHARACTER_COLUMNS} FROM characters WHERE id = ?", (character_id,)
        )
        return rec.to_character(rows[0], datetime.fromisoformat) if rows else None

    async def rename_character(self, character_id: str, name: str) -> SavedCharacter | None:
        """Give a character a new name (None if it is gone); `NameTakenError` on a clash."""
        try:
            rows = await self._conn.execute_fetchall(
                f"UPDATE characters SET name = ?, name_key = ? WHERE id = ? RETURNING {rec.CHARACTER_COLUMNS}",
                (name, name_key(name), character_id),
            )
        except sqlite3.IntegrityError as exc:
            raise NameTakenError(name) from exc
        return rec.to_character(rows[0], datetime.fromisoformat) if rows else None

    async def delete_character(self, character_id: str) -> bool:
        return await self._library_delete("characters", character_id)

    # --- styles -----------------------------------------------------------------------------------------

    async def save_style(self, style: SavedStyle) -> None:
        """Insert a style; `NameTakenError` when its owner or its server already has that name."""
        values = rec.style_values(style)
        values[-1] = _iso(style.created_at)
        await self._library_insert("styles", rec.STYLE_COLUMNS, values, style.name)

    async def styles_for(self, user_id: int, guild_id: int | None) -> Sequence[SavedStyle]:
        """The person's own styles and those shared with this server, by name."""
        rows = await self._library_visible("styles", rec.STYLE_COLUMNS, user_id, guild_id)
        return [rec.to_style(row, datetime.fromisoformat) for row in rows]

    async def get_style(self, style_id: str) -> SavedStyle | None:
        rows = await self._conn.execute_fetchall(f"SELECT {rec.STYLE_COLUMNS} FROM styles WHERE id = ?", (style_id,))
        return rec.to_style(rows[0], datetime.fromisoformat) if rows else None

    async def delete_style(self, style_id: str) -> bool:
        return await self._library_delete("styles", style_id)

    # --- preferences ------------------------------------------------------------------------------------

    async def get_preferences(self, user_id: int) -> Preferences:
        """The person's defaults (all None when they never set any); remembered (`_remembered`)."""

        async def load() -> sqlite3.Row | None:
            rows = await self._conn.execute_fetchall(
                f"SELECT {rec.PREFERENCE_COLUMNS} FROM preferences WHERE user_id = ?", (user_id,)
            )
            return rows[0] if rows else None

        return rec.to_preferences(user_id, await self._preference_rows.get(user_id, load))

    async def set_preferences(self, preferences: Preferences) -> None:
        """Store the person's defaults as given (every option, set or not), replacing what was there."""
        p = preferences
        expand = None if p.expand_prompt is None else int(p.expand_prompt)
        await self._preference_rows.write(
            p.user_id,
            lambda: self._conn.execute(
                f"INSERT INTO preferences ({rec.PREFERENCE_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET speed = excluded.speed, size = excluded.size,"
                " count = excluded.count, expand_prompt = excluded.expand_prompt, updated_at = excluded.updated_at",
                (p.user_id, p.speed, p.size, p.count, expand, _iso(utcnow())),
            ),
        )

    async def delete_preferences(self, user_id: int) -> None:
        await self._preference_rows.write(
            user_id, lambda: self._conn.execute("DELETE FROM preferences WHERE user_id = ?", (user_id,))
        )

    # --- shared -----------------------------------------------------------------------------------------

    async def _library_insert(self, table: str, columns: str, values: list[Any], name: str) -> None:
        marks = ", ".join("?" * len(values))
        try:
            await self._conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        except sqlite3.IntegrityError as exc:
            raise NameTakenError(name) from exc

    async def _library_visible(self, table: str, columns: str, user_id: int, guild_id: int | None) -> list[sqlite3.Row]:
        return list(
            await self._conn.execute_fetchall(
                f"SELECT {columns} FROM {table} WHERE owner_id = ? OR (guild_id IS NOT NULL AND guild_id = ?)"
                " ORDER BY name_key, id",
                (user_id, guild_id),
            )
        )

    async def _library_delete(self, table: str, item_id: str) -> bool:
        rows = await self._conn.execute_fetchall(f"DELETE FROM {table} WHERE id = ? RETURNING id", (item_id,))
        return bool(rows)
