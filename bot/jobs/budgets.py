"""Spending under control: every new job is priced, checked against the budgets that apply, and reserved.

The admission rule `JobQueue.admit` calls, in two steps:

* `price` (before the admission lock): a blocked member is refused; Scenario's dry run quotes the job
  (`Pricer`, cached); a job that cannot fit is refused at once; a price above `confirm_above_cu` is stored
  as a pending confirmation and `ConfirmationNeeded` raised, so nothing is queued or spent until Run.
* `add` (under the lock): the store inserts the job only if its estimate still fits every budget, in one
  atomic step (`JobStore.add_within_budgets`), so a burst of requests, from any number of processes, never
  overshoots. The estimate is the job's reservation until Scenario's real cost replaces it (`bot.jobs.spend`).

Budgets (each optional, None = unlimited): a person's per UTC day (their jobs everywhere), a server's per
calendar month (jobs made in it where the bot is a member; DMs and user installs elsewhere count under the
person only), and the whole bot's per month. A server's admins override the first two there (`/budget`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.clock import Clock
from bot.errors import InvalidInputError, NotAllowedError, UserFacingError
from bot.jobs import texts
from bot.jobs.config import EngineConfig
from bot.jobs.models import JobRecord
from bot.jobs.pricing import Pricer
from bot.jobs.spend import BudgetLimit, Scope, day_window, month_window
from bot.jobs.store import JobStore
from bot.scenario import BadRequestError, ScenarioClient, ScenarioError
from bot.sessions import texts as session_texts
from bot.sessions.admission import SessionBudgetError

log = logging.getLogger(__name__)

SERVER = 0
"""The `user_id` under which a server's own monthly budget override is stored."""
RULES_TTL_SECONDS = 10.0
"""How long a server's overrides and blocks are kept in memory; a change made here applies at once, one
made by another process sharing the database within this time."""


class OverBudgetError(UserFacingError):
    """The request's estimate does not fit a budget that applies; nothing was spent."""


class BlockedError(NotAllowedError):
    """A server's moderators blocked this member from starting jobs there."""


class ConfirmationNeeded(Exception):
    """The price is above `confirm_above_cu`: the request is stored, waiting for Run or Cancel."""

    def __init__(self, job: JobRecord) -> None:
        super().__init__(f"job {job.id} waits for confirmation at {job.estimate_cu} CU")
        self.job = job


@dataclass(frozen=True, slots=True)
class Standing:
    """One budget as `/usage` shows it: what was spent in its window, and its limit (`inf` = unlimited)."""

    limit: BudgetLimit
    spent: float

    @property
    def remaining(self) -> float:
        return max(self.limit.limit_cu - self.spent, 0.0)


def resets_text(when: datetime) -> str:
    """When a budget resets, for Discord: the UTC time and a relative timestamp."""
    return f"at {when:%Y-%m-%d %H:%M} UTC (<t:{int(when.timestamp())}:R>)"


