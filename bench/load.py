"""What does one bot process cost with 1,000 jobs in flight, and how fast do finished images reach Discord?

Starts the fake Discord and the fake Scenario in this process (Scenario's plan runs at most `--ceiling`
jobs at once, each taking a random 5-20 s), then the bot as one `python -m bot` subprocess pointed at them
by environment variables, exactly as an operator runs it. `--users` people each send their share of
`--jobs` `/imagine` commands, as fast as the fake gateway takes them, and the script waits until every job
has posted its images (or failed). It measures the bot process only:

* CPU seconds per job: utime + stime from /proc/<pid>/stat, from after start-up (connected, commands
  synced) to the last delivery, divided by the jobs;
* peak RSS: VmHWM from /proc/<pid>/status;
* Scenario requests per job, from the fake's request log, and Discord REST requests per job by kind;
* added latency: when the fake Discord stored the edit that carries a job's images minus when the job
  turned `success` on the fake Scenario (both on this process's wall clock), p50 and p95;
* wake-ups per job: voluntary context switches of all the bot's threads. On a small VM a wake-up costs more
  CPU than the request it serves, so this explains most of the CPU figure.

Each `--status-modes` entry (default: `batched,per_job`) is a whole run with its own fakes and bot process,
one after the other; the table then shows them side by side (`STATUS_MODE=batched`: one `GET /jobs` a tick for
every job in flight; `per_job`: each job polls `GET /jobs/{id}`). Scenario requests are counted for the API
(the rate-limited one) with image downloads from the CDN apart.

The fake's images are flat palette PNGs of about 7 KiB; `--image-kib 1500` serves PNGs the size of real
Ideogram output instead, to show what the image bytes themselves cost.

    python bench/load.py                              # 1,000 jobs, 100 users, ceiling 50: about 5 minutes a mode
    python bench/load.py --jobs 200 --users 100 --ceiling 10 --min-seconds 2 --max-seconds 4   # issue 11's run
    python bench/load.py --jobs 200 --users 20        # a quick run
    python bench/load.py --no-validate                # skip the fake's OpenAPI checks (fake-side CPU only)
    python bench/load.py --image-kib 1500             # images of real size (the fakes keep them all in memory)
    python bench/load.py --profile bot.prof           # the bot under cProfile (slower; numbers are inflated)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fakes.discord import FakeDiscord, FakeInteraction
from fakes.scenario import FakeScenario

TARGET_CPU_MS = 10.0
TARGET_RSS_MB = 150.0
TARGET_P95_S = 0.5
TARGET_API_PER_JOB = 3.0
TARGET_429S = 3
FIRST_USER_ID = 300_000_000_000_000_000
FOOTER = re.compile(r"Job (\S+) · Scenario (\S+)")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parent.parent


# -- the bot process --------------------------------------------------------------------------------


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process (all its threads): utime and stime, fields 14 and 15 of proc(5)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    return sum(cpu_times(pid))


def status_value(pid: int, key: str, *, task: str | None = None) -> int:
    """A number from /proc/<pid>/status (or one thread's), such as VmHWM (peak RSS, in kB)."""
    path = Path(f"/proc/{pid}/task/{task}/status" if task else f"/proc/{pid}/status")
    for line in path.read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def wakeups(pid: int) -> int:
    """Voluntary context switches of all threads: how often the process slept waiting for something."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += status_value(pid, "voluntary_ctxt_switches", task=task.name)
        except (FileNotFoundError, KeyError):
            continue  # a thread that ended meanwhile
    return total


async def start_bot(
    fd: FakeDiscord, scenario_url: str, workdir: Path, args: argparse.Namespace
) -> asyncio.subprocess.Process:
    """`python -m bot` configured by environment variables only, logging to workdir/bot.log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCENARIO_", "DISCORD_"))}
    env.update(
        DISCORD_TOKEN="bench-token",
        SCENARIO_SDK_API_KEY="bench",
        SCENARIO_SDK_API_SECRET="bench",
        SCENARIO_BASE_URL=scenario_url,
        DISCORD_API_BASE_URL=fd.api_base,
        DATABASE_URL=f"sqlite:///{workdir}/bench.db",
        DEV_GUILD_ID=str(fd.guild_id),
        MAX_PARALLEL_JOBS=args.max_parallel,
        STATUS_MODE=args.status_mode,
        MAX_QUEUED_PER_USER=str(min(max(-(-args.jobs // args.users), 5), 100)),
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    command = [sys.executable, "-m", "bot"]
    if args.profile:
        command = [sys.executable, "-m", "cProfile", "-o", str(Path(args.profile).resolve()), "-m", "bot"]
    log = (workdir / "bot.log").open("wb")
    process = await asyncio.create_subprocess_exec(*command, cwd=workdir, env=env, stdout=log, stderr=log)
    log.close()
    return process


def noise_png(kib: int, width: int = 1024, height: int = 1024) -> bytes:
    """A PNG of width x height pixels and about `kib` KiB: random pixels in a top band (incompressible), black below.

    Real Ideogram results are 1-2 MB PNGs; the fake's own images are flat palette PNGs of a few KiB.
    """
    import io

    from PIL import Image

    rows = min(height, max(1, kib * 1024 // (width * 3)))
    image = Image.new("RGB", (width, height))
    image.paste(Image.frombytes("RGB", (width, rows), random.Random(kib).randbytes(width * rows * 3)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def use_big_images(fake: FakeScenario, data: bytes) -> None:
    """Serve `data` as every generated image (the bot passes images under the upload limit through as is)."""
    create_job = fake.create_job

    def create_with_big_images(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        job = create_job(*args, **kwargs)  # type: ignore[arg-type]
        for asset_id in job.asset_ids:
            fake.assets[asset_id].data = data
        return job

    fake.create_job = create_with_big_images  # type: ignore[method-assign]


# -- outcomes ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What became of one /imagine."""

    interaction: FakeInteraction
    scenario_job_id: str | None = None
    delivered_at: float | None = None
    failed: str | None = None
    image_bytes: int = 0
    images: int = 0


def settle(outcome: Outcome) -> bool:
    """Fill in the outcome from the fake's records; True once the job has ended either way."""
    message = outcome.interaction.original
    if message is None:
        return False
    if message.attachments and message.embeds:
        match = FOOTER.search((message.embeds[0].get("footer") or {}).get("text", ""))
        if match is None:
            return False
        outcome.scenario_job_id = match.group(2)
        # The edit that put the images there; no edit follows a delivered result.
        outcome.delivered_at = message.edited_timestamp
        outcome.images = len(message.attachments)
        outcome.image_bytes = sum(a.size for a in message.attachments)
        return True
    if message.content.startswith(("❌", "🚫")):
        outcome.failed = message.content.splitlines()[0]
        return True
    return False


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Report:
    """Everything the table prints."""

    jobs: int
    users: int
    ceiling: int
    validate: bool
    mode: str = "batched"
    wall: float = 0.0
    cpu: float = 0.0
    cpu_startup: float = 0.0
    cpu_system: float = 0.0
    wakeups: int = 0
    rss_peak_mb: float = 0.0
    rss_start_mb: float = 0.0
    delivered: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    unfinished: int = 0
    latencies: list[float] = field(default_factory=list)
    scenario: collections.Counter[str] = field(default_factory=collections.Counter)
    discord: collections.Counter[str] = field(default_factory=collections.Counter)
    discord_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    image_bytes: int = 0
    images: int = 0
    violations: int = 0
    refusals: int = 0
    """Scenario's 429 answers to POST /generate (the plan's ceiling reached)."""


def scenario_kind(method: str, path: str) -> str:
    """A Scenario request's row in the breakdown."""
    if method == "POST" and path.startswith("/v1/generate/"):
        return "POST /generate"
    if method == "GET" and path.startswith("/v1/jobs/"):
        return "GET /jobs/{id}"
    if method == "GET" and path == "/v1/jobs":
        return "GET /jobs"
    if path.startswith("/v1/assets"):
        return f"{method} /assets"
    if path.startswith("/cdn/"):
        return "CDN download"
    return f"{method} {path}"


def discord_kind(method: str, path: str, files: int, body: object) -> str:
    """A Discord request's row in the breakdown: progress edits are told apart by their first character."""
    if path.endswith("/callback"):
        return "interaction callback"
    if path.startswith("/webhooks/") and "/messages/" in path:
        if method != "PATCH":
            return f"{method} reply"
        if files:
            return "edit: result"
        content = body.get("content") if isinstance(body, dict) else None
        if isinstance(content, str) and content.startswith("⏳"):
            return "edit: queue position"
        if isinstance(content, str) and content.startswith("🎨"):
            return "edit: progress"
        return "edit: other"
    return f"{method} {re.sub(r'/[0-9]+|/[A-Za-z0-9_-]{40,}', '/…', path)}"


# -- the run ----------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> Report:
    """Start the fakes and the bot, send every command, wait for every result, and collect the numbers."""
    rng = random.Random(args.seed)
    fd = FakeDiscord(validate=args.validate, token="bench-token")
    await fd.start()
    # Wall clock on both fakes: the fake Discord stamps edits with time.time, so success_at must match.
    fake = FakeScenario(
        api_key="bench",
        api_secret="bench",
        clock=time.time,
        job_duration=lambda: rng.uniform(args.min_seconds, args.max_seconds),
        parallel_limit=args.ceiling,
    )
    if args.image_kib:
        use_big_images(fake, noise_png(args.image_kib))
    scenario_url = await fake.start()
    users = [fd.user(FIRST_USER_ID + n, f"user{n}").id for n in range(args.users)]
    report = Report(args.jobs, args.users, args.ceiling, args.validate, args.status_mode)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        workdir = Path(tmp)
        bot = await start_bot(fd, scenario_url, workdir, args)
        try:
            await fd.wait_until_connected(timeout=60)
            await fd.wait_for(lambda: fd.registered_commands(fd.guild_id), timeout=30)
            await asyncio.sleep(1.0)  # let start-up settle (engine start, guild chunking)
            report.cpu_startup = cpu_seconds(bot.pid)
            system_before = cpu_times(bot.pid)[1]
            wakeups_before = wakeups(bot.pid)
            report.rss_start_mb = status_value(bot.pid, "VmRSS") / 1024
            discord_before = len(fd.requests)
            scenario_before = len(fake.request_log)
            print(
                f"STATUS_MODE={args.status_mode}: bot pid {bot.pid} ready: {report.cpu_startup:.2f} s CPU and "
                f"{report.rss_start_mb:.0f} MB RSS "
                f"at start-up; sending {args.jobs} /imagine from {args.users} users…",
                file=sys.stderr,
            )

            started = time.monotonic()
            outcomes: list[Outcome] = []
            # Round-robin over users, as a busy channel would send them.
            for index in range(args.jobs):
                user_id = users[index % args.users]
                prompt = f"bench job {index}: a lighthouse on a cliff at dusk, user {index % args.users}"
                ix = await fd.send_command("imagine", {"prompt": prompt}, user_id=user_id)
                outcomes.append(Outcome(ix))
            sent = time.monotonic() - started
            print(f"sent {args.jobs} commands in {sent:.2f} s", file=sys.stderr)

            expected = args.jobs / args.ceiling * (args.min_seconds + args.max_seconds) / 2
            deadline = started + expected * 2 + 120
            pending = list(outcomes)
            next_note = time.monotonic() + 15
            while pending and time.monotonic() < deadline and bot.returncode is None:
                pending = [o for o in pending if not settle(o)]
                if time.monotonic() >= next_note:
                    next_note += 15
                    done = args.jobs - len(pending)
                    print(
                        f"  {time.monotonic() - started:5.0f} s: {done}/{args.jobs} done, "
                        f"bot CPU {cpu_seconds(bot.pid) - report.cpu_startup:.1f} s, "
                        f"RSS {status_value(bot.pid, 'VmRSS') / 1024:.0f} MB",
                        file=sys.stderr,
                    )
                await asyncio.sleep(0.25)
            report.wall = time.monotonic() - started
            if bot.returncode is not None:
                raise RuntimeError(
                    f"the bot exited with {bot.returncode}; see its log:\n{(workdir / 'bot.log').read_text()}"
                )
            report.cpu = cpu_seconds(bot.pid) - report.cpu_startup
            report.cpu_system = cpu_times(bot.pid)[1] - system_before
            report.wakeups = wakeups(bot.pid) - wakeups_before
            report.rss_peak_mb = status_value(bot.pid, "VmHWM") / 1024
            report.unfinished = len(pending)
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(bot.wait(), 60)
                except TimeoutError:
                    bot.kill()
                    await bot.wait()
            log_text = (workdir / "bot.log").read_text(errors="replace")
            await fd.stop()
            await fake.stop()

    for outcome in outcomes:
        if outcome.failed:
            report.failed[outcome.failed] = report.failed.get(outcome.failed, 0) + 1
        elif outcome.delivered_at is not None and outcome.scenario_job_id in fake.jobs:
            report.delivered += 1
            report.images += outcome.images
            report.image_bytes += outcome.image_bytes
            success_at = fake.jobs[outcome.scenario_job_id].success_at
            assert success_at is not None
            report.latencies.append(outcome.delivered_at - success_at)
    for method, path in fake.request_log[scenario_before:]:
        report.scenario[scenario_kind(method, path)] += 1
    report.refusals = sum(1 for call in fake.generate_calls if call.status == 429)
    for request in fd.requests[discord_before:]:
        kind = discord_kind(request.method, request.path, len(request.files), request.json)
        report.discord[kind] += 1
        if request.status >= 400:
            code = request.response.get("code") if isinstance(request.response, dict) else None
            report.discord_errors[f"{kind} → {request.status}/{code}"] += 1
    report.violations = len(fd.violations)
    warnings = [line for line in log_text.splitlines() if " WARNING " in line or " ERROR " in line]
    if warnings:
        print(f"bot log: {len(warnings)} warning/error line(s), e.g.:", file=sys.stderr)
        for line in warnings[:5]:
            print(f"  {line[:200]}", file=sys.stderr)
    return report


# -- the table --------------------------------------------------------------------------------------


def mark(ok: bool) -> str:
    """The pass/fail column."""
    return "✅ pass" if ok else "❌ FAIL"


def print_report(r: Report) -> None:
    """The table, then the breakdowns behind it."""
    jobs = r.jobs
    cpu_ms = r.cpu / jobs * 1000
    p50 = percentile(r.latencies, 50) if r.latencies else float("nan")
    p95 = percentile(r.latencies, 95) if r.latencies else float("nan")
    worst = max(r.latencies) if r.latencies else float("nan")
    scenario_total = sum(r.scenario.values())
    discord_total = sum(r.discord.values())
    validation = "on" if r.validate else "off"
    print(
        f"\n{jobs} jobs from {r.users} users, Scenario ceiling {r.ceiling}, fake Discord OpenAPI validation "
        f"{validation}; wall time {r.wall:.0f} s ({jobs / r.wall:.1f} jobs/s)"
    )
    print(f"delivered {r.delivered}, failed {sum(r.failed.values())}, unfinished {r.unfinished}")
    print(f"Scenario 429s (plan ceiling reached): {r.refusals}\n")
    rows = [
        ("CPU per job (bot process)", f"{cpu_ms:.1f} ms", f"≤ {TARGET_CPU_MS:g} ms", mark(cpu_ms <= TARGET_CPU_MS)),
        (
            "peak RSS (VmHWM)",
            f"{r.rss_peak_mb:.0f} MB",
            f"≤ {TARGET_RSS_MB:g} MB",
            mark(r.rss_peak_mb <= TARGET_RSS_MB),
        ),
        ("added latency p50", f"{p50:.2f} s", "", ""),
        ("added latency p95", f"{p95:.2f} s", f"≤ {TARGET_P95_S:g} s", mark(p95 <= TARGET_P95_S)),
        ("added latency max", f"{worst:.2f} s", "", ""),
        ("Scenario requests per job", f"{scenario_total / jobs:.1f}", "", ""),
        ("Discord requests per job", f"{discord_total / jobs:.1f}", "", ""),
        ("wake-ups per job", f"{r.wakeups / jobs:.0f}", "", ""),
        ("image KiB per job, down + up", f"{r.image_bytes / max(r.delivered, 1) / 1024:.0f} ×2", "", ""),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"{'':{width}}  {'measured':>12}  {'target':>10}")
    for name, value, target, ok in rows:
        print(f"{name:{width}}  {value:>12}  {target:>10}  {ok}")
    print(
        f"\nstart-up (excluded): {r.cpu_startup:.2f} s CPU, {r.rss_start_mb:.0f} MB RSS; "
        f"total CPU under load {r.cpu:.1f} s, of which {r.cpu_system:.1f} s in the kernel (system time)"
    )
    print(
        f"images: {r.images} ({r.image_bytes / 1e6:.1f} MB), each downloaded from Scenario's CDN and uploaded "
        "to Discord byte for byte (no re-encode under the upload limit)"
    )
    print("Scenario requests per job: " + ", ".join(f"{k} {v / jobs:.2f}" for k, v in r.scenario.most_common()))
    print("Discord requests per job: " + ", ".join(f"{k} {v / jobs:.2f}" for k, v in r.discord.most_common()))
    if r.discord_errors:
        print("Discord errors: " + ", ".join(f"{k} ×{v}" for k, v in r.discord_errors.most_common()))
    if r.failed:
        print("failures: " + "; ".join(f"{k} ×{v}" for k, v in r.failed.items()))
    if r.violations:
        print(f"OpenAPI violations: {r.violations}")
    if r.latencies:
        print(f"latency mean {statistics.mean(r.latencies):.2f} s over {len(r.latencies)} delivered jobs")


def api_requests(r: Report) -> int:
    """Requests to Scenario's API: everything but image downloads from its CDN."""
    return sum(count for kind, count in r.scenario.items() if kind != "CDN download")


def print_side_by_side(reports: list[Report]) -> None:
    """One column per status mode, the targets of issue 11 beside them."""
    print(f"\n## {reports[0].jobs} jobs from {reports[0].users} users, fake plan ceiling {reports[0].ceiling}\n")
    header = "| | " + " | ".join(f"`STATUS_MODE={r.mode}`" for r in reports) + " | target |"
    print(header)
    print("|---" * (len(reports) + 2) + "|")

    def row(name: str, cell, target: str = "") -> None:  # type: ignore[no-untyped-def]
        print(f"| {name} | " + " | ".join(cell(r) for r in reports) + f" | {target} |")

    def lat(r: Report, q: float | None) -> float:
        if not r.latencies:
            return float("nan")
        return max(r.latencies) if q is None else percentile(r.latencies, q)

    row("delivered", lambda r: f"{r.delivered} / {r.jobs}", "all")
    row("added latency p50", lambda r: f"{lat(r, 50):.2f} s")
    row("added latency p95", lambda r: f"{lat(r, 95):.2f} s", f"≤ {TARGET_P95_S:g} s")
    row("added latency max", lambda r: f"{lat(r, None):.2f} s")
    row("Scenario API requests per job", lambda r: f"{api_requests(r) / r.jobs:.2f}", f"≤ {TARGET_API_PER_JOB:g}")
    row(
        "… of which status looks",
        lambda r: f"{(r.scenario['GET /jobs'] + r.scenario['GET /jobs/{id}']) / r.jobs:.2f}",
    )
    row("image downloads (CDN) per job", lambda r: f"{r.scenario['CDN download'] / r.jobs:.2f}")
    row("Scenario 429s", lambda r: str(r.refusals), f"≤ {TARGET_429S}")
    row("Discord requests per job", lambda r: f"{sum(r.discord.values()) / r.jobs:.2f}")
    row("CPU per job", lambda r: f"{r.cpu / r.jobs * 1000:.1f} ms", f"≤ {TARGET_CPU_MS:g} ms (1,000 jobs)")
    row("peak RSS", lambda r: f"{r.rss_peak_mb:.0f} MB", f"≤ {TARGET_RSS_MB:g} MB (1,000 jobs)")
    row("wall time", lambda r: f"{r.wall:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000, help="how many /imagine commands in all")
    parser.add_argument("--users", type=int, default=100, help="how many people send them")
    parser.add_argument("--ceiling", type=int, default=50, help="Scenario's parallel-job limit (the fake plan's)")
    parser.add_argument(
        "--max-parallel", default="auto", help="the bot's MAX_PARALLEL_JOBS (default auto: learned from Scenario)"
    )
    parser.add_argument("--min-seconds", type=float, default=5.0, help="shortest Scenario job")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="longest Scenario job")
    parser.add_argument(
        "--validate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="check every Discord request against the OpenAPI spec (default: when the spec is available)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed for job durations")
    parser.add_argument(
        "--image-kib",
        type=int,
        default=0,
        help="serve every image as a PNG of about this many KiB (default: the fake's own, about 7 KiB)",
    )
    parser.add_argument("--profile", metavar="FILE", help="run the bot under cProfile, writing FILE")
    parser.add_argument(
        "--status-modes",
        default="batched,per_job",
        help="the bot's STATUS_MODE for each run, side by side (default: batched,per_job)",
    )
    args = parser.parse_args()
    if args.validate is None:
        args.validate = FakeDiscord.spec_available()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    reports = []
    for mode in [part.strip() for part in args.status_modes.split(",") if part.strip()]:
        args.status_mode = mode
        report = asyncio.run(run(args))
        print(f"\n### STATUS_MODE={mode}")
        print_report(report)
        reports.append(report)
    print_side_by_side(reports)


if __name__ == "__main__":
    main()
