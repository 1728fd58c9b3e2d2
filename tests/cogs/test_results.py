"""Result buttons, forms, /show, /history and /jobs — through real discord.py and the fakes."""

from __future__ import annotations

from bot.jobs.models import Command, JobState
from fakes.discord import DEFAULT_USER_ID
from tests.cogs.conftest import World, private_text

MANAGE_MESSAGES = 1 << 13
STRANGER, MODERATOR = 5551, 5552


def custom_ids(message) -> list[str]:
    return [c["custom_id"] for row in message.components for c in row.get("components", []) if "custom_id" in c]


async def first_result(world: World, **options: object):
    interaction = await world.discord.send_command("imagine", {"prompt": "a red kite", "seed": 77, **options})
    message = await world.result_of(interaction)
    return interaction, message, await world.job_for(interaction)


async def test_every_result_carries_its_buttons(world: World) -> None:
    _, message, job = await first_result(world, count=2)
    assert custom_ids(message) == [
        f"res:reroll:{job.id}",
        f"res:edit:{job.id}",
        f"res:char:{job.id}:0",
        f"res:char:{job.id}:1",
        f"res:enhance:{job.id}:0",
        f"res:enhance:{job.id}:1",
        f"res:save:{job.id}",
        f"res:delete:{job.id}",
    ]


async def test_reroll_runs_the_same_parameters_with_a_new_seed(world: World) -> None:
    _, message, parent = await first_result(world, size="portrait_4_3")
    click = await world.discord.click(message.id, f"res:reroll:{parent.id}")
    child_message = await world.result_of(click)
    child = await world.job_for(click)

    first, second = world.generate_calls()
    assert {k: v for k, v in second.body.items() if k != "seed"} == {k: v for k, v in first.body.items() if k != "seed"}
    assert second.body["seed"] != first.body["seed"]
    assert child.parent_job_id == parent.id
    assert child_message.id != message.id  # a new message, the parent stays
    fields = {f["name"]: f["value"] for f in child_message.embeds[0]["fields"]}
    assert str(message.id) in fields["From"]


async def test_same_seed_edit_prompt_round_trip(world: World) -> None:
    _, message, parent = await first_result(world, size="square")
    click = await world.discord.click(message.id, f"res:edit:{parent.id}")
    await world.wait_for(lambda: click.modal is not None)
    [prefilled] = [c for row in click.modal["components"] for c in _inputs(row)]
    assert prefilled["value"] == "a red kite"

    submit = await world.discord.submit_modal(click.modal["custom_id"], {"prompt": "a blue kite"})
    await world.result_of(submit)
    second = world.generate_calls()[1]
    assert second.body == {"prompt": "a blue kite", "seed": 77, "imageSize": "square"}


def _inputs(row: dict) -> list[dict]:
    return row.get("components") or ([row["component"]] if "component" in row else [])


async def test_use_as_character_starts_a_character_job_from_that_image(world: World) -> None:
    _, message, parent = await first_result(world, count=2)
    click = await world.discord.click(message.id, f"res:char:{parent.id}:1")
    await world.wait_for(lambda: click.modal is not None)
    submit = await world.discord.submit_modal(click.modal["custom_id"], {"prompt": "the kite flies over Paris"})
    await world.result_of(submit)

    child = await world.job_for(submit)
    assert child.command is Command.CHARACTER
    second = world.generate_calls()[1]
    assert second.model_id == "model_ideogram-character"
    assert second.body == {"prompt": "the kite flies over Paris", "characterReferenceImage": parent.output_asset_ids[1]}
    assert not world.scenario.uploads  # the output is already a Scenario asset: nothing re-uploaded


async def test_delete_is_refused_for_a_stranger(world: World) -> None:
    _, message, job = await first_result(world)
    click = await world.discord.click(message.id, f"res:delete:{job.id}", user_id=STRANGER, member_permissions=0)
    await world.wait_for(lambda: private_text(click))
    assert "Only the person who asked" in private_text(click)
    assert not world.discord.messages[message.id].deleted


async def test_delete_is_allowed_for_the_requester(world: World) -> None:
    _, message, job = await first_result(world)
    await world.discord.click(message.id, f"res:delete:{job.id}")
    await world.wait_for(lambda: world.discord.messages[message.id].deleted)


async def test_delete_is_allowed_for_a_moderator(world: World) -> None:
    _, message, job = await first_result(world)
    await world.discord.click(message.id, f"res:delete:{job.id}", user_id=MODERATOR, member_permissions=MANAGE_MESSAGES)
    await world.wait_for(lambda: world.discord.messages[message.id].deleted)


