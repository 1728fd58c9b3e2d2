"""`Remembered`: what the SQLite store keeps of `/config` and personal defaults is what is stored."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs._remembered import Remembered


class Table:
    """A stand-in row store that counts its reads; a read can be held open to race a write."""

    def __init__(self) -> None:
        self.rows: dict[int, str] = {}
        self.reads = 0
        self.hold: asyncio.Event | None = None

    async def read(self, key: int) -> str | None:
        self.reads += 1
        value = self.rows.get(key)
        if self.hold is not None:
            await self.hold.wait()
        return value

    async def write(self, key: int, value: str) -> None:
        self.rows[key] = value


async def test_a_value_is_read_once_then_remembered_and_a_write_is_seen_at_once() -> None:
    table, memory = Table(), Remembered[int, str | None]()
    table.rows[1] = "first"

    assert [await memory.get(1, lambda: table.read(1)) for _ in range(3)] == ["first"] * 3
    assert table.reads == 1
    await memory.write(1, lambda: table.write(1, "second"))
    assert await memory.get(1, lambda: table.read(1)) == "second"
    assert table.reads == 2


async def test_a_read_under_way_when_a_write_starts_is_not_remembered() -> None:
    table, memory = Table(), Remembered[int, str | None]()
    table.rows[1] = "old"
    table.hold = asyncio.Event()
    reading = asyncio.create_task(memory.get(1, lambda: table.read(1)))
    await asyncio.sleep(0)  # the read has the old row and waits
    await memory.write(1, lambda: table.write(1, "new"))
    table.hold.set()
    assert await reading == "old"  # that caller asked before the write
    table.hold = None

    assert await memory.get(1, lambda: table.read(1)) == "new"


async def test_a_failed_write_leaves_nothing_stale_behind() -> None:
    table, memory = Table(), Remembered[int, str | None]()
    table.rows[1] = "kept"
    await memory.get(1, lambda: table.read(1))

    async def fails() -> None:
        table.rows[1] = "half-written elsewhere"
        raise OSError("disk full")

    with pytest.raises(OSError):
        await memory.write(1, fails)
    assert await memory.get(1, lambda: table.read(1)) == "half-written elsewhere"  # read again, not guessed


async def test_only_the_most_recently_used_are_kept() -> None:
    table, memory = Table(), Remembered[int, str | None](limit=2)
    for key in (1, 2, 1, 3):  # 2 is the least recently used when 3 arrives
        await memory.get(key, lambda key=key: table.read(key))
    reads = table.reads
    await memory.get(1, lambda: table.read(1))
    await memory.get(3, lambda: table.read(3))
    assert table.reads == reads
    await memory.get(2, lambda: table.read(2))
    assert table.reads == reads + 1
