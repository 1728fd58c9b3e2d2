"""Enhance through real discord.py and the fakes: a draft made again at Quality, same prompt, seed and size."""

from __future__ import annotations

from tests.cogs.conftest import World
from tests.cogs.test_results import custom_ids


async def test_enhance_reruns_the_draft_at_quality_with_its_seed_as_a_child_job(world: World) -> None:
    draft = await world.discord.send_command(
        "imagine", {"prompt": "a neon sign that says OPEN", "speed": "turbo", "size": "landscape_16_9", "seed": 77}
    )
    message = await world.result_of(draft)
    parent = await world.job_for(draft)
    assert f"res:enhance:{parent.id}:0" in custom_ids(message)

    click = await world.discord.click(message.id, f"res:enhance:{parent.id}:0")
    enhanced = await world.result_of(click)
    child = await world.job_for(click)

    first, second = world.generate_calls()
    assert first.body["renderingSpeed"] == "TURBO"
    assert second.body == {
        "prompt": "a neon sign that says OPEN",
        "imageSize": "landscape_16_9",
        "renderingSpeed": "QUALITY",
        "seed": parent.seeds[0],
    }
    assert parent.seeds[0] == 77
    assert child.parent_job_id == parent.id
    shown = {f["name"]: f["value"] for f in enhanced.embeds[0]["fields"]}
    assert shown["Speed"] == "QUALITY" and str(message.id) in shown["From"]
    # A Quality result has nothing to enhance.
    assert not any(cid.startswith("res:enhance:") for cid in custom_ids(enhanced))


async def test_enhance_one_image_of_a_batch_uses_that_images_seed(world: World) -> None:
    draft = await world.discord.send_command("imagine", {"prompt": "four drafts", "count": 4, "seed": 100})
    message = await world.result_of(draft)
    parent = await world.job_for(draft)  # no speed given: the model's default, Balanced — a draft too
    click = await world.discord.click(message.id, f"res:enhance:{parent.id}:2")
    await world.result_of(click)
    second = world.generate_calls()[1].body
    assert second == {"prompt": "four drafts", "renderingSpeed": "QUALITY", "seed": parent.seeds[2]}
    assert parent.seeds[2] != parent.seeds[0]


async def test_enhance_is_offered_on_character_drafts_too_and_never_on_quality(world: World) -> None:
    from tests.cogs.library import save_character

    await save_character(world, "Luna")
    draft = await world.discord.send_command(
        "character", {"prompt": "Luna", "character": "Luna", "speed": "turbo", "aspect_ratio": "16:9"}
    )
    message = await world.result_of(draft)
    parent = await world.job_for(draft)
    click = await world.discord.click(message.id, f"res:enhance:{parent.id}:0")
    await world.result_of(click)
    body = world.generate_calls()[-1].body
    assert (body["renderingSpeed"], body["aspectRatio"], body["seed"]) == ("Quality", "16:9", parent.seeds[0])
    assert body["characterReferenceImage"] == parent.inputs["characterReferenceImage"]

    quality = await world.discord.send_command("imagine", {"prompt": "final", "speed": "quality"})
    assert not any(cid.startswith("res:enhance:") for cid in custom_ids(await world.result_of(quality)))


async def test_enhance_is_a_paid_job_under_the_same_budget(make_world) -> None:
    from tests.cogs.conftest import interactions_handled, private_text

    world = await make_world(settings_overrides={"budget_user_daily_cu": 15})
    world.scenario.price_per_image = 10
    draft = await world.discord.send_command("imagine", {"prompt": "a draft", "speed": "turbo"})
    message = await world.result_of(draft)
    parent = await world.job_for(draft)
    click = await world.discord.click(message.id, f"res:enhance:{parent.id}:0")
    await world.wait_for(lambda: private_text(click))
    await interactions_handled(world)
    assert "your daily budget" in private_text(click)
    assert len(world.generate_calls()) == 1  # the draft only
