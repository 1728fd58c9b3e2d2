"""How long to wait before trying again: one capped, jittered exponential backoff for the whole bot.

Follows openai-python's `_calculate_retry_timeout`: a server's `Retry-After` is honoured when it is
reasonable (over 0 and at most 60 s); otherwise the wait doubles from `initial` up to `maximum`, less up
to a quarter at random so that many clients that failed together do not retry together. Knows nothing of
Scenario, so both the API client and the job engine can use it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]

_MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most `max_retries` retries, waiting min(initial * 2**attempt, maximum) less up to 25 % jitter."""

    max_retries: int = 2
    initial: float = 0.5
    maximum: float = 8.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.initial < 0 or self.maximum < self.initial:
            raise ValueError("RetryPolicy needs max_retries >= 0 and 0 <= initial <= maximum")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1` (`attempt` counts from 0)."""
        if retry_after is not None and 0 < retry_after <= _MAX_RETRY_AFTER:
            return retry_after
        # Capping the exponent keeps 2**attempt a float for any attempt count.
        base = min(self.initial * 2.0 ** min(max(attempt, 0), 64), self.maximum)
        return base * (1 - 0.25 * random.random())
