"""How fast does autocomplete answer from a full library? (Discord gives it 3 seconds.)

Fills a fresh SQLite job store with `--characters` saved characters (a share of them shared with the server)
and as many styles, starts `python -m bot` on it against the fake Discord and the fake Scenario, then types
`--queries` partial names into `/character character:` and `/imagine style:` one after another, and measures
from sending the APPLICATION_COMMAND_AUTOCOMPLETE interaction to the fake Discord holding the bot's answer
(gateway, discord.py, the store query, the ranking, the callback POST and its OpenAPI check: everything).
It also checks that no autocomplete made a Scenario request.

    python bench/autocomplete.py                       # 1,000 characters, 200 queries
    python bench/autocomplete.py --characters 5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.jobs.sqlite import SQLiteJobStore
from bot.library.models import SavedCharacter, SavedStyle
from fakes.discord import DEFAULT_USER_ID, FakeDiscord
from fakes.scenario import FakeScenario

REPO = Path(__file__).resolve().parent.parent
DISCORD_DEADLINE_S = 3.0
SYLLABLES = ["lu", "na", "ro", "ka", "mi", "to", "ze", "ra", "el", "va", "so", "ri"]


def name(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize() + f" {n}"


async def fill(path: Path, count: int, guild_id: int, rng: random.Random) -> None:
    async with SQLiteJobStore(path) as store:
        for n in range(count):
            shared = n % 5 == 0
            owner = DEFAULT_USER_ID if not shared else DEFAULT_USER_ID + 1 + n
            await store.save_character(SavedCharacter(owner_id=owner, name=name(rng, n), asset_id=f"asset_{n}",
                                                      guild_id=guild_id if shared else None))  # fmt: skip
            await store.save_style(SavedStyle(owner_id=DEFAULT_USER_ID, name=name(rng, n), text="{prompt}, x"))


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    fd = FakeDiscord(token="bench-token")
    await fd.start()
    scenario = FakeScenario(api_key="bench", api_secret="bench")
    scenario_url = await scenario.start()
    with tempfile.TemporaryDirectory(prefix="bench-autocomplete-") as tmp:
        workdir = Path(tmp)
        await fill(workdir / "bench.db", args.characters, fd.guild_id, rng)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCENARIO_", "DISCORD_"))}
        env.update(
            DISCORD_TOKEN="bench-token", SCENARIO_SDK_API_KEY="bench", SCENARIO_SDK_API_SECRET="bench",
            SCENARIO_BASE_URL=scenario_url, DISCORD_API_BASE_URL=fd.api_base,
            DATABASE_URL=f"sqlite:///{workdir}/bench.db", DEV_GUILD_ID=str(fd.guild_id), LOG_LEVEL="WARNING",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        )  # fmt: skip
        log = (workdir / "bot.log").open("wb")
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=workdir, env=env, stdout=log,
                                                   stderr=log)  # fmt: skip
        try:
            await fd.wait_until_connected(timeout=60)
            await fd.wait_for(lambda: fd.registered_commands(fd.guild_id), timeout=30)
            await asyncio.sleep(1.0)
            scenario_before = len(scenario.request_log)
            seconds, sizes = [], []
            for n in range(args.queries):
                typed = rng.choice(SYLLABLES)[: rng.randint(1, 2)]
                command, option = (("character", "character"), ("imagine", "style"))[n % 2]
                started = time.perf_counter()
                ix = await fd.autocomplete(command, {"prompt": "x", option: typed}, option)
                await fd.wait_for(lambda ix=ix: ix.autocomplete_choices is not None, timeout=10)
                seconds.append(time.perf_counter() - started)
                sizes.append(len(ix.autocomplete_choices or []))
            scenario_calls = len(scenario.request_log) - scenario_before
        finally:
            bot.terminate()
            await bot.wait()
            log.close()
            await fd.stop()
            await scenario.stop()
    seconds.sort()
    p95 = seconds[int(0.95 * (len(seconds) - 1))]
    print(f"{args.characters} characters and {args.characters} styles in the store, {args.queries} autocompletes")
    print(f"  answer time: p50 {statistics.median(seconds) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
          f"max {seconds[-1] * 1000:.1f} ms (Discord's limit: {DISCORD_DEADLINE_S * 1000:.0f} ms)")  # fmt: skip
    print(f"  choices per answer: max {max(sizes)} (limit 25); Scenario requests: {scenario_calls}")
    print(f"  spec violations: {len(fd.violations)}")
    return 0 if seconds[-1] < DISCORD_DEADLINE_S and scenario_calls == 0 and max(sizes) <= 25 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--characters", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
