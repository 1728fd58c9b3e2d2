"""FakeScenario: the fake's state and controls, and starting/stopping its HTTP server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import random
import re
import secrets
import string
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fakes.scenario._app import build_app
from fakes.scenario._faults import Fault, FaultQueue
from fakes.scenario._images import render_image
from fakes.scenario._inputs import Plan
from fakes.scenario._state import FakeAsset, FakeJob, GenerateCall, Timebase

log = logging.getLogger(__name__)

_ID_ALPHABET = string.ascii_letters + string.digits


class FakeScenario:
    """An in-process Scenario API (jobs, assets, CDN) faithful to scenario-api.md, with fault injection.

    Job status is computed from `clock` whenever a job is looked at, so a job advances whether or
    not anyone polls; tests pass a FakeClock and move it instead of sleeping.
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        job_duration: float | Callable[[], float] = 3.0,
        parallel_limit: int | None = None,
        url_ttl: float = 3600.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        rng_seed: int | None = None,
        owner_id: str = "proj_sandbox",
        author_id: str = "user_sandbox",
        price_per_image: int | None = None,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.clock = clock
        self._held_at: float | None = None
        self.job_duration = job_duration
        self.parallel_limit = parallel_limit
        self.url_ttl = url_ttl
        self.sleep = sleep
        self.owner_id = owner_id
        self.author_id = author_id
        self.price_per_image = price_per_image
        """CU per output image for every model and option (None: the per-model prices in `_inputs`)."""
        self.timebase = Timebase(clock)

        self.generate_calls: list[GenerateCall] = []
        self.dry_runs: list[GenerateCall] = []
        """Every `?dryRun=true` quote asked for (free: neither a job nor a `generate_calls` entry)."""
        self.request_log: list[tuple[str, str]] = []
        self.jobs: dict[str, FakeJob] = {}
        self.assets: dict[str, FakeAsset] = {}
        self.uploads: list[str] = []
        self.status_first_seen: dict[str, dict[str, float]] = {}
        self.list_queries: list[dict[str, str]] = []
        """The query of every `GET /jobs`, in order."""
        self.list_page_limit: int | None = None
        """At most this many jobs on a `GET /jobs` page, whatever `pageSize` asks (the rest on later pages)."""
        self._hide_next = 0
        self.max_in_flight = 0
        """The most jobs ever running at once (the plan's parallel jobs in use), as jobs were created."""

        self.faults = FaultQueue()
        self._outcomes: deque[tuple[str, str, bool] | None] = deque()  # None = cancel, else (error, hint, refund)
        self._url_key = secrets.token_bytes(16)
        self.rng = random.Random(rng_seed)

        self.app: web.Application = build_app(self)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.base_url: str | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the fake on host:port (0 picks a free port); returns the base URL ending in /v1."""
        if self._runner is not None:
            raise RuntimeError("FakeScenario is already started")
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{self.port}/v1"
        log.info("Fake Scenario serving at %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        """Stop serving; state is kept for inspection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeScenario:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- controls --------------------------------------------------------------------------
    def inject(self, fault: Fault) -> None:
        """Queue a fault; faults are matched in injection order, each firing `fault.times` times."""
        self.faults.add(fault)

    def fail_next_job(
        self, error: str = "Provider refused the prompt", hint: str = "Rephrase the prompt", *, refund: bool = True
    ) -> None:
        """The next created job ends in `failure` with metadata.error and metadata.hint; its charge is refunded
        unless `refund=False` (then its billing says `disableRefund: true`)."""
        self._outcomes.append((error, hint, refund))

    def cancel_next_job(self) -> None:
        """The next created job ends in `canceled`."""
        self._outcomes.append(None)

    def hide_next_job_from_list(self, count: int = 1) -> None:
        """The next `count` created jobs never appear in `GET /jobs` (a misbehaving list); `GET /jobs/{id}`
        still answers for them."""
        self._hide_next += count

    def expire_urls(self) -> None:
        """Every CDN URL issued so far now answers 403 (its signature no longer verifies)."""
        self._url_key = secrets.token_bytes(16)

    # ---- state used by the routes ----------------------------------------------------------
    def now(self) -> float:
        """The fake's clock (standing still while `hold` is in force)."""
        return self.clock() if self._held_at is None else self._held_at

    def hold(self) -> None:
        """Stop Scenario's time: no job advances until `release`, however far the shared clock moves."""
        self._held_at = self.clock()

    def release(self) -> None:
        """Let Scenario's time follow the shared clock again: jobs jump to where it stands now."""
        self._held_at = None

    def new_id(self, prefix: str) -> str:
        """A realistic-looking id such as `job_ocZCnG1Df35XRL1QyCZSRxAG8`."""
        return prefix + "".join(self.rng.choices(_ID_ALPHABET, k=25))

    def price(self, plan: Plan) -> int:
        """What a request costs: the same for its dry run and its real run."""
        if self.price_per_image is None:
            return plan.cost
        return self.price_per_image * len(plan.outputs)

    def charged(self) -> int:
        """The CU the plan has paid so far: every job's cost, less the refunded failures."""
        now = self.now()
        return sum(job.cost for job in self.jobs.values() if not job.refunded(now))

    def active_jobs(self, now: float) -> int:
        """Jobs not yet terminal at `now`."""
        return sum(1 for job in self.jobs.values() if job.is_active(now))

    def create_job(self, model_id: str, body: dict[str, Any], plan: Plan) -> FakeJob:
        """Record a new job, with its (lazily rendered) output assets when it will succeed."""
        now = self.now()
        fail: tuple[str, str] | None = None
        canceled = False
        refund = True
        if self._outcomes:
            outcome = self._outcomes.popleft()
            canceled = outcome is None
            if outcome is not None:
                fail, refund = (outcome[0], outcome[1]), outcome[2]
        job = FakeJob(
            job_id=self.new_id("job_"),
            model_id=model_id,
            input=body,
            created_at=now,
            duration=max(self.job_duration() if callable(self.job_duration) else self.job_duration, 0.0),
            cost=self.price(plan),
            disable_refund=not refund,
            owner_id=self.owner_id,
            author_id=self.author_id,
            fail=fail,
            canceled=canceled,
            listed=self._hide_next <= 0,
        )
        self._hide_next = max(self._hide_next - 1, 0)
        self.jobs[job.job_id] = job
        self.max_in_flight = max(self.max_in_flight, self.active_jobs(now))
        if job.success_at is None:
            return job
        for index, (width, height, seed) in enumerate(plan.outputs):
            asset = FakeAsset(
                asset_id=self.new_id("asset_"),
                mime_type="image/png",
                width=width,
                height=height,
                source=plan.source,
                created_at=job.success_at,
                seed=seed,
                job_id=job.job_id,
                model_id=model_id,
                prompt=plan.prompt,
                output_index=index,
                nsfw=nsfw_labels(plan.prompt),
                owner_id=self.owner_id,
                author_id=self.author_id,
                render=_renderer(width, height, plan.prompt, seed),
            )
            self.assets[asset.asset_id] = asset
            job.asset_ids.append(asset.asset_id)
        return job

    def add_upload(self, name: str, data: bytes, mime_type: str, width: int, height: int) -> FakeAsset:
        """Store an uploaded image byte for byte."""
        asset = FakeAsset(
            asset_id=self.new_id("asset_"),
            mime_type=mime_type,
            width=width,
            height=height,
            source="upload",
            created_at=self.now(),
            name=name,
            owner_id=self.owner_id,
            author_id=self.author_id,
            _data=data,
        )
        self.assets[asset.asset_id] = asset
        self.uploads.append(asset.asset_id)
        return asset

    def find_asset(self, asset_id: str) -> FakeAsset | None:
        """The asset if the API can see it now (a generated one only once its job has succeeded)."""
        asset = self.assets.get(asset_id)
        if asset is None or asset.job_id is None:
            return asset
        return asset if self.now() >= asset.created_at else None

    def observe(self, job_id: str, status: str, now: float) -> None:
        """Note the first time a client saw `status` for a job (for latency benchmarks)."""
        self.status_first_seen.setdefault(job_id, {}).setdefault(status, now)

    def sign_url(self, origin: str, asset_id: str) -> str:
        """A CDN URL for an asset, valid for `url_ttl` seconds of the clock."""
        expires = math.ceil(self.timebase.to_ms(self.now() + self.url_ttl) / 1000)
        return f"{origin}/cdn/{asset_id}?sig={self._signature(asset_id, expires)}&exp={expires}"

    def check_url(self, asset_id: str, sig: str, exp: str) -> bool:
        """True if a CDN signature is genuine, not revoked by `expire_urls`, and not past its expiry."""
        if not exp.isdigit() or not hmac.compare_digest(sig, self._signature(asset_id, int(exp))):
            return False
        return self.timebase.to_ms(self.now()) < int(exp) * 1000

    def _signature(self, asset_id: str, expires: int) -> str:
        message = f"{asset_id}:{expires}".encode()
        return hmac.new(self._url_key, message, hashlib.sha256).hexdigest()[:32]


NSFW_WORD = re.compile(r"\bnsfw\b", re.IGNORECASE)
NSFW_LABELS = ["nudity", "explicit"]


def nsfw_labels(prompt: str | None) -> list[str]:
    """The fake's deterministic NSFW rule: a prompt with the word `nsfw` labels every output `NSFW_LABELS`."""
    return list(NSFW_LABELS) if prompt and NSFW_WORD.search(prompt) else []


def _renderer(width: int, height: int, prompt: str, seed: int) -> Callable[[], bytes]:
    return lambda: render_image(width, height, prompt, seed)
