"""The price before running: Scenario's dry run, cached by model and the inputs that change the price.

`POST /generate/custom/{model}?dryRun=true` is free, but a burst of identical requests should still cost one
round trip: quotes are kept for `ttl` seconds, and callers asking for the same quote at once share one request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from bot.clock import Clock
from bot.scenario import ScenarioClient

PRICE_NEUTRAL_INPUTS = frozenset({"prompt", "seed"})
"""Inputs that never change the price; every other one may (Scenario marks those `costImpact`)."""
FILE_INPUTS = frozenset({"characterReferenceImage", "image", "mask"})
"""Asset ids: only whether one is given can matter to the price, not which."""
QUOTE_TTL_SECONDS = 3600.0


def price_key(model_id: str, inputs: Mapping[str, Any]) -> str:
    """What a quote depends on: the model, and every input but the prompt, the seed and which file is used."""
    relevant = {
        key: (True if key in FILE_INPUTS else value)
        for key, value in inputs.items()
        if key not in PRICE_NEUTRAL_INPUTS and value is not None
    }
    return model_id + json.dumps(relevant, sort_keys=True, separators=(",", ":"))


class Pricer:
    """Quotes jobs in CU through Scenario's dry run, remembering each price for a while."""

    def __init__(self, scenario: ScenarioClient, clock: Clock, *, ttl: float = QUOTE_TTL_SECONDS) -> None:
        self._scenario = scenario
        self._clock = clock
        self._ttl = ttl
        self._quotes: dict[str, tuple[float, float]] = {}  # key -> (price, monotonic time it was quoted)
        self._pending: dict[str, asyncio.Future[float]] = {}

    async def estimate(self, model_id: str, inputs: Mapping[str, Any]) -> float:
        """The CU this request will cost; raises `ScenarioError` when Scenario could not quote it."""
        key = price_key(model_id, inputs)
        cached = self._quotes.get(key)
        if cached is not None and self._clock.monotonic() - cached[1] < self._ttl:
            return cached[0]
        if (pending := self._pending.get(key)) is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            price = await self._scenario.estimate(model_id, inputs)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            self._pending.pop(key, None)
        self._quotes[key] = (price, self._clock.monotonic())
        future.set_result(price)
        return price
