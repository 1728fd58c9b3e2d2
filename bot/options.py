"""Which value each option takes, layer by layer: what the requester gave, else their `/prefer`, else the
server's defaults, else nothing (the model's own default).

    resolved = resolve({"speed": speed, "size": size}, await default_layers(store, user_id, guild_id))
    resolved.values   # {"speed": "turbo", "size": None}
    resolved.sources  # {"speed": "your /prefer"}: where a value came from when the requester did not give it

Values are the commands' option values ("turbo", "square_hd"), not the API's; each command maps them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.jobs.store import JobStore

PREFER_SOURCE = "your /prefer"
SERVER_SOURCE = "this server's default"


@dataclass(frozen=True, slots=True)
class Layer:
    """One source of defaults: its label as the result shows it, and the options it sets."""

    source: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Resolved:
    """Every option's value (None: the model's default) and, for those not given explicitly, where it came from."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)


def resolve(explicit: Mapping[str, Any], layers: Sequence[Layer]) -> Resolved:
    """The explicit value of each option in `explicit` if not None, else the first layer (in precedence
    order) that sets it, else None."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option, given in explicit.items():
        values[option] = given
        if given is not None:
            continue
        for layer in layers:
            if layer.values.get(option) is not None:
                values[option] = layer.values[option]
                sources[option] = layer.source
                break
    return Resolved(values, sources)


async def default_layers(store: JobStore, user_id: int, guild_id: int | None) -> list[Layer]:
    """The layers under what a requester types, in precedence order: their `/prefer`, then (when server
    defaults exist) the server's `/config defaults` as `Layer(SERVER_SOURCE, …)`."""
    preferences = await store.get_preferences(user_id)
    layers = [Layer(PREFER_SOURCE, preferences.values())]
    if guild_id is not None:
        layers.append(Layer(SERVER_SOURCE, (await store.server_settings(guild_id)).defaults.as_options()))
    return layers
