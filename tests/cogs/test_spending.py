"""Budgets, the price before running, Run / Cancel, /usage and /budget — real discord.py against the fakes.

The fake Scenario charges 10 CU an image (`price_per_image`), and answers its free dry runs with that same price.
"""

from __future__ import annotations

import csv
import io

from PIL import Image

from bot.jobs.models import JobState
from fakes.discord import DEFAULT_USER_ID
from tests.cogs.conftest import World, interactions_handled, private_text

MANAGE_GUILD = 1 << 5
BOB, CAROL = 6661, 6662


async def budget_world(make_world, **settings: object) -> World:
    world = await make_world(settings_overrides=settings)
    world.scenario.price_per_image = 10
    world.discord.user(BOB, "Bob")
    world.discord.user(CAROL, "Carol")
    return world


async def imagine(world: World, user_id: int = DEFAULT_USER_ID, **options: object):
    return await world.discord.send_command("imagine", {"prompt": f"a kite for {user_id}", **options}, user_id=user_id)


async def served(world: World, interaction) -> None:
    await world.result_of(interaction)


async def refused(world: World, interaction) -> str:
    await world.wait_for(lambda: private_text(interaction))
    await interactions_handled(world)
    return private_text(interaction)


def paid_posts(world: World) -> int:
    return len(world.generate_calls())


async def test_a_third_request_over_the_daily_budget_is_refused_naming_what_remains(make_world) -> None:
    world = await budget_world(make_world, budget_user_daily_cu=25)
    for _ in range(2):
        await served(world, await imagine(world))
    assert paid_posts(world) == 2

    third = await imagine(world)
    text = await refused(world, third)
    assert "your daily budget" in text and "only 5 CU left" in text and "resets" in text
    assert "10 CU" in text  # what it would have cost
    assert paid_posts(world) == 2  # no POST /generate for the refused request
    assert not third.original or third.original.deleted  # no public trace of it

    await served(world, await imagine(world, BOB))  # another person is still served
    assert paid_posts(world) == 3


async def test_the_estimate_shows_while_waiting_and_the_real_cost_on_the_result(make_world) -> None:
    world = await budget_world(make_world)
    interaction = await imagine(world, count=2)
    message = await world.result_of(interaction)
    progress = [edit for edit in world.discord.requests if edit.path.endswith("/messages/@original")]
    assert any("≈ 20 CU" in str(request.json) for request in progress)
    fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
    assert fields["Cost"] == "20 CU"
    assert len(world.scenario.dry_runs) == 1


async def test_the_server_budget_counts_everyone_in_the_server_but_not_dms(make_world) -> None:
    world = await budget_world(make_world, budget_server_monthly_cu=20)
    await served(world, await imagine(world))
    await served(world, await imagine(world, BOB))

    text = await refused(world, await imagine(world, CAROL))
    assert "this server's monthly budget" in text and "only 0 CU left" in text
    assert paid_posts(world) == 2
    # In a DM, Carol's request counts under her alone.
    await served(
        world, await world.discord.send_command("imagine", {"prompt": "dm kite"}, user_id=CAROL, guild_id=None)
    )
    assert paid_posts(world) == 3


async def test_the_total_budget_stops_the_whole_bot(make_world) -> None:
    world = await budget_world(make_world, budget_total_monthly_cu=15)
    await served(world, await imagine(world))
    dm = await world.discord.send_command("imagine", {"prompt": "dm kite"}, user_id=BOB, guild_id=None)
    text = await refused(world, dm)
    assert "the bot's monthly budget" in text and "only 5 CU left" in text
    assert paid_posts(world) == 1


async def test_a_refunded_failure_gives_its_reservation_back_and_a_kept_charge_does_not(make_world) -> None:
    world = await budget_world(make_world, budget_user_daily_cu=10)
    world.scenario.fail_next_job()
    failed = await imagine(world)
    job = await world.job_for(failed, finished=True)
    assert job.state is JobState.FAILED and job.cost == 0  # Scenario refunded it
    await served(world, await imagine(world))  # so the day's 10 CU are still there
    assert world.scenario.charged() == 10

    world.scenario.fail_next_job(refund=False)
    kept = await imagine(world, BOB)
    assert (await world.job_for(kept, finished=True)).cost == 10  # billing.disableRefund: charged anyway
    assert "your daily budget" in await refused(world, await imagine(world, BOB))
    assert world.scenario.charged() == 20


async def test_a_result_button_goes_through_the_same_budget(make_world) -> None:
    world = await budget_world(make_world, budget_user_daily_cu=15)
    interaction = await imagine(world)
    message = await world.result_of(interaction)
    job = await world.job_for(interaction)
    click = await world.discord.click(message.id, f"res:reroll:{job.id}")
    assert "your daily budget" in await refused(world, click)
    assert paid_posts(world) == 1


# -- Run / Cancel above CONFIRM_ABOVE_CU ----------------------------------------------------------------------


def confirmation(interaction):
    [prompt] = [m for m in interaction.followups if "cost about" in m.content]
    return prompt


async def asked(world: World, interaction):
    await world.wait_for(lambda: any("cost about" in m.content for m in interaction.followups))
    await interactions_handled(world)
    return confirmation(interaction)


