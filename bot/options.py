"""Command options from layers of defaults: the first layer that sets an option wins.

The layers, in precedence order: the option the requester gave, then (as they are added) the person's own
defaults, then the server's `/config defaults`, and last the model's default (an option left unset, so
Scenario applies its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def resolve(
    explicit: Mapping[str, Any], *layers: Mapping[str, Any], names: Iterable[str] | None = None
) -> dict[str, Any]:
    """Each option (those of `explicit`, or `names`) from the first layer that sets it (not None); else None."""
    wanted = list(names) if names is not None else list(explicit)
    resolved: dict[str, Any] = {}
    for name in wanted:
        value = explicit.get(name)
        for layer in layers:
            if value is not None:
                break
            value = layer.get(name)
        resolved[name] = value
    return resolved
