"""Where a result goes when the interaction cannot carry it: the channel, a DM, or /show later; and 413s.

The interaction token lives 15 minutes; the bot stops using it 90 s before that. A job finishing later is
posted in the channel mentioning only its requester (with a nonce, so exactly once), else by DM, else kept
as undelivered until the requester runs /show.
"""

from __future__ import annotations

from bot.jobs.models import JobRecord, JobState
from fakes.discord import DEFAULT_USER_ID, EXTERNAL_CHANNEL_ID, FakeInteraction, FakeMessage
from tests.cogs.conftest import World, output_bytes, posts_with, private_text, state_becomes, uploads_of

# Made 14.5 minutes ago: discord.py computes an expiry 30 s away, already inside the bot's 90 s margin.
NEARLY_EXPIRED = 15 * 60 - 30
OTHER_USER = 5551
PROMPT = f"a lighthouse at dusk, @everyone and <@{OTHER_USER}> must not be pinged"


async def command(world: World, user_id: int = DEFAULT_USER_ID, **options: object) -> FakeInteraction:
    return await world.discord.send_command("imagine", {"prompt": PROMPT, "seed": 7}, user_id=user_id, **options)


async def finished(world: World, interaction: FakeInteraction) -> JobRecord:
    return await world.job_for(interaction, finished=True)


def assert_mentions_only(message: FakeMessage, user_id: int) -> None:
    assert message.content.startswith(f"<@{user_id}>")
    assert message.mentions == [user_id]  # who Discord actually pings
    assert not message.mention_everyone and not message.mention_roles
    allowed = message.allowed_mentions or {}
    assert allowed.get("parse", []) == [] and [int(u) for u in allowed.get("users", [])] == [user_id]


# -- the token expired ----------------------------------------------------------------------------------


async def test_a_result_after_the_token_expired_is_posted_once_in_the_channel(world: World) -> None:
    interaction = await command(world, age_seconds=NEARLY_EXPIRED)
    job = await finished(world, interaction)

    assert (job.state, job.delivered_via) == (JobState.DELIVERED, "channel"), job.last_error
    images = output_bytes(world, job)
    [message] = posts_with(world, images)
    assert message.channel_id == world.discord.channel_id and not message.interaction_id
    assert job.delivered_message_ids == [message.id]
    assert [a.data for a in message.attachments] == images
    assert_mentions_only(message, DEFAULT_USER_ID)
    [upload] = uploads_of(world, images)
    assert upload.json["nonce"] and upload.json["enforce_nonce"] is True
    assert not interaction.original.attachments
    assert not world.discord.dm_messages(DEFAULT_USER_ID)


async def test_a_token_that_dies_before_delivery_falls_back_to_the_channel(world: World) -> None:
    world.scenario.job_duration = 10_000  # hold the job at Scenario until the token is dead
    interaction = await command(world, user_id=OTHER_USER)
    await world.wait_for(lambda: world.generate_calls())
    world.discord.expire_token(interaction.id)  # Discord refuses it from now on (401 / 50027)
    fake_job = world.scenario.jobs[world.generate_calls()[0].job_id]
    fake_job.duration = world.clock() - fake_job.created_at  # Scenario finishes it now
    for asset_id in fake_job.asset_ids:
        world.scenario.assets[asset_id].created_at = world.clock()  # its images exist from now on

    job = await finished(world, interaction)
    assert (job.state, job.delivered_via) == (JobState.DELIVERED, "channel"), job.last_error
    [message] = posts_with(world, output_bytes(world, job))
    assert message.channel_id == world.discord.channel_id
    assert_mentions_only(message, OTHER_USER)
    refused = [r for r in world.discord.requests if r.files and r.status == 401]
    assert refused, "the bot should have tried the interaction first"


