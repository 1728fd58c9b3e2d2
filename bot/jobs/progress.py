"""The words and bar a requester sees while their job waits and runs."""

from __future__ import annotations

STATUS_WORDS = {
    "pending": "Submitted",
    "queued": "Queued at Scenario",
    "warming-up": "Warming up",
    "in-progress": "In progress",
    "finalizing": "Finalizing",
    "success": "Fetching images",
}
BAR_WIDTH = 12


def progress_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A text bar such as `▰▰▰▰▱▱▱▱▱▱▱▱ 33%`."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * width)
    return "▰" * filled + "▱" * (width - filled) + f" {round(fraction * 100)}%"


def format_elapsed(seconds: float) -> str:
    """`42s` or `3m 05s`."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m {seconds % 60:02d}s"


def queued_text(position: int | None, *, waiting_for_slot: bool = False) -> str:
    """The text for a job that has not started at Scenario yet."""
    if waiting_for_slot:
        return "⏳ Waiting for a free slot — the Scenario plan is running as many jobs as it allows."
    if position is None or position <= 1:
        return "⏳ Queued — you're next."
    return f"⏳ Queued — position {position} in line."


def running_text(status: str, progress: float, elapsed_seconds: float) -> str:
    """The text for a job Scenario is working on."""
    words = STATUS_WORDS.get(status, status.replace("-", " ").capitalize())
    return f"🎨 {words}\n`{progress_bar(progress)}` · {format_elapsed(elapsed_seconds)}"


RESTART_NOTE = "♻️ The bot restarted — your job was kept and continues."
CHECKING_TEXT = (
    "📨 Scenario's answer was lost on the way — checking whether the job started, so it is never paid twice…"
)
