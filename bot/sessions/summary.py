"""What a session's sheet and summary say about its results: the index, and the favourites by votes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.jobs.models import JobRecord

PROMPT_SHOWN = 60


def results(jobs: Sequence[JobRecord]) -> list[JobRecord]:
    """The session's jobs that have images, by number (failed or still running ideas are left out)."""
    return [job for job in jobs if job.session_number is not None and job.output_asset_ids]


def shorten(text: str, limit: int = PROMPT_SHOWN) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def seed_of(job: JobRecord) -> int | None:
    return next((seed for seed in job.seeds if seed is not None), job.inputs.get("seed"))


def index_line(job: JobRecord, votes: int) -> str:
    """`#3 · <@author> · prompt… · seed 123 · 👍 2` (Discord markdown; the author as a mention that pings no one)."""
    seed = seed_of(job)
    return " · ".join(
        [
            f"**#{job.session_number}**",
            f"<@{job.user_id}>",
            f"“{shorten(job.prompt)}”",
            f"seed {seed}" if seed is not None else "seed ?",
            f"👍 {votes}",
        ]
    )


def index_lines(jobs: Sequence[JobRecord], votes: Mapping[str, int]) -> list[str]:
    """One line per result, by number."""
    return [index_line(job, votes.get(job.id, 0)) for job in jobs]


def top(jobs: Sequence[JobRecord], votes: Mapping[str, int], n: int = 3) -> list[JobRecord]:
    """The `n` most voted results; ties go to the earlier idea. Results nobody voted for count too."""
    return sorted(jobs, key=lambda job: (-votes.get(job.id, 0), job.session_number or 0))[:n]
