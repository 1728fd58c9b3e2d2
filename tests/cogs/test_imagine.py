"""/imagine through real discord.py: the exact Scenario body, progress, and the images as Discord files."""

from __future__ import annotations

from bot.jobs.models import JobState
from tests.cogs.conftest import World

EVERY_OPTION = {
    "prompt": "a neon sign that says OPEN",
    "size": "landscape_16_9",
    "speed": "quality",
    "expand_prompt": False,
    "acceleration": "high",
    "count": 3,
    "seed": 1234,
}


async def test_every_option_is_sent_exactly_as_mapped(world: World) -> None:
    interaction = await world.discord.send_command("imagine", EVERY_OPTION)
    message = await world.result_of(interaction)

    [call] = world.generate_calls()
    assert call.model_id == "model_ideogram-v4"
    assert call.body == {
        "prompt": "a neon sign that says OPEN",
        "imageSize": "landscape_16_9",
        "renderingSpeed": "QUALITY",
        "enablePromptExpansion": False,
        "acceleration": "high",
        "numOutputs": 3,
        "seed": 1234,
    }
    assert len(message.attachments) == 3
    assert interaction.callbacks[0]["type"] == 5  # deferred at once


async def test_options_left_out_are_not_sent(world: World) -> None:
    interaction = await world.discord.send_command("imagine", {"prompt": "a fox"})
    await world.result_of(interaction)
    [call] = world.generate_calls()
    assert call.body == {"prompt": "a fox"}


async def test_images_arrive_as_files_identical_to_what_scenario_served(world: World) -> None:
    interaction = await world.discord.send_command("imagine", {"prompt": "two moons", "count": 2})
    message = await world.result_of(interaction)

    job = await world.job_for(interaction)
    served = [world.scenario.assets[asset_id].data for asset_id in job.output_asset_ids]
    assert [attachment.data for attachment in message.attachments] == served
    assert job.state is JobState.DELIVERED
    assert job.delivered_message_ids == [message.id]


async def test_the_result_embed_says_everything_used(world: World) -> None:
    interaction = await world.discord.send_command("imagine", EVERY_OPTION)
    message = await world.result_of(interaction)

    [embed] = message.embeds
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    job = await world.job_for(interaction)
    assert "neon sign" in embed["description"]
    assert fields["Model"] == "Ideogram V4"
    assert fields["Size"] == "landscape_16_9" and fields["Speed"] == "QUALITY"
    assert fields["Prompt expansion"] == "off" and fields["Acceleration"] == "high" and fields["Images"] == "3"
    seeds = fields.get("Seed") or fields["Seeds"]
    assert seeds.split(", ")[0] == "1234"
    assert fields["Cost"].endswith("CU")
    assert job.id in embed["footer"]["text"]
    # The progress text is gone: the message is the result now.
    assert not message.content


async def test_a_seed_chosen_by_scenario_is_shown(world: World) -> None:
    interaction = await world.discord.send_command("imagine", {"prompt": "a quiet harbour"})
    message = await world.result_of(interaction)
    job = await world.job_for(interaction)
    seed = world.scenario.assets[job.output_asset_ids[0]].seed
    fields = {field["name"]: field["value"] for field in message.embeds[0]["fields"]}
    assert fields["Seed"] == str(seed)


async def test_an_output_over_the_upload_limit_is_fitted_and_the_message_says_so(world: World) -> None:
    limit = 3_000
    interaction = await world.discord.send_command(
        "imagine", {"prompt": "a detailed city map", "size": "square_hd"}, attachment_size_limit=limit
    )
    message = await world.result_of(interaction)

    job = await world.job_for(interaction)
    assert len(world.scenario.assets[job.output_asset_ids[0]].data) > limit  # the original would not fit
    [attachment] = message.attachments
    assert attachment.size <= limit
    fields = {field["name"]: field["value"] for field in message.embeds[0]["fields"]}
    assert "Note" in fields and "limit" in fields["Note"]


async def test_mentions_in_a_prompt_ping_no_one(world: World) -> None:
    interaction = await world.discord.send_command("imagine", {"prompt": "@everyone look at <@123> **now**"})
    message = await world.result_of(interaction)
    assert not message.mentions
    assert all(not m.mentions for m in world.discord.messages.values())
