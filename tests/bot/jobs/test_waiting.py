"""The line's per-person counts match counting the waiting jobs one by one, whatever joins and leaves."""

from __future__ import annotations

import random

from bot.jobs._waiting import Waiting
from tests.bot.jobs.conftest import new_job


def counted(waiting: Waiting, user_id: int, guild_id: int | None) -> int:
    return sum(1 for job in waiting.values() if job.user_id == user_id and guild_id in (None, job.guild_id))


def test_counts_follow_every_join_replacement_and_departure() -> None:
    rng = random.Random(11)
    waiting = Waiting()
    ids: list[str] = []
    for _ in range(600):
        roll = rng.random()
        if roll < 0.5 or not ids:
            job = new_job(user_id=rng.randrange(5)).model_copy(update={"guild_id": rng.choice([None, 1, 2])})
            waiting[job.id] = job
            ids.append(job.id)
        elif roll < 0.65:  # the same job again, moved (a requeue after a 429 stores the record anew)
            job_id = rng.choice(ids)
            moved = new_job(user_id=rng.randrange(5)).model_copy(update={"id": job_id, "guild_id": 2})
            waiting[job_id] = moved
        elif roll < 0.9:
            waiting.pop(rng.choice(ids), None)  # started, canceled, or already gone
        else:
            job_id = rng.choice(ids)
            if job_id in waiting:
                del waiting[job_id]
        for user_id in range(5):
            for guild_id in (None, 1, 2):
                assert waiting.count(user_id, guild_id) == counted(waiting, user_id, guild_id)
    assert waiting.pop("no such job") is None
