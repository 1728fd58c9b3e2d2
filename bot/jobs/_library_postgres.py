"""The library tables (saved characters, saved styles, personal defaults) on PostgreSQL: `PostgresJobStore`
uses this. Names are unique per owner and per server, case-insensitively (see `_library_sqlite`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bot.clock import utcnow
from bot.jobs import _library_records as rec
from bot.jobs._records import as_utc
from bot.library.models import NameTakenError, Preferences, SavedCharacter, SavedStyle, name_key

MIGRATION = """
CREATE TABLE characters (
    id text PRIMARY KEY,
    owner_id bigint NOT NULL,
    guild_id bigint,                           -- the server it is shared with; NULL: its owner's alone
    name text NOT NULL,
    name_key text NOT NULL,                    -- the name casefolded: names are unique case-insensitively
    asset_id text NOT NULL,                    -- the Scenario asset, uploaded once
    thumbnail bytea,                           -- a small JPEG for /characters list
    source_job_id text,                        -- the result it was saved from, if any
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX characters_owner_name ON characters (owner_id, name_key);
CREATE UNIQUE INDEX characters_guild_name ON characters (guild_id, name_key);
CREATE TABLE styles (
    id text PRIMARY KEY,
    owner_id bigint NOT NULL,
    guild_id bigint,
    name text NOT NULL,
    name_key text NOT NULL,
    text text NOT NULL,                        -- the template; {prompt} marks where the prompt goes
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX styles_owner_name ON styles (owner_id, name_key);
CREATE UNIQUE INDEX styles_guild_name ON styles (guild_id, name_key);
CREATE TABLE preferences (
    user_id bigint PRIMARY KEY,
    speed text,                                -- option values (turbo, square_hd…); NULL: not set
    size text,
    count integer,
    expand_prompt boolean,
    updated_at timestamptz NOT NULL
);
ALTER TABLE jobs
    ADD COLUMN style_name text,
    ADD COLUMN character_name text,
    ADD COLUMN option_sources jsonb NOT NULL DEFAULT '{}';
"""
"""Schema version 6: the library, and what a result shows of it."""


class PostgresLibrary:
    """Library reads and writes; each is one statement on a pooled connection."""

    _db: asyncpg.Pool  # the store's open pool (`PostgresJobStore._db`)

    # --- characters -------------------------------------------------------------------------------------

    async def save_character(self, character: SavedCharacter) -> None:
        """Insert a character; `NameTakenError` when its owner or its server already has that name."""
        values = rec.character_values(character)
        values[-1] = as_utc(character.created_at)
        await self._library_insert("characters", rec.CHARACTER_COLUMNS, values, character.name)

    async def characters_for(
        self, user_id: int, guild_id: int | None, *, thumbnails: bool = False
    ) -> Sequence[SavedCharacter]:
        """The person's own characters and those shared with this server, by name."""
        columns = rec.CHARACTER_COLUMNS if thumbnails else rec.CHARACTER_COLUMNS_NO_THUMBNAIL
        rows = await self._library_visible("characters", columns, user_id, guild_id)
        return [rec.to_character(row) for row in rows]

    async def get_character(self, character_id: str) -> SavedCharacter | None:
        row = await self._db.fetchrow(f"SELECT {rec.CHARACTER_COLUMNS} FROM characters WHERE id = $1", character_id)
        return rec.to_character(row) if row is not None else None

    async def rename_character(self, character_id: str, name: str) -> SavedCharacter | None:
        """Give a character a new name (None if it is gone); `NameTakenError` on a clash."""
        try:
            row = await self._db.fetchrow(
                f"UPDATE characters SET name = $1, name_key = $2 WHERE id = $3 RETURNING {rec.CHARACTER_COLUMNS}",
                name,
                name_key(name),
                character_id,
            )
        except asyncpg.UniqueViolationError as exc:
            raise NameTakenError(name) from exc
        return rec.to_character(row) if row is not None else None

    async def delete_character(self, character_id: str) -> bool:
        return await self._library_delete("characters", character_id)

    # --- styles -----------------------------------------------------------------------------------------

    async def save_style(self, style: SavedStyle) -> None:
        """Insert a style; `NameTakenError` when its owner or its server already has that name."""
        values = rec.style_values(style)
        values[-1] = as_utc(style.created_at)
        await self._library_insert("styles", rec.STYLE_COLUMNS, values, style.name)

    async def styles_for(self, user_id: int, guild_id: int | None) -> Sequence[SavedStyle]:
        """The person's own styles and those shared with this server, by name."""
        rows = await self._library_visible("styles", rec.STYLE_COLUMNS, user_id, guild_id)
        return [rec.to_style(row) for row in rows]

    async def get_style(self, style_id: str) -> SavedStyle | None:
        row = await self._db.fetchrow(f"SELECT {rec.STYLE_COLUMNS} FROM styles WHERE id = $1", style_id)
        return rec.to_style(row) if row is not None else None

    async def delete_style(self, style_id: str) -> bool:
        return await self._library_delete("styles", style_id)

    # --- preferences ------------------------------------------------------------------------------------

    async def get_preferences(self, user_id: int) -> Preferences:
        """The person's defaults (all None when they never set any)."""
        row = await self._db.fetchrow(f"SELECT {rec.PREFERENCE_COLUMNS} FROM preferences WHERE user_id = $1", user_id)
        return rec.to_preferences(user_id, row)

    async def set_preferences(self, preferences: Preferences) -> None:
        """Store the person's defaults as given (every option, set or not), replacing what was there."""
        p = preferences
        await self._db.execute(
            f"INSERT INTO preferences ({rec.PREFERENCE_COLUMNS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (user_id) DO UPDATE SET speed = excluded.speed, size = excluded.size,"
            " count = excluded.count, expand_prompt = excluded.expand_prompt, updated_at = excluded.updated_at",
            p.user_id,
            p.speed,
            p.size,
            p.count,
            p.expand_prompt,
            utcnow(),
        )

    async def delete_preferences(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM preferences WHERE user_id = $1", user_id)

    # --- shared -----------------------------------------------------------------------------------------

    async def _library_insert(self, table: str, columns: str, values: list[Any], name: str) -> None:
        marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        try:
            await self._db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", *values)
        except asyncpg.UniqueViolationError as exc:
            raise NameTakenError(name) from exc

    async def _library_visible(
        self, table: str, columns: str, user_id: int, guild_id: int | None
    ) -> list[asyncpg.Record]:
        return await self._db.fetch(
            f"SELECT {columns} FROM {table} WHERE owner_id = $1 OR (guild_id IS NOT NULL AND guild_id = $2)"
            " ORDER BY name_key, id",
            user_id,
            guild_id,
        )

    async def _library_delete(self, table: str, item_id: str) -> bool:
        return await self._db.fetchval(f"DELETE FROM {table} WHERE id = $1 RETURNING id", item_id) is not None
