"""Progress edits: one PATCH each with the text alone; Discord's 429 and 5xx waited out, its refusals not repeated."""

from __future__ import annotations

from fakes.discord import DROPPED
from tests.cogs.conftest import World

ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"


def progress_patches(world: World, interaction) -> list:
    """The PATCHes of the command's own message that carried a progress text (not the result)."""
    return [
        request
        for request in world.discord.requests
        if request.method == "PATCH"
        and interaction.token in request.path
        and not request.files
        and str((request.json or {}).get("content", "")).startswith(("⏳", "🎨"))
    ]


async def test_a_progress_edit_is_one_patch_with_the_text_and_no_mentions(world: World) -> None:
    interaction = await world.discord.send_command("imagine", {"prompt": "a lantern"})
    await world.result_of(interaction)

    [first, *_] = progress_patches(world, interaction)
    assert first.status == 200
    assert set(first.json) == {"content", "allowed_mentions"}
    assert first.json["content"].startswith("⏳ Queued")
    assert first.json["allowed_mentions"] == {"parse": []}  # a prompt that says @everyone pings no one
    world.discord.assert_no_violations()


async def test_a_rate_limited_progress_edit_is_sent_again_after_the_wait(world: World) -> None:
    world.discord.inject("PATCH", ORIGINAL, 429, retry_after=0.01)
    interaction = await world.discord.send_command("imagine", {"prompt": "a lantern in the rain"})
    message = await world.result_of(interaction)

    limited, again, *_ = progress_patches(world, interaction)
    assert (limited.status, again.status) == (429, 200)
    assert again.json["content"] == limited.json["content"]  # the same text, once Discord allowed it
    assert message.attachments


async def test_a_refused_progress_edit_is_not_repeated_and_the_result_still_comes(world: World) -> None:
    world.discord.inject("PATCH", ORIGINAL, 400, json={"code": 50035, "message": "Invalid Form Body"})
    interaction = await world.discord.send_command("imagine", {"prompt": "a lantern in the fog"})
    message = await world.result_of(interaction)

    refused, *later = progress_patches(world, interaction)
    assert refused.status == 400
    assert all(request.json["content"] != refused.json["content"] for request in later)  # not sent twice
    assert message.attachments


async def test_a_progress_edit_lost_to_the_network_is_sent_again(world: World) -> None:
    world.discord.inject("PATCH", ORIGINAL, DROPPED)
    interaction = await world.discord.send_command("imagine", {"prompt": "a lantern in the wind"})
    message = await world.result_of(interaction)

    lost, again, *_ = progress_patches(world, interaction)
    assert (lost.status, again.status) == (DROPPED, 200)
    assert again.json["content"] == lost.json["content"]
    assert message.attachments
