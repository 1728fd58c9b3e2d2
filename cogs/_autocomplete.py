"""Autocomplete for saved characters and styles: from the job store only (never Scenario), at most 25 choices,
names starting with what was typed first, then names containing it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.library.matching import best_matches
from bot.library.models import SavedCharacter, SavedStyle

if TYPE_CHECKING:
    from bot.app import ScenarioBot

log = logging.getLogger(__name__)

CHARACTER_STYLES = {"Auto": "Auto", "Fiction": "Fiction", "Realistic": "Realistic"}
"""/character's built-in character styles, which its `style` option offers beside the saved styles."""


def _label(item: SavedCharacter | SavedStyle, user_id: int) -> str:
    if not item.shared:
        return item.name
    return f"{item.name} · shared" + ("" if item.owner_id == user_id else " by the server")


def _choices(
    items: Iterable[SavedCharacter | SavedStyle], current: str, user_id: int
) -> list[app_commands.Choice[str]]:
    matches = best_matches(items, current, name=lambda item: item.name)
    return [app_commands.Choice(name=_label(item, user_id), value=item.name) for item in matches]


async def character_choices(
    interaction: discord.Interaction[ScenarioBot], current: str
) -> list[app_commands.Choice[str]]:
    """The requester's own characters and the server's shared ones."""
    try:
        items = await interaction.client.library.characters(interaction.user.id, interaction.guild_id)
    except Exception:
        log.exception("Character autocomplete failed")
        return []
    return _choices(items, current, interaction.user.id)


async def style_choices(
    interaction: discord.Interaction[ScenarioBot], current: str, *, built_in: bool = False
) -> list[app_commands.Choice[str]]:
    """The requester's own styles and the server's shared ones (with /character's built-in styles if asked)."""
    try:
        items = await interaction.client.library.styles(interaction.user.id, interaction.guild_id)
    except Exception:
        log.exception("Style autocomplete failed")
        items = []
    pairs = [(_label(item, interaction.user.id), item.name) for item in items]
    if built_in:
        pairs += [(f"{name} (character style)", value) for value, name in CHARACTER_STYLES.items()]
    matches = best_matches(pairs, current, name=lambda pair: pair[1])
    return [app_commands.Choice(name=label, value=value) for label, value in matches]
