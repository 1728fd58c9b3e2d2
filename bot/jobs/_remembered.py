"""Rows one process alone writes, kept in memory after their first read (the SQLite store's `/config` and
personal defaults, read for every job).

An SQLite database has one bot process, and every write of these rows goes through `write` below, so what
is remembered is what is stored. A read that was under way while a write started keeps its answer to itself:
it may predate the write. Values are kept as stored (text, rows), so each caller builds its own object.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class Remembered(Generic[K, V]):
    """The `limit` most recently used values by key, read through `get`, forgotten by `write`."""

    def __init__(self, limit: int = 10_000) -> None:
        self._values: OrderedDict[K, V] = OrderedDict()
        self._limit = limit
        self._writes = 0

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The remembered value, or `load()`'s (remembered unless a write started meanwhile)."""
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        writes = self._writes
        value = await load()
        if writes == self._writes:
            self._values[key] = value
            while len(self._values) > self._limit:
                self._values.popitem(last=False)
        return value

    async def write(self, key: K, store: Callable[[], Awaitable[T]]) -> T:
        """Run `store()` (a write of `key`'s row): the next read of it reads the database."""
        self._writes += 1
        self._values.pop(key, None)
        try:
            return await store()
        finally:
            self._writes += 1
            self._values.pop(key, None)
