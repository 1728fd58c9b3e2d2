"""Running the bot the way a user does: `python -m bot` in its own process, configured by environment only."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

SECRET_NAMES = ("DISCORD_TOKEN", "SCENARIO_SDK_API_KEY", "SCENARIO_SDK_API_SECRET")


class BotProcess:
    """One `python -m bot` process; its output goes to a log file the tests can read."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str = "bot") -> None:
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        environment = {k: v for k, v in os.environ.items() if k not in SECRET_NAMES and not k.startswith("SCENARIO_")}
        environment.update(self.env)
        log = self.log_path.open("ab")
        log.write(f"\n===== start #{self.starts} =====\n".encode())
        log.flush()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.workdir, env=environment, stdout=log, stderr=log
        )
        log.close()

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no last writes — the worst case for durability."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Ask the bot to stop as an operator would; returns its exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise AssertionError(f"the bot did not stop within {timeout}s after {sig.name}") from None
        return self.process.returncode or 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def job_states(database: Path) -> dict[str, str]:
    """Read the bot's job states straight from its SQLite file (read-only, safe while it runs)."""
    if not database.exists():
        return {}
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        return dict(connection.execute("SELECT id, state FROM jobs").fetchall())
    except sqlite3.OperationalError:
        return {}
    finally:
        connection.close()
