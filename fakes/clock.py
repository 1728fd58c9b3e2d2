"""A manual clock whose sleep advances time instantly, shared by a fake and the code under test."""

from __future__ import annotations

import asyncio

from bot.clock import Clock


class FakeClock:
    """Monotonic seconds that only move when someone sleeps or calls `advance`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> Clock:
        """This clock as the bot's `Clock`: monotonic time and sleeps from here, wall-clock timestamps."""
        return Clock(monotonic=self, sleep=self.sleep)

    async def sleep(self, seconds: float) -> None:
        """Record the sleep, advance the clock, and yield once to the event loop."""
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)