async def test_run_and_cancel_above_the_confirmation_price(make_world) -> None:
    world = await budget_world(make_world, confirm_above_cu=15)
    await served(world, await imagine(world))  # 10 CU: not asked

    big = await imagine(world, count=2)
    prompt = await asked(world, big)
    assert "This will cost about 20 CU" in prompt.content and prompt.flags & 64  # private
    ids = [c["custom_id"] for row in prompt.components for c in row["components"]]
    assert [i.split(":")[1] for i in ids] == ["run", "cancel"]
    assert paid_posts(world) == 1 and len(await world.store.for_user(DEFAULT_USER_ID)) == 1  # nothing queued

    cancel = await world.discord.click(prompt.id, ids[1])
    await world.wait_for(lambda: "nothing was spent" in world.discord.messages[prompt.id].content.lower())
    await interactions_handled(world)
    assert paid_posts(world) == 1 and len(await world.store.for_user(DEFAULT_USER_ID)) == 1
    assert cancel.callbacks[-1]["type"] == 7

    again = await imagine(world, count=2)
    prompt = await asked(world, again)
    run = await world.discord.click(prompt.id, prompt.components[0]["components"][0]["custom_id"])
    message = await world.result_of(run)
    assert not message.flags & 64 and len(message.attachments) == 2  # the result is public, as usual
    assert paid_posts(world) == 2
    late = await world.discord.click(prompt.id, prompt.components[0]["components"][0]["custom_id"])
    assert "already run or canceled" in await refused(world, late)
    assert paid_posts(world) == 2


async def test_run_and_cancel_work_after_a_restart(make_world) -> None:
    world = await budget_world(make_world, confirm_above_cu=15)
    first = await asked(world, await imagine(world, count=2))
    second = await asked(world, await imagine(world, count=3))

    await world.restart_bot()
    cancel = await world.discord.click(second.id, second.components[0]["components"][1]["custom_id"])
    await world.wait_for(lambda: cancel.callbacks)
    run = await world.discord.click(first.id, first.components[0]["components"][0]["custom_id"])  # Run
    await world.result_of(run)
    await interactions_handled(world)
    assert [call.body.get("numOutputs") for call in world.generate_calls()] == [2]
    assert world.scenario.charged() == 20


# -- /usage and /budget -------------------------------------------------------------------------------------


async def test_usage_figures_are_the_costs_scenario_reported(make_world) -> None:
    world = await budget_world(make_world, budget_user_daily_cu=100, budget_server_monthly_cu=500)
    for count in (1, 3):
        await served(world, await imagine(world, count=count))
    await served(world, await imagine(world, BOB, count=2))
    world.scenario.fail_next_job()
    await world.job_for(await imagine(world, BOB), finished=True)  # refunded: counts nothing
    reported = sum(job.cost for job in world.scenario.jobs.values() if not job.refunded(world.scenario.now()))
    assert reported == world.scenario.charged() == 60

    mine = await world.discord.send_command("usage", {})
    text = await refused(world, mine)
    assert "Spent today (UTC): 40 CU" in text
    assert "Your daily budget: 60 CU left of 100 CU" in text
    assert "This server's monthly budget: 440 CU left of 500 CU" in text
    assert "The bot's monthly budget: unlimited" in text

    server = await world.discord.send_command("usage", {"scope": "server"}, member_permissions=MANAGE_GUILD)
    await world.wait_for(lambda: server.original is not None and server.original.attachments)
    message = server.original
    assert message.flags & 64
    assert "Spent this month: 60 CU over 4 job(s)" in message.content
    assert f"1. <@{DEFAULT_USER_ID}> — 40 CU" in message.content and f"2. <@{BOB}> — 20 CU" in message.content
    files = {a.filename: a.data for a in message.attachments}
    chart = Image.open(io.BytesIO(files["usage-daily.png"]))
    assert chart.format == "PNG"
    [csv_name] = [name for name in files if name.endswith(".csv")]
    rows = list(csv.DictReader(io.StringIO(files[csv_name].decode())))
    assert len(rows) == 4 and sum(float(row["charged_cu"]) for row in rows) == reported

    denied = await world.discord.send_command("usage", {"scope": "server"}, user_id=BOB)
    assert "Manage Server" in await refused(world, denied)


async def test_block_and_unblock(make_world) -> None:
    world = await budget_world(make_world)
    block = await world.discord.send_command("budget block", {"member": BOB}, member_permissions=MANAGE_GUILD)
    assert "blocked" in await refused(world, block)

    text = await refused(world, await imagine(world, BOB))
    assert "blocked you" in text and "Nothing was spent" in text
    assert paid_posts(world) == 0
    await served(world, await imagine(world))  # others are not affected

    unblock = await world.discord.send_command("budget unblock", {"member": BOB}, member_permissions=MANAGE_GUILD)
    assert "no longer blocked" in await refused(world, unblock)
    await served(world, await imagine(world, BOB))


async def test_budget_overrides_for_a_member_and_the_server(make_world) -> None:
    world = await budget_world(make_world, budget_user_daily_cu=10)
    await world.discord.send_command("budget user", {"member": BOB, "daily_cu": 30}, member_permissions=MANAGE_GUILD)
    await world.discord.send_command("budget server", {"monthly_cu": 35}, member_permissions=MANAGE_GUILD)
    await interactions_handled(world)
    for _ in range(3):
        await served(world, await imagine(world, BOB))
    assert "your daily budget" in await refused(world, await imagine(world, BOB))
    # The server has 5 CU left: even someone with their own daily budget untouched is refused here.
    assert "this server's monthly budget" in await refused(world, await imagine(world))

    show = await world.discord.send_command("budget show", {}, member_permissions=MANAGE_GUILD)
    text = await refused(world, show)
    assert "35 CU (set here)" in text and f"<@{BOB}> 30 CU" in text and "Blocked: nobody" in text
