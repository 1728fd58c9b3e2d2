"""Two `python -m bot` processes working one queue in PostgreSQL; one is SIGKILLed in the middle of the run.

Each process runs one gateway shard of two (`SHARD_COUNT=2`, `SHARD_IDS=0` / `1`), so each receives the commands
of its own servers; both take jobs from the one line in the database. The fake Scenario's plan runs 10 jobs at
once. After the kill, the survivor takes the dead process's jobs over once their leases lapse
(`JOB_LEASE_SECONDS=3`) and continues them as a restart would: each of the 200 requests ends with exactly one
Scenario job and its images in exactly one Discord message.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from fakes.discord import FakeInteraction
from tests.e2e._process import BotProcess
from tests.e2e.conftest import MakeE2E, job_id_of
from tests.e2e.test_postgres import PASSWORD, job_states, with_password
from tests.e2e.test_shards import SHARD_ZERO_GUILD

USERS = 50
PER_USER = 4
CEILING = 10
WAIT = 180.0
"""A hang guard for the whole run on a loaded 2-core machine (200 jobs of 1 s under a ceiling of 10: ~25 s)."""


async def test_two_processes_one_killed_deliver_every_job_once_within_the_plan(
    postgres_url: str, make_e2e: MakeE2E
) -> None:
    database = with_password(postgres_url)
    env = {"DATABASE_URL": database, "SHARD_COUNT": "2", "JOB_LEASE_SECONDS": "3", "LOG_LEVEL": "INFO"}
    e2e = await make_e2e(env={**env, "SHARD_IDS": "1"}, scenario={"parallel_limit": CEILING, "job_duration": 1.0})
    e2e.secrets["the PostgreSQL password"] = PASSWORD
    fd = e2e.discord
    doomed = BotProcess({**e2e.bot.env, "SHARD_IDS": "0"}, e2e.workdir, name="bot-shard0")
    await doomed.start()
    interactions: list[FakeInteraction] = []
    try:
        await e2e.wait_for(lambda: fd.connected_shards == [(0, 2), (1, 2)] or not doomed.running)
        assert doomed.running, f"the second process exited:\n{doomed.log()[-3000:]}"
        zero = fd.add_guild(SHARD_ZERO_GUILD, name="On shard zero")
        await e2e.wait_for(lambda: [e for e in fd.events_received(0, "GUILD_CREATE") if e.guild_id == zero.id])

        for round_ in range(PER_USER):
            for user in range(USERS):  # half the people in each process's server
                guild = zero.id if user % 2 else fd.guild_id
                interactions.append(
                    await fd.send_command(
                        "imagine", {"prompt": f"idea {round_} of person {user}"}, user_id=5000 + user, guild_id=guild
                    )
                )
            await asyncio.sleep(0.2)  # people type: the rounds arrive over a second, not in one instant

        def posted() -> int:
            return sum(1 for ix in interactions if ix.original is not None and ix.original.attachments)

        await e2e.wait_for(lambda: posted() >= 40, timeout=WAIT)
        await doomed.kill()  # SIGKILL, mid-run: its running jobs hold their leases until they lapse

        await e2e.wait_for(lambda: posted() == len(interactions), timeout=WAIT)
        states = await job_states(postgres_url)
    finally:
        if doomed.running:
            await doomed.kill()

    assert Counter(states.values()) == Counter({"delivered": USERS * PER_USER})
    # One Scenario job per request, never more than the plan's ceiling at once; the ceiling learned from a 429
    # (two, if both processes sent the one POST too many at the same moment) and then shared; at most one more if
    # work waited at the ceiling long enough (a minute) for a process to try whether the plan grew.
    assert len(e2e.paid_generates()) == USERS * PER_USER
    assert e2e.scenario.max_in_flight <= CEILING
    ceiling_lines = [line for line in (e2e.bot.log() + doomed.log()).splitlines() if "ceiling" in line]
    assert 1 <= len([call for call in e2e.scenario.generate_calls if call.status == 429]) <= 3, ceiling_lines
    # Each job's images in exactly one live message.
    live = [m for m in fd.messages.values() if not m.deleted and m.attachments]
    assert Counter(job_id_of(m) for m in live) == Counter({job_id: 1 for job_id in states})
    # Both processes ran jobs: the survivor took the dead one's jobs over, and said so in its log.
    assert "Took over" in e2e.bot.log()
    assert "started as Scenario job" in doomed.log()
