"""Time, injectable: the engine and the Scenario client wait and measure through one `Clock`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Clock:
    """`monotonic` for durations, `sleep` for waits, `now` for timestamps that are stored.

    Tests pass a fake whose sleep advances time at once (`fakes.clock.FakeClock.clock()`).
    """

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    now: Callable[[], datetime] = utcnow


SYSTEM_CLOCK = Clock()
