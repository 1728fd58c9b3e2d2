"""/show goes through the engine: the same rendering, size handling and lock as a first delivery.

A finished job is never changed by a re-post (terminal states never change); an undelivered one becomes
delivered, via "show", once its images are posted.
"""

from __future__ import annotations

from bot.jobs.models import JobState
from fakes.discord import DEFAULT_USER_ID, MessageFlags
from tests.cogs.conftest import World, interactions_handled, output_bytes, posts_with, private_text, state_becomes

# Made 14.5 minutes ago: the bot no longer uses the token (see test_delivery_fallbacks.py).
NEARLY_EXPIRED = 15 * 60 - 30


async def test_show_of_a_delivered_job_posts_it_again_and_leaves_the_job_as_it_was(world: World) -> None:
    interaction = await world.discord.send_command("imagine", {"prompt": "a red kite", "seed": 77})
    first = await world.result_of(interaction)
    job = await world.job_for(interaction, finished=True)
    assert (job.state, job.delivered_via, job.delivered_message_ids) == (JobState.DELIVERED, "interaction", [first.id])

    show = await world.discord.send_command("show", {"job_id": job.id})
    await world.wait_for(lambda: show.original is not None and show.original.attachments)
    assert show.original.id != first.id and not show.original.ephemeral
    assert show.original.content == f"Result of `{job.id}`, posted again on request."
    assert [a.data for a in show.original.attachments] == output_bytes(world, job)
    assert set(posts_with(world, output_bytes(world, job))) == {first, show.original}
    await interactions_handled(world)
    assert await world.store.get(job.id) == job  # state, message ids, delivered_via: all as they were


async def test_show_of_a_failed_job_says_it_has_no_images(world: World) -> None:
    world.scenario.fail_next_job("The prompt was flagged", "Describe it differently")
    interaction = await world.discord.send_command("imagine", {"prompt": "something flagged"})
    job = await world.job_for(interaction, finished=True)
    assert job.state is JobState.FAILED and not job.output_asset_ids
    requests_before = len(world.discord.requests)

    show = await world.discord.send_command("show", {"job_id": job.id})
    await world.wait_for(lambda: private_text(show))
    text = private_text(show)
    assert text.startswith(f"Job `{job.id}` has no images (failed: Scenario could not make this image")
    assert show.callbacks[0]["data"]["flags"] & MessageFlags.EPHEMERAL and show.ephemeral_all
    assert not [m for m in show.messages if m.attachments]
    assert [r.path for r in world.discord.requests[requests_before:] if r.files] == []
    await interactions_handled(world)
    assert await world.store.get(job.id) == job


async def test_show_of_an_undelivered_job_survives_a_413_like_a_first_delivery(world: World) -> None:
    world.discord.forbid_channel(world.discord.channel_id)
    world.discord.forbid_dms(DEFAULT_USER_ID)
    interaction = await world.discord.send_command(
        "imagine", {"prompt": "a lighthouse", "seed": 7}, age_seconds=NEARLY_EXPIRED
    )
    job = await world.job_for(interaction, finished=True)
    assert job.state is JobState.UNDELIVERED, job.last_error
    [image] = output_bytes(world, job)

    # The /show interaction says uploads may be 1.5 times the image, but Discord enforces half of that: the
    # first upload is refused with 413 / 40005, and the bot fits the file under half the limit and retries.
    limit = len(image) * 3 // 2
    show = await world.discord.send_command("show", {"job_id": job.id}, attachment_size_limit=limit)
    show.attachment_size_limit = limit // 2
    await world.wait_for(lambda: show.original is not None and show.original.attachments)

    refused = [r for r in world.discord.requests if r.files and r.status == 413]
    assert len(refused) == 1
    [attachment] = show.original.attachments
    assert attachment.size <= limit // 2 < len(image)
    fields = {f["name"]: f["value"] for f in show.original.embeds[0]["fields"]}
    assert "to fit" in fields["Note"]
    assert posts_with(world, [attachment.data]) == [show.original]
    shown = await state_becomes(world, job.id, JobState.DELIVERED)
    assert (shown.delivered_via, shown.delivered_message_ids, shown.last_error) == ("show", [show.original.id], None)
    assert shown.delivery_note and "to fit" in shown.delivery_note
