"""The bot's Prometheus metrics, and the last error Scenario and Discord each answered with.

One dedicated `REGISTRY` (never prometheus-client's global default one) holds every metric; `bot.health`
serves it at `/metrics`. The engine, the Scenario client and the Discord poster record through the small
functions below, so no caller touches a metric object or picks a label value itself.

No label carries a user, a prompt, an id or a token: a job's `state` is one of four words, a Scenario
`endpoint` is a route template (`GET /jobs/{id}`, never the path that was requested), a `status` an HTTP
status or an error class, a Discord `code` an HTTP status or Discord's numeric error code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

from bot.clock import utcnow

# No `*_created` series beside each counter and histogram: Prometheus does not need them, and they double
# what every scrape carries. (A process-wide switch of prometheus-client: the bot is the process.)
disable_created_metrics()
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # process_cpu_seconds_total, process_resident_memory_bytes, …

JOB_END_STATES = ("delivered", "failed", "canceled", "undelivered")
LAST_ERROR_CHARS = 300

JOBS = Counter(
    "bot_jobs",
    "Jobs that came to rest, by the first state they rested in (an undelivered job later posted with /show "
    "stays counted as undelivered).",
    ["state"],
    registry=REGISTRY,
)
JOBS_IN_FLIGHT = Gauge("bot_jobs_in_flight", "Jobs holding one of Scenario's parallel slots now.", registry=REGISTRY)
QUEUE_DEPTH = Gauge("bot_queue_depth", "Jobs waiting in line for a slot.", registry=REGISTRY)
SCENARIO_CEILING = Gauge(
    "bot_scenario_ceiling",
    "Scenario jobs allowed at once: the plan's ceiling as learned from its 429s (NaN until known), or the cap.",
    registry=REGISTRY,
)
SCENARIO_REQUESTS = Counter(
    "bot_scenario_requests",
    "HTTP requests to Scenario and its CDN, each attempt counted, by route template and HTTP status "
    "(or the error class when no answer came).",
    ["endpoint", "status"],
    registry=REGISTRY,
)
DISCORD_ERRORS = Counter(
    "bot_discord_errors",
    "Errors Discord (or the network to it) answered the bot's posts and edits with, by Discord's error code, "
    "else the HTTP status, else the error class.",
    ["code"],
    registry=REGISTRY,
)
ADDED_LATENCY = Histogram(
    "bot_added_latency_seconds",
    "From the bot recording a Scenario job's success to Discord accepting its images.",
    buckets=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "bot_job_duration_seconds",
    "From a request to its result (delivered, failed or undelivered; canceled jobs are left out).",
    buckets=(5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0),
    registry=REGISTRY,
)
CREDITS_SPENT = Counter(
    "bot_credits_spent",
    "Creative units Scenario charged for the jobs it started (as it quoted them; refunds are not subtracted).",
    registry=REGISTRY,
)

for _state in JOB_END_STATES:  # every state is exported from the start, at 0, so rates work at once
    JOBS.labels(state=_state)


# -- jobs -------------------------------------------------------------------------------------------------


def job_ended(state: str, duration: float | None = None) -> None:
    """Count a job that came to rest in `state` (once per job); `duration` is request → result, in seconds."""
    if state not in JOB_END_STATES:
        raise ValueError(f"not a job end state: {state!r}")
    JOBS.labels(state=state).inc()
    if duration is not None and state != "canceled":
        JOB_DURATION.observe(max(duration, 0.0))


def delivered_after(seconds: float) -> None:
    """The time from noticing a Scenario job's success to its images on Discord."""
    ADDED_LATENCY.observe(max(seconds, 0.0))


def credits_spent(cost: float | None) -> None:
    """Creative units a started job costs, as Scenario answered."""
    if cost is not None and cost > 0:
        CREDITS_SPENT.inc(cost)


def watch_queue(*, waiting: Callable[[], int], running: Callable[[], int], ceiling: Callable[[], int]) -> None:
    """Read the queue's gauges from these functions at every scrape (the last queue to call this wins)."""
    QUEUE_DEPTH.set_function(waiting)
    JOBS_IN_FLIGHT.set_function(running)
    SCENARIO_CEILING.set_function(ceiling)


# -- Scenario -----------------------------------------------------------------------------------------------

_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/generate/custom/[^/]+"), "/generate/custom/{model}"),
    (re.compile(r"/jobs"), "/jobs"),
    (re.compile(r"/jobs/[^/]+"), "/jobs/{id}"),
    (re.compile(r"/assets"), "/assets"),
    (re.compile(r"/assets/get-bulk"), "/assets/get-bulk"),
    (re.compile(r"/assets/[^/]+"), "/assets/{id}"),
)
CDN = "CDN"


def endpoint(method: str, path: str) -> str:
    """The route template of an API request (`GET /jobs/{id}`); `other` for a path the bot does not use."""
    path = path.split("?", 1)[0]
    for pattern, template in _ROUTES:
        if pattern.fullmatch(path):
            return f"{method.upper()} {template}"
    return f"{method.upper()} other"


def scenario_request(endpoint: str, status: int | str) -> None:
    """Count one attempt at a Scenario request: its HTTP status, or the error class if none came."""
    SCENARIO_REQUESTS.labels(endpoint=endpoint, status=str(status)).inc()


# -- last errors --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LastError:
    """The most recent error of one kind: what it said (no secret: callers pass a safe text) and when."""

    message: str
    at: datetime


_last: dict[str, LastError] = {}


def _remember(kind: str, message: str) -> None:
    text = " ".join(message.split())
    if len(text) > LAST_ERROR_CHARS:
        text = text[: LAST_ERROR_CHARS - 1] + "…"
    _last[kind] = LastError(text, utcnow())


def scenario_error(message: str) -> None:
    """Remember the last failed Scenario request (its text names the route, never a credential or a query)."""
    _remember("scenario", message)


def discord_error(code: int | str, message: str) -> None:
    """Count a Discord error and remember it as the last one."""
    DISCORD_ERRORS.labels(code=str(code)).inc()
    _remember("discord", message)


def last_scenario_error() -> LastError | None:
    """The last Scenario request that failed since the process started, if any."""
    return _last.get("scenario")


def last_discord_error() -> LastError | None:
    """The last Discord error since the process started, if any."""
    return _last.get("discord")