class Budgets:
    """Prices jobs and admits them only within every budget that applies."""

    def __init__(self, store: JobStore, scenario: ScenarioClient, config: EngineConfig, clock: Clock) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self.pricer = Pricer(scenario, clock)
        self._rules: dict[int, tuple[float, dict[int, float], set[int]]] = {}

    async def rules(self, guild_id: int) -> tuple[dict[int, float], set[int]]:
        """A server's budget overrides ({user id or `SERVER`: CU}) and blocked members, briefly cached."""
        cached = self._rules.get(guild_id)
        if cached is not None and self._clock.monotonic() - cached[0] < RULES_TTL_SECONDS:
            return cached[1], cached[2]
        overrides = await self._store.budget_overrides(guild_id)
        blocked = await self._store.blocked_users(guild_id)
        self._rules[guild_id] = (self._clock.monotonic(), overrides, blocked)
        return overrides, blocked

    async def set_override(self, guild_id: int, user_id: int, limit_cu: float | None) -> None:
        """Set (None: remove) a member's daily budget in a server, or with `SERVER` the server's monthly one."""
        await self._store.set_budget_override(guild_id, user_id, limit_cu)
        self._rules.pop(guild_id, None)

    async def set_blocked(self, guild_id: int, user_id: int, blocked: bool) -> None:
        """Block a member from starting jobs in a server, or lift the block."""
        await self._store.set_blocked(guild_id, user_id, blocked)
        self._rules.pop(guild_id, None)

    async def limits(
        self, user_id: int, guild_id: int | None, bot_in_guild: bool = True, *, unlimited: bool = False
    ) -> list[BudgetLimit]:
        """The budgets a request from this person, here, counts against (with `unlimited`, the unset ones
        too, as `inf`, for `/usage`)."""
        now = self._clock.now()
        in_server = guild_id is not None and bot_in_guild
        overrides = (await self.rules(guild_id))[0] if in_server and guild_id is not None else {}
        day, next_day = day_window(now)
        month, next_month = month_window(now)
        wanted = [
            (Scope.USER, overrides.get(user_id, self._config.budget_user_daily_cu), day, next_day),
            (Scope.SERVER, overrides.get(SERVER, self._config.budget_server_monthly_cu), month, next_month),
            (Scope.TOTAL, self._config.budget_total_monthly_cu, month, next_month),
        ]
        limits = []
        for scope, limit_cu, since, resets in wanted:
            if scope is Scope.SERVER and not in_server:
                continue
            if limit_cu is None and not unlimited:
                continue
            cap = math.inf if limit_cu is None else float(limit_cu)
            limits.append(BudgetLimit(scope, cap, since, resets, user_id=user_id, guild_id=guild_id))
        return limits

    async def standings(self, user_id: int, guild_id: int | None, bot_in_guild: bool = True) -> list[Standing]:
        """Every budget that applies here, set or not, with what was spent in it."""
        limits = await self.limits(user_id, guild_id, bot_in_guild, unlimited=True)
        return [Standing(limit, await self._store.spent(limit)) for limit in limits]

    async def price(self, job: JobRecord, *, confirmed: bool = False) -> JobRecord:
        """The job with its estimate; raises the refusal a requester reads, or `ConfirmationNeeded`."""
        if job.guild_id is not None and job.user_id in (await self.rules(job.guild_id))[1]:
            raise BlockedError(texts.BLOCKED)
        limits = await self.limits(job.user_id, job.guild_id, job.bot_in_guild)
        try:
            estimate: float | None = await self.pricer.estimate(job.model_id, job.inputs)
        except BadRequestError as exc:  # the real run would be refused the same way: say so now, for free
            raise InvalidInputError(texts.refused(exc.reason or str(exc))) from exc
        except ScenarioError as exc:
            if limits or self._config.confirm_above_cu is not None:
                raise UserFacingError(texts.cannot_price(exc)) from exc
            log.warning("Scenario could not price job %s (%s); no budget applies, so it runs unpriced", job.id, exc)
            estimate = None
        job = job.model_copy(update={"estimate_cu": estimate})
        for limit in limits:  # a request that cannot fit is refused before anyone is asked to confirm it
            await self._check(limit, job, await self._store.spent(limit))
        threshold = self._config.confirm_above_cu
        if not confirmed and threshold is not None and estimate is not None and estimate > threshold:
            await self._store.add_confirmation(job)
            raise ConfirmationNeeded(job)
        return job

    async def add(self, job: JobRecord) -> None:
        """Store the job, reserving its estimate, only if it fits every budget (one atomic step)."""
        limits = await self.limits(job.user_id, job.guild_id, job.bot_in_guild)
        session = await self._store.get_session(job.session_id) if job.session_id is not None else None
        if session is not None and session.budget_cu is not None:
            # Reserved in the same atomic step, so two processes taking ideas at once never pass the session's cap.
            ever, never = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
            cap = float(session.budget_cu)
            limits.append(BudgetLimit(Scope.SESSION, cap, ever, never, session_id=session.thread_id))
        refused = await self._store.add_within_budgets(job, limits)
        if refused is None:
            return
        spent = await self._store.spent(refused)
        if refused.scope is Scope.SESSION and session is not None:
            log.info("Job %s refused: over session %s's budget", job.id, session.thread_id)
            raise SessionBudgetError(
                session_texts.over_budget(session.title, spent, refused.limit_cu, job.estimate_cu or 0.0)
            )
        await self._check(refused, job, spent, force=True)

    async def _check(self, limit: BudgetLimit, job: JobRecord, spent: float, *, force: bool = False) -> None:
        estimate = job.estimate_cu or 0.0
        if force or spent + estimate > limit.limit_cu:
            log.info("Job %s refused: %s CU over the %s budget (%s of %s CU spent)", job.id, estimate,
                     limit.scope.value, spent, limit.limit_cu)  # fmt: skip
            remaining = limit.limit_cu - spent
            raise OverBudgetError(texts.over_budget(limit.scope.value, estimate, remaining, resets_text(limit.resets)))
