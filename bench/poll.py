"""How quickly does `wait_for_job` notice a finished job, and how many requests does it cost?

Runs the real ScenarioClient against the fake Scenario on loopback, in real time: for jobs of about 3, 10
and 30 s (each job's length drawn from ±20 % of that, as real jobs vary; several of each, all at once) and
a few poll schedules side by side, it measures the delay between the job turning `success` on the fake
(`fake.jobs[id].success_at`, on time.monotonic) and `wait_for_job` returning, and the GET /jobs/{id}
requests each job took.

    python bench/poll.py [--jobs 5] [--durations 3,10,30]

Takes about as long as the longest duration plus a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import time
from dataclasses import dataclass

import aiohttp

from bot.scenario import IDEOGRAM_V4, PollSchedule, ScenarioClient
from fakes.scenario import FakeScenario

SCHEDULES: dict[str, PollSchedule] = {
    "default": PollSchedule(),
    "fixed 1 s": PollSchedule(initial=1.0, factor=1.0, maximum=1.0),
    "0.5 x1.5 to 2 s": PollSchedule(initial=0.5, factor=1.5, maximum=2.0, hold=0),
    "0.5 x2 to 5 s": PollSchedule(initial=0.5, factor=2.0, maximum=5.0, hold=0),
}


@dataclass
class Sample:
    """One job's outcome."""

    duration: float
    schedule: str
    delay: float
    requests: int


async def run_one(client: ScenarioClient, fake: FakeScenario, job_id: str, duration: float, name: str) -> Sample:
    await client.wait_for_job(job_id, schedule=SCHEDULES[name], timeout=duration + 60)
    noticed = time.monotonic()
    success_at = fake.jobs[job_id].success_at
    assert success_at is not None
    requests = sum(1 for method, path in fake.request_log if method == "GET" and path == f"/v1/jobs/{job_id}")
    return Sample(duration, name, noticed - success_at, requests)


async def main(jobs: int, durations: list[float]) -> None:
    fake = FakeScenario(api_key="bench", api_secret="bench")
    base_url = await fake.start()
    try:
        async with aiohttp.ClientSession() as session:
            client = ScenarioClient(session, "bench", "bench", base_url)
            rng = random.Random(7)
            waits = []
            started = time.monotonic()
            for duration in durations:
                for name in SCHEDULES:
                    for index in range(jobs):
                        fake.job_duration = duration * rng.uniform(0.8, 1.2)  # read when the job is created
                        body = {"prompt": f"bench {duration} {name} {index}"}
                        result = await client.submit_generate(IDEOGRAM_V4, body)
                        # Start waiting at once, as the bot does after submitting.
                        waits.append(asyncio.create_task(run_one(client, fake, result.job.job_id, duration, name)))
            samples = await asyncio.gather(*waits)
            elapsed = time.monotonic() - started
    finally:
        await fake.stop()

    print(f"{len(samples)} jobs, {jobs} per cell (length ±20 %), all concurrent; wall time {elapsed:.1f} s\n")
    header = f"{'job':>5}  {'schedule':<16} {'mean delay':>10} {'worst':>7} {'requests/job':>13}"
    print(header)
    print("-" * len(header))
    for duration in durations:
        for name in SCHEDULES:
            cell = [s for s in samples if s.duration == duration and s.schedule == name]
            delays = [s.delay for s in cell]
            requests = [s.requests for s in cell]
            print(
                f"{duration:>4g}s  {name:<16} {statistics.mean(delays):>9.2f}s {max(delays):>6.2f}s "
                f"{statistics.mean(requests):>13.1f}"
            )
    print(f"\ndefault schedule: {SCHEDULES['default']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5, help="jobs per duration and schedule")
    parser.add_argument("--durations", default="3,10,30", help="job durations in seconds, comma-separated")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.jobs, [float(d) for d in args.durations.split(",")]))