async def test_buttons_still_work_after_the_bot_restarts(world: World) -> None:
    _, message, parent = await first_result(world)
    await world.restart_bot()

    click = await world.discord.click(message.id, f"res:reroll:{parent.id}")
    await world.result_of(click)
    assert len(world.generate_calls()) == 2

    click = await world.discord.click(message.id, f"res:edit:{parent.id}")
    await world.wait_for(lambda: click.modal is not None)
    await world.restart_bot()  # the form was opened before this restart and is submitted after it
    submit = await world.discord.submit_modal(click.modal["custom_id"], {"prompt": "after the restart"})
    await world.result_of(submit)
    assert world.generate_calls()[-1].body["prompt"] == "after the restart"


async def test_a_click_while_the_queue_is_full_gets_the_same_answer_as_a_command(make_world) -> None:
    world = await make_world(settings_overrides={"max_queued_per_user": 1, "max_parallel_jobs": 1})
    _, message, parent = await first_result(world)
    world.scenario.job_duration = 10_000  # keep the next jobs busy
    await world.discord.send_command("imagine", {"prompt": "occupies the slot"})
    await world.wait_for(lambda: len(world.generate_calls()) == 2)
    await world.discord.send_command("imagine", {"prompt": "waits in line"})
    await world.wait_for(lambda: world.bot.engine.queue.queued_count(DEFAULT_USER_ID) == 1)

    click = await world.discord.click(message.id, f"res:reroll:{parent.id}")
    await world.wait_for(lambda: private_text(click))
    assert "jobs waiting" in private_text(click)


async def test_show_reposts_a_result_with_working_buttons(world: World) -> None:
    _, message, job = await first_result(world)
    show = await world.discord.send_command("show", {"job_id": job.id})
    reposted = await _wait_attachments(world, show)
    assert [a.data for a in reposted.attachments] == [a.data for a in message.attachments]
    assert f"res:reroll:{job.id}" in custom_ids(reposted)


async def _wait_attachments(world: World, interaction):
    await world.wait_for(lambda: interaction.original is not None and interaction.original.attachments)
    return interaction.original


async def test_show_refuses_a_job_from_elsewhere(world: World) -> None:
    _, _, job = await first_result(world)
    show = await world.discord.send_command("show", {"job_id": job.id}, user_id=STRANGER, guild_id=None)
    await world.wait_for(lambda: private_text(show))
    assert "no job" in private_text(show)


async def test_history_lists_the_callers_jobs_privately(world: World) -> None:
    _, message, job = await first_result(world)
    history = await world.discord.send_command("history", {})
    await world.wait_for(lambda: private_text(history))
    text = private_text(history)
    assert job.id in text and "a red kite" in text and str(message.id) in text
    assert history.callbacks[0]["data"]["flags"] & 64
    other = await world.discord.send_command("history", {}, user_id=STRANGER)
    await world.wait_for(lambda: private_text(other))
    assert job.id not in private_text(other)


async def test_jobs_shows_position_and_cancels_a_queued_job(make_world) -> None:
    world = await make_world(settings_overrides={"max_parallel_jobs": 1})
    world.scenario.job_duration = 10_000
    await world.discord.send_command("imagine", {"prompt": "runs"}, user_id=1)
    await world.wait_for(lambda: len(world.generate_calls()) == 1)
    waiting = await world.discord.send_command("imagine", {"prompt": "waits"}, user_id=2)
    queued = await world.job_for(waiting)

    listing = await world.discord.send_command("jobs", {}, user_id=2)
    await world.wait_for(lambda: private_text(listing))
    assert queued.id in private_text(listing) and "#1 in line" in private_text(listing)

    cancel = await world.discord.send_command("jobs", {"cancel": queued.id}, user_id=2)
    await world.wait_for(lambda: private_text(cancel))
    assert f"Canceled `{queued.id}`" in private_text(cancel)
    assert (await world.store.get(queued.id)).state is JobState.CANCELED
    await world.wait_for(lambda: "Canceled" in (waiting.original.content or ""))


async def test_a_user_install_where_the_bot_is_absent_replies_only_through_the_interaction(world: World) -> None:
    interaction = await world.discord.send_command("imagine", {"prompt": "travelling app"}, user_install=True)
    message = await world.result_of(interaction)
    job = await world.job_for(interaction)
    assert message.attachments and not message.ephemeral
    assert (job.delivered_via, job.delivered_message_ids) == ("interaction", [message.id])
    channel_posts = [r for r in world.discord.requests if r.method == "POST" and r.path.startswith("/channels/")]
    assert not channel_posts
    # Progress and result are edits of the one reply: no followup (Discord allows only 5 for a user install).
    assert interaction.messages == [message] and not interaction.followups


async def test_a_command_in_a_dm_with_the_bot_works(world: World) -> None:
    interaction = await world.discord.send_command("imagine", {"prompt": "dm me"}, guild_id=None)
    assert (await world.result_of(interaction)).attachments