async def test_without_the_channel_the_result_arrives_by_dm(world: World) -> None:
    world.discord.forbid_channel(world.discord.channel_id)
    interaction = await command(world, age_seconds=NEARLY_EXPIRED)
    job = await finished(world, interaction)

    assert (job.state, job.delivered_via) == (JobState.DELIVERED, "dm"), job.last_error
    [message] = posts_with(world, output_bytes(world, job))
    assert message in world.discord.dm_messages(DEFAULT_USER_ID)
    assert not [m for m in world.discord.channel_messages() if m.attachments]


async def test_without_channel_or_dm_the_job_waits_for_show(world: World) -> None:
    world.discord.forbid_channel(world.discord.channel_id)
    world.discord.forbid_dms(DEFAULT_USER_ID)
    interaction = await command(world, age_seconds=NEARLY_EXPIRED)
    job = await finished(world, interaction)

    assert job.state is JobState.UNDELIVERED and not job.delivered_message_ids
    assert "Undelivered" in job.last_error and f"/show {job.id}" in job.last_error
    images = output_bytes(world, job)
    assert not posts_with(world, images)

    for name in ("jobs", "history"):
        listing = await world.discord.send_command(name, {})
        await world.wait_for(lambda listing=listing: private_text(listing))
        text = private_text(listing)
        assert job.id in text and "Undelivered" in text and f"/show {job.id}" in text, (name, text)

    show = await world.discord.send_command("show", {"job_id": job.id})
    await world.wait_for(lambda: show.original is not None and show.original.attachments)
    assert [a.data for a in show.original.attachments] == images
    [message] = posts_with(world, images)
    assert message is show.original
    shown = await state_becomes(world, job.id, JobState.DELIVERED)
    assert (shown.state, shown.delivered_via, shown.delivered_message_ids) == (
        JobState.DELIVERED,
        "show",
        [message.id],
    )


# -- 413: the upload is too large ----------------------------------------------------------------------


async def image_size(world: World) -> int:
    """The size of the image the fake makes for PROMPT and seed 7 (it renders deterministically)."""
    interaction = await command(world)
    job = await finished(world, interaction)
    return len(output_bytes(world, job)[0])


async def test_a_413_is_retried_once_with_smaller_files(world: World) -> None:
    size = await image_size(world)
    # The interaction says the limit is 1.5 times the image, but Discord enforces half of that (a server that
    # just lost its boost): the first upload is refused with 413 / 40005, the retry fits half the limit.
    limit = size * 3 // 2
    interaction = await command(world, attachment_size_limit=limit)
    interaction.attachment_size_limit = limit // 2
    job = await finished(world, interaction)

    assert job.state is JobState.DELIVERED, job.last_error
    refused = [r for r in world.discord.requests if r.files and r.status == 413]
    assert len(refused) == 1
    [attachment] = interaction.original.attachments
    assert attachment.size <= limit // 2 < size
    assert job.delivery_note and "to fit" in job.delivery_note
    fields = {f["name"]: f["value"] for f in interaction.original.embeds[0]["fields"]}
    assert "to fit" in fields["Note"]


async def test_a_second_413_is_explained_to_the_requester(world: World) -> None:
    size = await image_size(world)
    limit = size * 3 // 2
    interaction = await command(world, attachment_size_limit=limit)
    interaction.attachment_size_limit = 64  # nothing the bot can make will fit
    job = await finished(world, interaction)

    assert job.state is JobState.UNDELIVERED
    assert len([r for r in world.discord.requests if r.files and r.status == 413]) == 2
    assert "too large" in job.last_error and f"/show {job.id}" in job.last_error
    # The requester sees why in the message that showed the progress, and how to get the images later.
    await world.wait_for(lambda: "too large" in interaction.original.content)
    assert f"/show {job.id}" in interaction.original.content
    assert not interaction.original.attachments


# -- Discord errors on the channel path: one classifier -----------------------------------------------------

CHANNEL_MESSAGES = r"^/channels/\d+/messages$"
INVALID_FORM_BODY = {"message": "Invalid Form Body", "code": 50035, "errors": {}}


