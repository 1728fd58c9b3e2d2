"""The SQLite store's connection: each statement runs on the event loop's own thread, as one committed step.

Every statement of the store is short: a lookup or update of one row by its key, or a small aggregate, on a
local file in WAL mode (tens of microseconds to read, well under a millisecond to write). Handing each to a
worker thread, as aiosqlite does, cost more than the statement itself: about 100 µs of CPU and two to four
context switches a statement (the thread woken, then the event loop), a dozen statements a job
(`bench/load.py`). So statements run where the coroutine stands, behind the same `async` methods.

What can make one wait: another program holding the database's write lock (the bot holds it for one statement at
a time; readers never wait in WAL mode), for at most the store's `busy_timeout`, and a slow disk at a WAL
checkpoint. A statement slower than `SLOW_STATEMENT_SECONDS` is logged so that an operator sees it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

SLOW_STATEMENT_SECONDS = 0.1
"""A statement that holds the event loop this long is worth a warning (a locked database, a slow disk)."""

Params = Sequence[Any] | dict[str, Any]


class Connection:
    """A `sqlite3.Connection` in autocommit mode behind the `execute` / `execute_fetchall` the store awaits."""

    def __init__(self, path: str) -> None:
        # isolation_level=None: no implicit transactions, so each statement commits as it completes.
        self._raw = sqlite3.connect(path, isolation_level=None)
        self._raw.row_factory = sqlite3.Row

    async def execute(self, sql: str, params: Params = ()) -> None:
        """Run one statement (committed when it returns)."""
        self._timed(sql, params)

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement and return every row it yields (`… RETURNING` included)."""
        return self._timed(sql, params)

    async def close(self) -> None:
        self._raw.close()

    def _timed(self, sql: str, params: Params) -> list[sqlite3.Row]:
        started = time.perf_counter()
        try:
            return self._raw.execute(sql, params).fetchall()
        finally:
            took = time.perf_counter() - started
            if took >= SLOW_STATEMENT_SECONDS:
                # The statement's first words only: its parameters may be anything a person typed.
                log.warning("An SQLite statement held the bot for %.0f ms: %s…", took * 1000, " ".join(sql.split()[:4]))
