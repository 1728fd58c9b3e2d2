"""`/config nsfw` on images the fake Scenario labels NSFW (a prompt with the word `nsfw`), wherever a result is
posted, and `/config audit_channel`'s line per finished job."""

from __future__ import annotations

import re

from bot.jobs.models import JobState
from fakes.discord import DEFAULT_USER_ID
from tests.cogs.conftest import World, output_bytes, posts_with
from tests.cogs.test_config import configure

NSFW_PROMPT = "a figure study, nsfw"


async def finished(world: World, options: dict, **where: object):
    interaction = await world.discord.send_command("imagine", options, **where)
    job = await world.job_for(interaction, finished=True)
    assert job.state is JobState.DELIVERED, job.last_error
    return interaction, job


async def test_the_fake_labels_outputs_and_the_job_keeps_the_labels(world: World) -> None:
    _, job = await finished(world, {"prompt": NSFW_PROMPT, "count": 2})
    assert job.nsfw_labels == {asset_id: ["nudity", "explicit"] for asset_id in job.output_asset_ids}

    _, clean = await finished(world, {"prompt": "a lighthouse"})
    assert clean.nsfw_labels == {}


async def test_spoiler_is_the_default_and_applies_to_show_too(world: World) -> None:
    interaction, job = await finished(world, {"prompt": NSFW_PROMPT})

    message = interaction.original
    assert [a.filename for a in message.attachments] == [f"SPOILER_imagine-{job.id}-1.png"]
    assert "NSFW: shown as a spoiler" in message.content
    _, clean = await finished(world, {"prompt": "a lighthouse"})
    assert not world.discord.messages[clean.delivered_message_ids[0]].attachments[0].filename.startswith("SPOILER_")

    show = await world.discord.send_command("show", {"job_id": job.id})
    await world.wait_for(lambda: show.original is not None and show.original.attachments)
    assert show.original.attachments[0].filename.startswith("SPOILER_")


async def test_block_leaves_labelled_images_out_and_says_so(world: World) -> None:
    assert "not posted" in await configure(world, "nsfw", {"policy": "block"})

    interaction, job = await finished(world, {"prompt": NSFW_PROMPT})

    assert interaction.original.attachments == []
    assert "does not post such images" in interaction.original.content
    assert posts_with(world, output_bytes(world, job)) == []  # nowhere: not in a DM either
    assert world.discord.dm_messages(DEFAULT_USER_ID) == []

    await world.restart_bot()  # the policy is stored
    _, again = await finished(world, {"prompt": NSFW_PROMPT + " again"})
    assert posts_with(world, output_bytes(world, again)) == []


async def test_age_restricted_only_posts_in_such_a_channel_and_dms_the_requester_elsewhere(world: World) -> None:
    await configure(world, "nsfw", {"policy": "age_restricted_only"})
    lounge = world.discord.add_channel(name="lounge", nsfw=True)
    await world.wait_for(lambda: world.bot.get_channel(lounge.id) is not None)

    # In an age-restricted channel: posted there, as they are.
    inside, job = await finished(world, {"prompt": NSFW_PROMPT}, channel_id=lounge.id)
    assert [a.filename for a in inside.original.attachments] == [f"imagine-{job.id}-1.png"]
    assert job.channel_age_restricted  # recorded, for a process whose cache lacks the channel
    assert world.discord.dm_messages(DEFAULT_USER_ID) == []

    # Elsewhere: the channel gets a note, the requester the images by DM.
    outside, job = await finished(world, {"prompt": NSFW_PROMPT + " in general"})
    assert outside.original.attachments == []
    assert "sent to you by DM" in outside.original.content
    [dm] = world.discord.dm_messages(DEFAULT_USER_ID)
    assert [a.data for a in dm.attachments] == output_bytes(world, job)
    assert f"<#{world.discord.channel_id}>" in dm.content

    # A mixed result would keep its clean images in the channel: a clean one is posted as usual.
    clean, clean_job = await finished(world, {"prompt": "a lighthouse"})
    assert [a.data for a in clean.original.attachments] == output_bytes(world, clean_job)


async def test_age_restricted_only_with_closed_dms_tells_where_to_see_them(world: World) -> None:
    await configure(world, "nsfw", {"policy": "age_restricted_only"})
    world.discord.forbid_dms(DEFAULT_USER_ID)

    interaction, job = await finished(world, {"prompt": NSFW_PROMPT})

    assert interaction.original.attachments == []
    assert "use /show there" in interaction.original.content
    assert posts_with(world, output_bytes(world, job)) == []


async def test_the_audit_channel_gets_a_line_per_finished_job(world: World) -> None:
    audit = world.discord.add_channel(name="bot-audit")
    await world.wait_for(lambda: world.bot.get_channel(audit.id) is not None)
    assert f"<#{audit.id}>" in await configure(world, "audit_channel", {"channel": str(audit.id)})

    _, job = await finished(world, {"prompt": "a lighthouse at dusk"})
    await world.wait_for(lambda: world.discord.channel_messages(audit.id))
    [line] = world.discord.channel_messages(audit.id)
    link = f"https://discord.com/channels/{world.discord.guild_id}/{world.discord.channel_id}/"
    assert line.content.startswith("✅ delivered · ")
    for part in (f"<@{DEFAULT_USER_ID}>", "/imagine", "`a lighthouse at dusk`", f"{job.cost:g} CU", link, job.id):
        assert part in line.content, part
    assert line.mentions == []  # it names the requester without pinging them

    world.scenario.fail_next_job("The prompt was flagged", "Describe it differently")
    failed_ix = await world.discord.send_command("imagine", {"prompt": "something the fake refuses"})
    failed = await world.job_for(failed_ix, finished=True)
    await world.wait_for(lambda: len(world.discord.channel_messages(audit.id)) == 2)
    last = world.discord.channel_messages(audit.id)[-1].content
    assert last.startswith("❌ failed · ") and "The prompt was flagged" in last and failed.id in last

    await world.restart_bot()
    await finished(world, {"prompt": "after a restart"})
    await world.wait_for(lambda: len(world.discord.channel_messages(audit.id)) == 3)

    assert "No audit channel" in await configure(world, "audit_channel")
    await finished(world, {"prompt": "not audited"})
    shown = await configure(world, "show")
    assert "Audit channel: none" in shown
    assert len(world.discord.channel_messages(audit.id)) == 3
    assert not any(re.search("not audited", m.content) for m in world.discord.channel_messages(audit.id))


async def test_the_policy_applies_to_a_result_posted_in_the_channel_and_by_dm(world: World) -> None:
    # The interaction's token is about to expire: the result goes to the channel as a new message.
    _, job = await finished(world, {"prompt": NSFW_PROMPT}, age_seconds=15 * 60 - 30)
    assert job.delivered_via == "channel"
    [posted] = posts_with(world, output_bytes(world, job))
    assert posted.channel_id == world.discord.channel_id
    assert posted.attachments[0].filename.startswith("SPOILER_") and "NSFW" in posted.content

    # Neither the token nor the channel: by DM, still as a spoiler.
    world.discord.forbid_channel(world.discord.channel_id)
    _, job = await finished(world, {"prompt": NSFW_PROMPT + " by dm"}, age_seconds=15 * 60 - 30)
    assert job.delivered_via == "dm"
    [posted] = posts_with(world, output_bytes(world, job))
    assert posted.attachments[0].filename.startswith("SPOILER_")
