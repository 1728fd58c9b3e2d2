"""Who may act on a job by its id (`/show`, the result buttons, `/jobs cancel`): `JobRecord.visible_to`.

The requester always; in the same server, anyone once the result was posted publicly there; a job made in a
DM is its requester's alone. A refusal is a private reply that does not even say whether the job exists, and
nothing is posted, fetched or started.
"""

from __future__ import annotations

import pytest

from bot.jobs.models import JobRecord, JobState
from fakes.discord import DEFAULT_USER_ID, FakeInteraction, FakeMessage, MessageFlags
from tests.cogs.conftest import World, interactions_handled, output_bytes, posts_with, private_text

OWNER, STRANGER = DEFAULT_USER_ID, 5551
# Made 14.5 minutes ago: the bot no longer uses the token (see test_delivery_fallbacks.py).
NEARLY_EXPIRED = 15 * 60 - 30
ACTIONS = {"reroll": "res:reroll:{id}", "edit": "res:edit:{id}", "char": "res:char:{id}:0"}


async def result(world: World, *, guild_id: int | None) -> tuple[FakeMessage, JobRecord]:
    """The owner's /imagine, delivered (in a DM with the bot when `guild_id` is None)."""
    interaction = await world.discord.send_command("imagine", {"prompt": "my secret garden"}, guild_id=guild_id)
    message = await world.result_of(interaction)
    return message, await world.job_for(interaction)


async def refused(world: World, interaction: FakeInteraction, job: JobRecord) -> None:
    """The private "no such job" reply, and nothing else came of the interaction."""
    await world.wait_for(lambda: private_text(interaction))
    assert private_text(interaction) == f"There is no job `{job.id}` you can use here."
    assert interaction.messages and interaction.ephemeral_all
    assert interaction.callbacks[0]["data"]["flags"] & MessageFlags.EPHEMERAL
    assert not [m for m in interaction.messages if m.attachments or m.embeds]
    assert interaction.modal is None


def only_the_first_post_has(world: World, job: JobRecord, message: FakeMessage) -> None:
    assert posts_with(world, output_bytes(world, job)) == [message], "the images were posted again"


async def stranger_jobs(world: World) -> list[JobRecord]:
    return await world.store.for_user(STRANGER, limit=10)


# -- /show ------------------------------------------------------------------------------------------------


async def test_show_of_a_dm_job_by_another_user_in_their_dm_is_refused(world: World) -> None:
    message, job = await result(world, guild_id=None)
    requests_before = len(world.scenario.request_log)

    show = await world.discord.send_command("show", {"job_id": job.id}, user_id=STRANGER, guild_id=None)
    await refused(world, show, job)
    only_the_first_post_has(world, job, message)
    assert not [m for m in world.discord.dm_messages(STRANGER) if m.attachments]
    assert len(world.scenario.request_log) == requests_before, "the images were fetched for a stranger"


async def test_show_of_a_dm_job_by_its_requester_works(world: World) -> None:
    # The control for the test above: the refusal is about who asks, not about /show in a DM.
    message, job = await result(world, guild_id=None)
    show = await world.discord.send_command("show", {"job_id": job.id}, user_id=OWNER, guild_id=None)
    await world.wait_for(lambda: show.original is not None and show.original.attachments)
    assert [a.data for a in show.original.attachments] == [a.data for a in message.attachments]


async def test_show_of_a_public_result_from_another_server_is_refused(world: World) -> None:
    message, job = await result(world, guild_id=world.discord.guild_id)
    assert (job.state, job.delivered_via) == (JobState.DELIVERED, "interaction")
    other = world.discord.add_guild(name="Elsewhere")

    show = await world.discord.send_command("show", {"job_id": job.id}, user_id=STRANGER, guild_id=other.id)
    await refused(world, show, job)
    only_the_first_post_has(world, job, message)


async def test_show_of_a_public_result_in_the_same_server_is_allowed(world: World) -> None:
    message, job = await result(world, guild_id=world.discord.guild_id)

    show = await world.discord.send_command("show", {"job_id": job.id}, user_id=STRANGER)
    await world.wait_for(lambda: show.original is not None and show.original.attachments)
    assert [a.data for a in show.original.attachments] == [a.data for a in message.attachments]
    assert not show.original.ephemeral and show.original.guild_id == world.discord.guild_id
    await interactions_handled(world)
    assert await world.store.get(job.id) == job  # a re-post changes nothing about the job


