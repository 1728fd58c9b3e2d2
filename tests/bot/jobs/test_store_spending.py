"""The spending part of the `JobStore` contract, on SQLite and PostgreSQL alike: charges, budgets checked and
reserved in one atomic step (never overshot by concurrent admissions, even from several processes), admins'
overrides and blocks, and requests waiting for confirmation."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from bot.jobs.models import JobState
from bot.jobs.spend import BudgetLimit, Scope
from bot.jobs.store import JobStore
from tests.bot.jobs.conftest import T0, MakeStore, record

DAY_END = T0 + timedelta(days=1)


def limit(scope: Scope, cu: float, *, user_id: int | None = 1, guild_id: int | None = 20) -> BudgetLimit:
    return BudgetLimit(scope, cu, T0 - timedelta(hours=1), DAY_END, user_id=user_id, guild_id=guild_id)


async def test_a_jobs_charge_is_its_cost_else_its_estimate_while_active_and_nothing_once_refunded(
    store: JobStore,
) -> None:
    await store.add(record(state=JobState.QUEUED, estimate_cu=10))  # reserved: 10
    await store.add(record(state=JobState.RUNNING, estimate_cu=10, cost=12))  # Scenario's answer: 12
    await store.add(record(state=JobState.DELIVERED, estimate_cu=10, cost=8))  # 8
    await store.add(record(state=JobState.FAILED, estimate_cu=10, cost=0))  # refunded: 0
    await store.add(record(state=JobState.FAILED, estimate_cu=10, cost=9))  # no refund: 9
    await store.add(record(state=JobState.CANCELED, estimate_cu=10))  # never sent: 0
    await store.add(record(state=JobState.DELIVERED, created=T0 - timedelta(days=1), cost=50))  # another day

    assert await store.spent(limit(Scope.USER, 100)) == 10 + 12 + 8 + 9
    charges = await store.charges(T0 - timedelta(hours=1), user_id=1)
    assert [c.charge for c in charges] == [10, 12, 8, 0, 9, 0]


async def test_each_budget_counts_its_own_jobs(store: JobStore) -> None:
    await store.add(record(1, guild_id=20, cost=5, state=JobState.DELIVERED))
    await store.add(record(1, guild_id=None, cost=7, state=JobState.DELIVERED))  # a DM: the person's only
    await store.add(record(2, guild_id=20, cost=11, state=JobState.DELIVERED))
    await store.add(record(3, guild_id=20, bot_in_guild=False, cost=13, state=JobState.DELIVERED))  # user install
    await store.add(record(4, guild_id=30, cost=17, state=JobState.DELIVERED))

    assert await store.spent(limit(Scope.USER, 100)) == 12
    assert await store.spent(limit(Scope.SERVER, 100)) == 16
    assert await store.spent(limit(Scope.TOTAL, 100)) == 53
    assert [c.user_id for c in await store.charges(T0, guild_id=20)] == [1, 2]


async def test_a_job_over_a_budget_is_not_stored_and_the_budget_is_named(store: JobStore) -> None:
    await store.add(record(cost=20, state=JobState.DELIVERED))
    limits = [limit(Scope.TOTAL, 1000), limit(Scope.USER, 25)]

    over = record(estimate_cu=10)
    assert await store.add_within_budgets(over, limits) == limits[1]
    assert await store.get(over.id) is None

    fits = record(estimate_cu=5)
    assert await store.add_within_budgets(fits, limits) is None
    assert await store.get(fits.id) == fits
    assert await store.add_within_budgets(record(estimate_cu=0.5), limits) == limits[1]  # 25 reached exactly
    assert await store.add_within_budgets(record(estimate_cu=3), []) is None  # no budget applies


async def test_twenty_concurrent_admissions_from_several_processes_never_overshoot(make_store: MakeStore) -> None:
    async with contextlib.AsyncExitStack() as stack:
        stores = [await stack.enter_async_context(make_store()) for _ in range(4)]  # four bot processes
        budgets = [limit(Scope.USER, 55), limit(Scope.TOTAL, 1000)]
        jobs = [record(estimate_cu=10) for _ in range(20)]
        results = await asyncio.gather(*(stores[n % 4].add_within_budgets(job, budgets) for n, job in enumerate(jobs)))

        admitted = [job for job, refused in zip(jobs, results, strict=True) if refused is None]
        assert len(admitted) == 5 and all(refused == budgets[0] for refused in results if refused is not None)
        assert await stores[0].spent(budgets[0]) == 50 <= 55
        assert {c.job_id for c in await stores[1].charges(T0 - timedelta(hours=1))} == {job.id for job in admitted}


async def test_overrides_and_blocks_are_per_server(store: JobStore) -> None:
    await store.set_budget_override(20, 1, 30)
    await store.set_budget_override(20, 0, 500)
    await store.set_budget_override(20, 1, 40)  # replaced
    await store.set_budget_override(30, 1, 5)
    assert await store.budget_overrides(20) == {1: 40, 0: 500}
    await store.set_budget_override(20, 1, None)
    assert await store.budget_overrides(20) == {0: 500}

    await store.set_blocked(20, 7, True)
    await store.set_blocked(20, 7, True)  # twice is once
    assert await store.blocked_users(20) == {7} and await store.blocked_users(30) == set()
    await store.set_blocked(20, 7, False)
    assert await store.blocked_users(20) == set()


async def test_a_waiting_request_is_taken_once(make_store: MakeStore) -> None:
    job = record(estimate_cu=40, interaction_token="tok", guild_id=20)
    async with make_store() as s:
        await s.add_confirmation(job)
    async with make_store() as first, make_store() as second:  # after a restart, two processes race for it
        taken = await asyncio.gather(first.take_confirmation(job.id), second.take_confirmation(job.id))
        assert [t for t in taken if t is not None] == [job]
        assert await first.get(job.id) is None  # waiting is not queued


async def test_a_request_left_waiting_a_day_expires(make_store: MakeStore) -> None:
    now = [T0]
    async with make_store(clock=lambda: now[0]) as s:
        stale, fresh = record(estimate_cu=40), record(estimate_cu=40)
        await s.add_confirmation(stale)
        now[0] = T0 + timedelta(hours=23)
        await s.add_confirmation(fresh)
        now[0] = T0 + timedelta(days=1, minutes=1)
        assert await s.take_confirmation(stale.id) is None  # a price quoted yesterday is asked for again
        assert await s.take_confirmation(fresh.id) == fresh


async def test_a_sessions_budget_counts_its_ideas_and_is_never_overshot_by_several_processes(
    make_store: MakeStore,
) -> None:
    session = BudgetLimit(Scope.SESSION, 35, T0 - timedelta(days=365), DAY_END, session_id=7)
    async with contextlib.AsyncExitStack() as stack:
        stores = [await stack.enter_async_context(make_store()) for _ in range(3)]  # three bot processes
        await stores[0].add(record(2, session_id=8, cost=100, state=JobState.DELIVERED))  # another session's
        await stores[0].add(record(2, session_id=7, cost=5, state=JobState.DELIVERED))
        jobs = [record(n % 4, session_id=7, estimate_cu=10) for n in range(9)]  # several people's ideas at once
        admissions = (stores[n % 3].add_within_budgets(job, [session]) for n, job in enumerate(jobs))
        results = await asyncio.gather(*admissions)

        assert sum(refused is None for refused in results) == 3  # 5 spent + 3 ideas of 10 fit 35; a fourth would not
        assert all(refused == session for refused in results if refused is not None)
        assert await stores[2].spent(session) == 35
