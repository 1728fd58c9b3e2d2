"""Budgets as an operator configures them: `python -m bot` with BUDGET_* and CONFIRM_ABOVE_CU in its environment,
Scenario charging 10 CU an image (its dry runs quoting the same)."""

from __future__ import annotations

from tests.e2e.conftest import E2E, private_reply

BOB = 4343


async def test_daily_budget_and_confirmation_through_the_process(make_e2e) -> None:
    e2e: E2E = await make_e2e(
        env={"BUDGET_USER_DAILY_CU": "25", "CONFIRM_ABOVE_CU": "15"}, scenario={"price_per_image": 10}
    )
    for n in range(2):
        await e2e.result_of(await e2e.imagine(f"kite {n}"))
    third = await e2e.imagine("kite 3")
    await e2e.wait_for(lambda: private_reply(third))
    assert "your daily budget has only 5 CU left" in private_reply(third) and "resets" in private_reply(third)
    assert len(e2e.paid_generates()) == 2

    big = await e2e.imagine("two kites", count=2, user_id=BOB)  # 20 CU: above CONFIRM_ABOVE_CU
    await e2e.wait_for(lambda: "This will cost about 20 CU" in private_reply(big))
    [prompt] = [m for m in big.followups if m.ephemeral and not m.deleted]
    run = await e2e.discord.click(prompt.id, prompt.components[0]["components"][0]["custom_id"], user_id=BOB)
    result = await e2e.result_of(run)
    assert len(result.attachments) == 2 and len(e2e.paid_generates()) == 3
