"""Autocomplete: names that start with what was typed first, then names that contain it; at most 25."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from bot.library.models import name_key

T = TypeVar("T")
MAX_CHOICES = 25
"""Discord shows at most 25 autocomplete choices."""


def best_matches(items: Iterable[T], typed: str, *, name: Callable[[T], str], limit: int = MAX_CHOICES) -> list[T]:
    """Items whose name starts with `typed` (case-insensitive), then those that contain it, each group in
    alphabetical order; everything (alphabetically) when nothing was typed yet."""
    wanted = name_key(typed or "")
    prefix: list[T] = []
    inside: list[T] = []
    for item in sorted(items, key=lambda it: name_key(name(it))):
        key = name_key(name(item))
        if key.startswith(wanted):
            prefix.append(item)
        elif wanted in key:
            inside.append(item)
    return (prefix + inside)[:limit]
