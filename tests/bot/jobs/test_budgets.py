"""Admission within budgets, in the engine alone (no Discord): the price from one dry run, a burst that never
overshoots, and a request that waits for confirmation until its requester runs it."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import UserFacingError
from bot.jobs.budgets import ConfirmationNeeded, OverBudgetError
from bot.jobs.models import JobState
from bot.scenario import IDEOGRAM_V4
from fakes.scenario import Fault
from tests.bot.jobs.conftest import Harness, new_job


async def test_a_burst_of_twenty_never_goes_over_the_daily_budget_and_costs_one_dry_run(harness: Harness) -> None:
    harness.fake.price_per_image = 10
    engine = harness.engine(budget_user_daily_cu=55, max_queued_per_user=20)
    await engine.start()
    jobs = [new_job(prompt=f"kite {n}") for n in range(20)]

    outcomes = await asyncio.gather(*(engine.submit(job) for job in jobs), return_exceptions=True)
    await harness.settle()

    refusals = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refusals) == 15 and all(isinstance(o, OverBudgetError) for o in refusals)
    assert "your daily budget has only 5 CU left" in str(refusals[-1])
    assert len(harness.fake.generate_calls) == 5 and harness.fake.charged() == 50
    assert len(harness.fake.dry_runs) == 1  # identical but for the prompt: one quote served the whole burst
    stored = [await harness.store.get(job.id) for job in jobs]
    assert sum(1 for job in stored if job is not None and job.state is JobState.DELIVERED) == 5


async def test_quotes_are_cached_by_the_inputs_that_change_the_price(harness: Harness) -> None:
    pricer = harness.engine().budgets.pricer
    assert await pricer.estimate(IDEOGRAM_V4, {"prompt": "a", "numOutputs": 2}) == 12  # 2 images at BALANCED
    assert await pricer.estimate(IDEOGRAM_V4, {"prompt": "b", "numOutputs": 2, "seed": 5}) == 12
    assert len(harness.fake.dry_runs) == 1
    assert await pricer.estimate(IDEOGRAM_V4, {"prompt": "a", "numOutputs": 2, "renderingSpeed": "QUALITY"}) == 18
    assert len(harness.fake.dry_runs) == 2
    assert not harness.fake.generate_calls and not harness.fake.jobs  # a dry run runs and charges nothing


async def test_a_request_that_cannot_be_priced_is_refused_only_when_a_budget_applies(harness: Harness) -> None:
    harness.fake.inject(Fault(method="POST", path="^/v1/generate/", status=503, times=6, dry_run=True))
    limited = harness.engine(budget_total_monthly_cu=100)
    with pytest.raises(UserFacingError, match="could not price"):
        await limited.submit(new_job())
    assert not harness.fake.generate_calls

    unlimited = harness.engine()  # nothing to protect: the job runs, unpriced
    await unlimited.start()
    job = new_job()
    await unlimited.submit(job)
    await harness.settle()
    assert (await harness.store.get(job.id)).state is JobState.DELIVERED


async def test_above_the_confirmation_price_nothing_runs_until_confirmed(harness: Harness) -> None:
    engine = harness.engine(confirm_above_cu=10)
    await engine.start()
    job = new_job(numOutputs=2)
    with pytest.raises(ConfirmationNeeded) as waiting:
        await engine.submit(job)
    assert waiting.value.job.estimate_cu == 12
    await harness.settle()
    assert await harness.store.get(job.id) is None and not harness.fake.generate_calls

    await engine.run_confirmed(job.id, {"user_id": job.user_id, "interaction_token": "fresh"})
    await harness.settle()
    ran = await harness.store.get(job.id)
    assert ran.state is JobState.DELIVERED and ran.interaction_token == "fresh" and ran.cost == 12
    with pytest.raises(UserFacingError, match="already run or canceled"):
        await engine.cancel_confirmation(job.id, job.user_id)