async def test_a_plain_4xx_on_the_channel_leaves_the_job_for_show_and_tells_the_requester(world: World) -> None:
    # Discord refuses the result itself (400 / 50035): the same message would be refused again, so it is
    # neither retried nor posted elsewhere; the requester hears why and how to get the images.
    world.discord.inject("POST", CHANNEL_MESSAGES, 400, json=INVALID_FORM_BODY)
    interaction = await command(world, age_seconds=NEARLY_EXPIRED)
    job = await finished(world, interaction)

    assert job.state is JobState.UNDELIVERED and not job.delivered_message_ids
    assert "400" in job.last_error and f"/show {job.id}" in job.last_error
    images = output_bytes(world, job)
    assert not posts_with(world, images)
    refused = [r for r in world.discord.requests if r.files and r.status == 400]
    assert len(refused) == 1, "a refused result must not be sent again"
    [notice] = await world.discord.wait_for(lambda: [m for m in world.discord.channel_messages() if "❌" in m.content])
    assert f"/show {job.id}" in notice.content and "400" in notice.content and not notice.attachments
    assert_mentions_only(notice, DEFAULT_USER_ID)
    said = [m.content for m in world.discord.messages.values()] + [job.last_error]
    assert not [text for text in said if "Something went wrong" in text]

    # Nothing broke: the next request is delivered as usual.
    again = await world.discord.send_command("imagine", {"prompt": "the next one"})
    assert (await world.result_of(again)).attachments


async def test_when_the_channel_refuses_the_notice_too_the_requester_hears_by_dm(world: World) -> None:
    in_the_channel = rf"^/channels/{world.discord.channel_id}/messages$"  # not the DM channel's
    world.discord.inject("POST", in_the_channel, 400, json=INVALID_FORM_BODY, times=None)
    interaction = await command(world, age_seconds=NEARLY_EXPIRED)
    job = await finished(world, interaction)

    assert job.state is JobState.UNDELIVERED
    [notice] = await world.discord.wait_for(
        lambda: [m for m in world.discord.dm_messages(DEFAULT_USER_ID) if "❌" in m.content]
    )
    assert f"/show {job.id}" in notice.content and not notice.attachments


async def test_a_5xx_on_the_channel_is_retried_and_the_result_posted_once(world: World) -> None:
    # 503, which discord.py does not retry by itself: the engine's own retry must carry the delivery.
    world.discord.inject("POST", CHANNEL_MESSAGES, 503, json={"message": "Service Unavailable", "code": 0})
    interaction = await command(world, age_seconds=NEARLY_EXPIRED)
    job = await finished(world, interaction)

    assert (job.state, job.delivered_via) == (JobState.DELIVERED, "channel"), job.last_error
    images = output_bytes(world, job)
    [message] = posts_with(world, images)
    assert [a.data for a in message.attachments] == images and job.delivered_message_ids == [message.id]
    [failed] = [r for r in world.discord.requests if r.files and r.status == 503]
    [accepted] = uploads_of(world, images)
    assert accepted.json["nonce"] == failed.json["nonce"], "the retry must carry the same nonce"
    assert not [m for m in world.discord.messages.values() if "❌" in m.content]


# -- a user install in a server that has not added the bot ------------------------------------------------


async def test_a_user_install_result_after_the_token_expired_goes_by_dm_without_trying_that_server(
    world: World,
) -> None:
    interaction = await command(world, user_install=True, age_seconds=NEARLY_EXPIRED)
    job = await finished(world, interaction)

    assert (job.state, job.delivered_via) == (JobState.DELIVERED, "dm"), job.last_error
    [message] = posts_with(world, output_bytes(world, job))
    assert message in world.discord.dm_messages(DEFAULT_USER_ID)
    tried = [f"{r.method} {r.path} -> {r.status}" for r in world.discord.requests if str(EXTERNAL_CHANNEL_ID) in r.path]
    assert not tried, "the bot is not in that server: it has no channel to try there"
    assert job.bot_in_guild is False
