"""The jobs waiting in line, by id, counting as it goes how many each person has waiting (in each server)."""

from __future__ import annotations

from collections import Counter

from bot.jobs.models import JobRecord


class Waiting(dict[str, JobRecord]):
    """A dict of waiting jobs whose `count` costs nothing: it is asked several times at every admission, and
    walking the whole line for it was quadratic in a burst (1.6 % of the bot's CPU with 1,000 jobs in line).

    Only `[job_id] = job` and `pop` change it (`del`, too); the counts follow each."""

    def __init__(self) -> None:
        super().__init__()
        self._per_user: Counter[int] = Counter()
        self._per_server: Counter[tuple[int, int | None]] = Counter()

    def __setitem__(self, job_id: str, job: JobRecord) -> None:
        self.pop(job_id, None)
        super().__setitem__(job_id, job)
        self._per_user[job.user_id] += 1
        self._per_server[job.user_id, job.guild_id] += 1

    def pop(self, job_id: str, default: JobRecord | None = None) -> JobRecord | None:  # type: ignore[override]
        job = super().pop(job_id, None)
        if job is None:
            return default
        _less(self._per_user, job.user_id)
        _less(self._per_server, (job.user_id, job.guild_id))
        return job

    def __delitem__(self, job_id: str) -> None:
        if self.pop(job_id) is None:
            raise KeyError(job_id)

    def count(self, user_id: int, guild_id: int | None = None) -> int:
        """How many of `user_id`'s jobs wait (in server `guild_id`, when given)."""
        return self._per_user[user_id] if guild_id is None else self._per_server[user_id, guild_id]


def _less(counter: Counter, key: object) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
