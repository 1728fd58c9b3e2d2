"""How fast do bot processes take jobs from the shared line in PostgreSQL, and what does a claim add?

Each worker is a process of its own with its own `PostgresJobStore` (pool) and line, as a bot process has; it
claims from the one line, marks the job running, holds it `--job-seconds` (the Scenario job), then hands it to
delivery (its slot frees) and claims again, until the line is empty. The plan's ceiling is `--ceiling`.

Two runs per worker count:

* **throughput** (`--job-seconds 0`): jobs end at once, so the ceiling never binds: claims per second is what
  the database can do, all processes together (every claim is one transaction under one advisory lock);
* **at the ceiling** (jobs of `--job-seconds`): the plan is the bound (ceiling / job seconds claims per second);
  the table shows how close the workers come to it.

Added latency is the time one `claim` takes as the worker sees it (lock wait included): what the shared line
adds between a slot freeing and the next job leaving for Scenario.

    python bench/claims.py                                  # 1, 2 and 4 workers, ceiling 50, 2,000 jobs
    python bench/claims.py --workers 1,2 --jobs 500         # quicker
    TEST_DATABASE_URL=postgresql://user@host/db python bench/claims.py   # another server (default: the tests')
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import statistics
import time

import asyncpg

from bot.jobs.models import Command, JobRecord, JobState
from bot.jobs.postgres import PostgresJobStore

SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def database(name: str) -> str:
    return SERVER.rsplit("/", 1)[0] + f"/{name}"


async def fill(url: str, jobs: int, users: int, ceiling: int) -> None:
    store = PostgresJobStore(url)
    await store.open()
    try:
        for n in range(jobs):
            job = JobRecord(command=Command.IMAGINE, model_id="model_ideogram-v4", inputs={"prompt": f"idea {n}"},
                            user_id=1 + n % users)  # fmt: skip
            await store.add(job)
        await store._db.execute("UPDATE plan SET ceiling = $1", ceiling)
    finally:
        await store.close()


async def work(url: str, worker: int, job_seconds: float, start_at: float) -> tuple[list[float], int]:
    """Claim until the line is empty; the duration of every claim that took a job, and how many it took."""
    store = PostgresJobStore(url, max_size=2)
    await store.open()
    line = store.line(f"bench-{worker}", 30.0)
    durations: list[float] = []
    running: set[asyncio.Task[None]] = set()

    async def run(job_id: str) -> None:
        await store.transition(job_id, [JobState.QUEUED], JobState.RUNNING)
        if job_seconds:
            await asyncio.sleep(job_seconds)
        await store.transition(job_id, [JobState.RUNNING], JobState.DELIVERING)  # Scenario is done: slot free

    try:
        await asyncio.sleep(max(start_at - time.time(), 0))
        while True:
            began = time.perf_counter()
            claim = await line.claim(cap=None, unknown_ok=False, probe_ok=False)
            if claim.job is not None:
                durations.append(time.perf_counter() - began)
                task = asyncio.create_task(run(claim.job.id))
                running.add(task)
                task.add_done_callback(running.discard)
                continue
            if not claim.waiting:
                break
            await asyncio.sleep(0.002)  # at the ceiling: a bot waits for a wake-up; here, a short nap
        await asyncio.gather(*running)
    finally:
        await store.close()
    return durations, len(durations)


def worker_main(url: str, worker: int, job_seconds: float, start_at: float, results: multiprocessing.Queue) -> None:
    results.put(asyncio.run(work(url, worker, job_seconds, start_at)))


async def one_run(workers: int, jobs: int, users: int, ceiling: int, job_seconds: float) -> dict[str, float]:
    name = f"bench_claims_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(SERVER)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await fill(database(name), jobs, users, ceiling)
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        start_at = time.time() + 1.5  # every worker connected before the first claim
        processes = [
            context.Process(target=worker_main, args=(database(name), n, job_seconds, start_at, results))
            for n in range(workers)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get() for _ in processes]
        wall = time.time() - start_at
        for process in processes:
            process.join()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    durations = sorted(d for outcome in outcomes for d in outcome[0])
    claimed = sum(outcome[1] for outcome in outcomes)
    assert claimed == jobs, f"{claimed} claims for {jobs} jobs"
    return {
        "claims_per_s": jobs / wall,
        "p50_ms": statistics.median(durations) * 1000,
        "p95_ms": durations[int(len(durations) * 0.95) - 1] * 1000,
        "max_ms": durations[-1] * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, comma-separated")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--ceiling", type=int, default=50)
    parser.add_argument("--job-seconds", type=float, default=1.0, help="how long each job holds its slot")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    bound = args.ceiling / args.job_seconds
    print(f"{args.jobs} jobs from {args.users} users, ceiling {args.ceiling}, PostgreSQL {SERVER.rsplit('@')[-1]}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (2-core machine: {os.cpu_count()} CPUs)\n")
    print("| workers | throughput: claims/s | claim p50 / p95 / max | at the ceiling (jobs of "
          f"{args.job_seconds:g} s, bound {bound:.0f}/s): claims/s | claim p50 / p95 / max |")  # fmt: skip
    print("|---|---|---|---|---|")
    for workers in counts:
        fast = await one_run(workers, args.jobs, args.users, args.ceiling, 0.0)
        held = await one_run(workers, min(args.jobs, int(bound * 20)), args.users, args.ceiling, args.job_seconds)
        print(
            f"| {workers} | {fast['claims_per_s']:.0f} | {fast['p50_ms']:.1f} / {fast['p95_ms']:.1f} / "
            f"{fast['max_ms']:.0f} ms | {held['claims_per_s']:.1f} | {held['p50_ms']:.1f} / {held['p95_ms']:.1f} / "
            f"{held['max_ms']:.0f} ms |",
            flush=True,
        )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
