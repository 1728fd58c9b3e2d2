"""Two `python -m bot` processes splitting the gateway (`SHARD_COUNT=2`, `SHARD_IDS=0` and `1`) on one PostgreSQL.

As docker-compose.yml runs them. SQLite is one process's database, so this needs the PostgreSQL server that
TEST_DATABASE_URL names (tests/conftest.py: skipped with a reason without one, failed in CI).
"""

from __future__ import annotations

from pathlib import Path

from fakes.discord import FakeDiscord
from tests.e2e._process import BotProcess
from tests.e2e.conftest import MakeE2E, job_id_of
from tests.e2e.test_postgres import PASSWORD, finished, with_password
from tests.e2e.test_process import VALID, run_to_exit

SHARD_ZERO_GUILD = ((1000 * 2) << 22) | 5
"""A server on shard 0 of 2 (`(guild_id >> 22) % 2`); the fake's default server is on shard 1."""


def ready_connection(fd: FakeDiscord, shard: tuple[int, int]) -> int:
    """The connection that IDENTIFYed as that shard (the fake numbers them in order)."""
    [ready] = [e for e in fd.gateway_events if e.event == "READY" and e.shard == shard]
    return ready.connection


async def test_two_processes_each_run_their_shard_and_answer_its_servers(postgres_url: str, make_e2e: MakeE2E) -> None:
    database = with_password(postgres_url)
    shard_env = {"DATABASE_URL": database, "SHARD_COUNT": "2"}
    e2e = await make_e2e(env={**shard_env, "SHARD_IDS": "1"})
    e2e.secrets["the PostgreSQL password"] = PASSWORD
    fd = e2e.discord
    assert fd.connected_shards == [(1, 2)]

    second = BotProcess({**e2e.bot.env, "SHARD_IDS": "0"}, e2e.workdir, name="bot-shard0")
    await second.start()
    try:
        await e2e.wait_for(lambda: fd.connected_shards == [(0, 2), (1, 2)] or not second.running)
        assert second.running, f"the second process exited:\n{second.log()[-3000:]}"
        # Each process identified as its own shard, on its own connection, and says so.
        assert ready_connection(fd, (1, 2)) == 1 and ready_connection(fd, (0, 2)) == 2
        await e2e.wait_for(lambda: "on shard(s) 0 of 2" in second.log())
        assert "on shard(s) 1 of 2" in e2e.bot.log() and "on shard(s) 0 of 2" not in e2e.bot.log()

        zero = fd.add_guild(SHARD_ZERO_GUILD, name="On shard zero")
        await e2e.wait_for(lambda: [e for e in fd.events_received(0, "GUILD_CREATE") if e.guild_id == zero.id])
        in_zero = await fd.send_command("imagine", {"prompt": "a lighthouse on shard zero"}, guild_id=zero.id)
        in_one = await e2e.imagine("a lighthouse on shard one", user_id=4243)
        assert (in_zero.connection, in_one.connection) == (2, 1)  # each process got its own server's command

        for interaction in (in_zero, in_one):
            message = await e2e.wait_for(
                lambda ix=interaction: ix.original is not None and ix.original.attachments and ix.original
            )
            assert message.channel_id == interaction.channel_id
            assert await finished(postgres_url, job_id_of(message)) == "delivered"
        assert len(e2e.paid_generates()) == 2 and len(e2e.result_posts()) == 2
    finally:
        code = await second.stop()
    assert code == 0, f"the second process exited with {code} after SIGTERM:\n{second.log()[-3000:]}"
    second_log = second.log()
    assert not [name for name, value in e2e.secrets.items() if value in second_log]
    assert "Task exception was never retrieved" not in second_log


async def test_too_few_shards_for_discord_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    async with FakeDiscord(token=VALID["DISCORD_TOKEN"], max_guilds_per_shard=0) as fd:
        env = {**VALID, "DISCORD_API_BASE_URL": fd.api_base, "SHARD_COUNT": "1", "LOG_LEVEL": "ERROR"}
        code, lines = await run_to_exit(tmp_path, env)
    assert code == 2
    assert lines[-1].startswith("Configuration error: SHARD_COUNT is too small: Discord requires more shards")
    assert not [line for line in lines if line.startswith("Traceback")], lines
