"""The library's rules in one place: who sees, saves, shares, renames and deletes characters and styles.

The store keeps the records and refuses name clashes atomically; here the names are checked, sharing is
allowed only in a server and to members with Manage Server (the cog says whether the person has it), and
a name is looked up among what the person may use: their own first, then what the server shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from bot.errors import InvalidInputError, NotAllowedError
from bot.jobs.store import JobStore
from bot.library import texts
from bot.library.models import (
    STYLE_TEXT_MAX_LENGTH,
    NameTakenError,
    Preferences,
    SavedCharacter,
    SavedStyle,
    apply_style,
    check_name,
    name_key,
)

Item = TypeVar("Item", SavedCharacter, SavedStyle)
RESERVED_STYLE_NAMES = frozenset({"auto", "fiction", "realistic"})
"""/character's `style` also takes its built-in character styles: a saved style may not hide one."""


class Library:
    """Saved characters, saved styles and personal defaults, on the job store."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    # -- characters ---------------------------------------------------------------------------------------
    async def check_new_character(
        self, owner_id: int, guild_id: int | None, name: str, *, shared: bool, may_manage: bool
    ) -> str:
        """The clean name, if a character may be saved under it here (checked before anything is uploaded)."""
        name = check_name(name, "character")
        _check_share("character", guild_id, shared=shared, may_manage=may_manage)
        existing = await self.store.characters_for(owner_id, guild_id if shared else None)
        if any(c.key == name_key(name) for c in existing):
            raise InvalidInputError(texts.name_taken("character", name, shared))
        return name

    async def save_character(
        self,
        owner_id: int,
        guild_id: int | None,
        name: str,
        asset_id: str,
        *,
        shared: bool = False,
        may_manage: bool = False,
        thumbnail: bytes | None = None,
        source_job_id: str | None = None,
    ) -> SavedCharacter:
        """Keep a Scenario asset under a name (personal, or shared with the server)."""
        name = check_name(name, "character")
        _check_share("character", guild_id, shared=shared, may_manage=may_manage)
        character = SavedCharacter(
            owner_id=owner_id,
            name=name,
            asset_id=asset_id,
            guild_id=guild_id if shared else None,
            thumbnail=thumbnail,
            source_job_id=source_job_id,
        )
        try:
            await self.store.save_character(character)
        except NameTakenError:
            raise InvalidInputError(texts.name_taken("character", name, shared)) from None
        return character

    async def characters(
        self, user_id: int, guild_id: int | None, *, thumbnails: bool = False
    ) -> Sequence[SavedCharacter]:
        """What this person may use here: their own, and the server's shared ones."""
        return await self.store.characters_for(user_id, guild_id, thumbnails=thumbnails)

    async def find_character(self, user_id: int, guild_id: int | None, name: str) -> SavedCharacter:
        """The character this person means by `name` here; their own wins over a shared one."""
        return _find("character", await self.characters(user_id, guild_id), user_id, name)

    async def rename_character(
        self, user_id: int, guild_id: int | None, name: str, new_name: str, *, may_manage: bool
    ) -> tuple[SavedCharacter, SavedCharacter]:
        """The character before and after its new name."""
        character = await self.find_character(user_id, guild_id, name)
        _check_manager("character", character, user_id, guild_id, may_manage, "rename")
        new_name = check_name(new_name, "character")
        try:
            renamed = await self.store.rename_character(character.id, new_name)
        except NameTakenError:
            raise InvalidInputError(texts.name_taken("character", new_name, character.shared)) from None
        if renamed is None:
            raise InvalidInputError(texts.not_found("character", name))
        return character, renamed

    async def delete_character(
        self, user_id: int, guild_id: int | None, name: str, *, may_manage: bool
    ) -> SavedCharacter:
        character = await self.find_character(user_id, guild_id, name)
        _check_manager("character", character, user_id, guild_id, may_manage, "delete")
        await self.store.delete_character(character.id)
        return character

    # -- styles -------------------------------------------------------------------------------------------
    async def save_style(
        self, owner_id: int, guild_id: int | None, name: str, text: str, *, shared: bool, may_manage: bool
    ) -> SavedStyle:
        name = check_name(name, "style")
        if name_key(name) in RESERVED_STYLE_NAMES:
            raise InvalidInputError(texts.reserved_style_name(name))
        text = (text or "").strip()
        if not text:
            raise InvalidInputError(texts.STYLE_TEXT_EMPTY)
        if len(text) > STYLE_TEXT_MAX_LENGTH:
            raise InvalidInputError(
                f"The style text is {len(text)} characters long; the limit is {STYLE_TEXT_MAX_LENGTH}."
            )
        if "\x00" in text:
            raise InvalidInputError("The style text contains a NUL character, which cannot be sent. Remove it.")
        _check_share("style", guild_id, shared=shared, may_manage=may_manage)
        style = SavedStyle(owner_id=owner_id, name=name, text=text, guild_id=guild_id if shared else None)
        try:
            await self.store.save_style(style)
        except NameTakenError:
            raise InvalidInputError(texts.name_taken("style", name, shared)) from None
        return style

    async def styles(self, user_id: int, guild_id: int | None) -> Sequence[SavedStyle]:
        return await self.store.styles_for(user_id, guild_id)

    async def find_style(self, user_id: int, guild_id: int | None, name: str) -> SavedStyle:
        return _find("style", await self.styles(user_id, guild_id), user_id, name)

    async def delete_style(self, user_id: int, guild_id: int | None, name: str, *, may_manage: bool) -> SavedStyle:
        style = await self.find_style(user_id, guild_id, name)
        _check_manager("style", style, user_id, guild_id, may_manage, "delete")
        await self.store.delete_style(style.id)
        return style

    # -- personal defaults --------------------------------------------------------------------------------
    async def preferences(self, user_id: int) -> Preferences:
        return await self.store.get_preferences(user_id)

    async def prefer(self, user_id: int, *, reset: bool = False, **values: object) -> Preferences:
        """Set the given options (None: unchanged), after forgetting everything when `reset`."""
        current = Preferences(user_id) if reset else await self.store.get_preferences(user_id)
        chosen = {**current.values(), **{k: v for k, v in values.items() if v is not None}}
        updated = Preferences(user_id, **chosen)  # type: ignore[arg-type]
        if updated.values():
            await self.store.set_preferences(updated)
        else:
            await self.store.delete_preferences(user_id)
        return updated


def styled_prompt(style: SavedStyle | None, prompt: str) -> str:
    """The prompt as it will be sent (unchanged without a style)."""
    return apply_style(style.text, prompt) if style is not None else prompt


def _check_share(kind: str, guild_id: int | None, *, shared: bool, may_manage: bool) -> None:
    if not shared:
        return
    if guild_id is None:
        raise InvalidInputError(texts.share_needs_a_server(kind))
    if not may_manage:
        raise NotAllowedError(texts.share_needs_manage_server(kind))


def _find(kind: str, items: Sequence[Item], user_id: int, name: str) -> Item:
    key = name_key(name or "")
    matches = sorted((item for item in items if item.key == key), key=lambda item: item.owner_id != user_id)
    if not matches:
        raise InvalidInputError(texts.not_found(kind, " ".join((name or "").split())))
    return matches[0]


def _check_manager(
    kind: str, item: SavedCharacter | SavedStyle, user_id: int, guild_id: int | None, may_manage: bool, action: str
) -> None:
    if item.owner_id == user_id:
        return
    if item.guild_id is not None and item.guild_id == guild_id and may_manage:
        return
    raise NotAllowedError(texts.not_yours(kind, item.name, action))