async def test_a_result_that_reached_its_requester_by_dm_stays_private_in_its_server(world: World) -> None:
    # Made in the server, but delivered by DM (the token had expired and the bot may not post in the channel):
    # nobody else in the server has seen it.
    world.discord.forbid_channel(world.discord.channel_id)
    interaction = await world.discord.send_command(
        "imagine", {"prompt": "my secret garden"}, age_seconds=NEARLY_EXPIRED
    )
    job = await world.job_for(interaction, finished=True)
    assert (job.state, job.delivered_via, job.guild_id) == (JobState.DELIVERED, "dm", world.discord.guild_id)
    [message] = posts_with(world, output_bytes(world, job))

    show = await world.discord.send_command("show", {"job_id": job.id}, user_id=STRANGER)
    await refused(world, show, job)
    only_the_first_post_has(world, job, message)


# -- result buttons ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_stranger_cannot_use_the_buttons_of_a_dm_result(world: World, action: str) -> None:
    # A stranger cannot see the owner's DMs, but a custom_id is easy to replay (a modified client): the fake
    # delivers the click as coming from the stranger's own DM with the bot.
    message, job = await result(world, guild_id=None)
    click = await world.discord.click(message.id, ACTIONS[action].format(id=job.id), user_id=STRANGER)
    assert click.guild_id is None
    await refused(world, click, job)
    assert len(world.generate_calls()) == 1 and not await stranger_jobs(world)


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_dm_result_shown_in_a_server_stays_its_requesters(world: World, action: str) -> None:
    # The requester re-posts their DM job in a server: its buttons are there for everyone to click, but the
    # job is still theirs alone.
    _, job = await result(world, guild_id=None)
    show = await world.discord.send_command("show", {"job_id": job.id}, user_id=OWNER)
    await world.wait_for(lambda: show.original is not None and show.original.attachments)

    click = await world.discord.click(show.original.id, ACTIONS[action].format(id=job.id), user_id=STRANGER)
    await refused(world, click, job)
    assert len(world.generate_calls()) == 1 and not await stranger_jobs(world)


@pytest.mark.parametrize("action", ACTIONS)
async def test_a_stranger_may_use_the_buttons_of_a_public_result(world: World, action: str) -> None:
    message, job = await result(world, guild_id=world.discord.guild_id)
    click = await world.discord.click(message.id, ACTIONS[action].format(id=job.id), user_id=STRANGER)
    started = click
    if action != "reroll":  # the form opens for the stranger, and its submission starts the job
        await world.wait_for(lambda: click.modal is not None)
        started = await world.discord.submit_modal(click.modal["custom_id"], {"prompt": "my take on it"})

    child_message = await world.result_of(started)
    child = await world.job_for(started)
    assert child.user_id == STRANGER and child.parent_job_id == job.id
    assert child_message.attachments and len(world.generate_calls()) == 2


# -- /jobs cancel -----------------------------------------------------------------------------------------


async def test_cancel_of_someone_elses_queued_job_is_refused(make_world) -> None:
    world = await make_world(settings_overrides={"max_parallel_jobs": 1})
    world.scenario.job_duration = 10_000  # the first job holds the only slot
    await world.discord.send_command("imagine", {"prompt": "runs"}, user_id=1)
    await world.wait_for(lambda: len(world.generate_calls()) == 1)
    waiting = await world.discord.send_command("imagine", {"prompt": "waits"}, user_id=OWNER)
    queued = await world.job_for(waiting)
    assert world.bot.engine.position(queued.id) == 1

    cancel = await world.discord.send_command("jobs", {"cancel": queued.id}, user_id=STRANGER)
    await world.wait_for(lambda: private_text(cancel))
    assert f"There is no job `{queued.id}` you can use here." in private_text(cancel)
    assert "Canceled" not in private_text(cancel) and cancel.ephemeral_all

    assert (await world.store.get(queued.id)).state is JobState.QUEUED
    assert world.bot.engine.position(queued.id) == 1
    assert "Canceled" not in (waiting.original.content or "")
    listing = await world.discord.send_command("jobs", {}, user_id=OWNER)
    await world.wait_for(lambda: private_text(listing))
    assert queued.id in private_text(listing) and "#1 in line" in private_text(listing)
