"""The layers under what a requester types: explicit > /prefer > the server's defaults > the model's default."""

from __future__ import annotations

from pathlib import Path

from bot.jobs.sqlite import SQLiteJobStore
from bot.library.models import Preferences
from bot.options import PREFER_SOURCE, SERVER_SOURCE, Layer, default_layers, resolve

SERVER = Layer(SERVER_SOURCE, {"speed": "balanced", "size": "portrait_4_3", "count": 3, "expand_prompt": True})


def test_each_option_takes_the_first_layer_that_sets_it() -> None:
    prefer = Layer(PREFER_SOURCE, {"speed": "turbo", "count": 2})
    resolved = resolve({"speed": None, "size": None, "count": 4, "expand_prompt": None}, [prefer, SERVER])
    assert resolved.values == {"speed": "turbo", "size": "portrait_4_3", "count": 4, "expand_prompt": True}
    assert resolved.sources == {"speed": PREFER_SOURCE, "size": SERVER_SOURCE, "expand_prompt": SERVER_SOURCE}


def test_nothing_set_anywhere_leaves_the_models_default() -> None:
    resolved = resolve({"speed": None, "acceleration": None}, [Layer(PREFER_SOURCE, {}), SERVER])
    assert resolved.values == {"speed": "balanced", "acceleration": None}
    assert resolved.sources == {"speed": SERVER_SOURCE}


def test_false_is_a_value_not_a_gap() -> None:
    resolved = resolve({"expand_prompt": False}, [SERVER])
    assert resolved.values == {"expand_prompt": False} and resolved.sources == {}
    resolved = resolve({"expand_prompt": None}, [Layer(PREFER_SOURCE, {"expand_prompt": False}), SERVER])
    assert resolved.values == {"expand_prompt": False} and resolved.sources == {"expand_prompt": PREFER_SOURCE}


async def test_the_default_layers_start_with_the_persons_prefer(tmp_path: Path) -> None:
    async with SQLiteJobStore(tmp_path / "jobs.db") as store:
        await store.set_preferences(Preferences(7, speed="turbo", expand_prompt=False))
        [prefer, *_] = await default_layers(store, 7, 20)
        assert prefer == Layer(PREFER_SOURCE, {"speed": "turbo", "expand_prompt": False})
        assert (await default_layers(store, 8, 20))[0].values == {}
