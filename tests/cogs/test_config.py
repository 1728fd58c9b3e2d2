"""/config through real discord.py: each change applies to the next request, survives a restart, and is for
server managers only; blocked words and patterns, allowed channels, limits, server defaults."""

from __future__ import annotations

import discord
import pytest

from bot.jobs.models import JobState
from bot.servers import ServerSettings
from fakes.discord import DEFAULT_USER_ID, MEMBER_PERMISSIONS, ClientCheckError
from tests.cogs.conftest import World, interactions_handled, private_text

MANAGER = MEMBER_PERMISSIONS | discord.Permissions(manage_guild=True).value
MEMBER_USER = DEFAULT_USER_ID
REFUSED_TERM = "Your prompt contains a term this server does not allow."


async def configure(world: World, sub: str, options: dict | None = None, *, permissions: int = MANAGER) -> str:
    """A server manager runs `/config {sub}`; returns the private reply."""
    interaction = await world.discord.send_command(f"config {sub}", options or {}, member_permissions=permissions)
    await world.wait_for(lambda: private_text(interaction))
    assert all(cb["data"]["flags"] & 64 for cb in interaction.callbacks if cb.get("data")), "replies are private"
    return private_text(interaction)


async def refused(world: World, options: dict, **where: object) -> str:
    """Run /imagine expecting a private refusal; returns it, after checking nothing reached Scenario."""
    before, quotes = len(world.scenario.generate_calls), len(world.scenario.dry_runs)
    interaction = await world.discord.send_command("imagine", options, **where)
    await world.wait_for(lambda: private_text(interaction))
    await interactions_handled(world)
    assert len(world.scenario.generate_calls) == before, "a refused request must not reach POST /generate"
    assert len(world.scenario.dry_runs) == quotes, "not even a (free) price quote"
    assert not await world.store.for_user(interaction.user_id, states=[JobState.QUEUED])
    return private_text(interaction)


async def generated(world: World, options: dict, **where: object) -> dict:
    """Run /imagine to the end; returns the body Scenario received."""
    interaction = await world.discord.send_command("imagine", options, **where)
    await world.result_of(interaction)
    return world.generate_calls()[-1].body


async def test_server_defaults_apply_an_explicit_option_wins_and_they_survive_a_restart(world: World) -> None:
    reply = await configure(world, "defaults", {"speed": "turbo", "count": 2, "expand_prompt": False})
    assert "speed = turbo" in reply and "count = 2" in reply

    body = await generated(world, {"prompt": "a lighthouse"})
    assert (body["renderingSpeed"], body["numOutputs"], body["enablePromptExpansion"]) == ("TURBO", 2, False)
    body = await generated(world, {"prompt": "a lighthouse", "speed": "quality", "count": 1, "expand_prompt": True})
    assert (body["renderingSpeed"], body["numOutputs"], body["enablePromptExpansion"]) == ("QUALITY", 1, True)

    await world.restart_bot()
    body = await generated(world, {"prompt": "a lighthouse after the restart"})
    assert (body["renderingSpeed"], body["numOutputs"]) == ("TURBO", 2)
    shown = await configure(world, "show")
    assert "speed = turbo" in shown and "count = 2" in shown and "expand_prompt = off" in shown

    await configure(world, "defaults", {"reset": True})
    body = await generated(world, {"prompt": "a lighthouse with the model's defaults"})
    assert "renderingSpeed" not in body and "numOutputs" not in body


async def test_a_blocked_word_and_a_blocked_pattern_refuse_the_prompt_privately_without_generating(
    world: World,
) -> None:
    assert "Blocked the word `gore`" in await configure(world, "blocked_words", {"action": "add", "word": "Gore"})
    assert "regular expression" in await configure(world, "blocked_words", {"action": "add", "word": "/b[a4]dword/"})

    text = await refused(world, {"prompt": "a GORE scene"})
    assert REFUSED_TERM in text and "gore" not in text.lower()  # the list is never shown to the requester
    text = await refused(world, {"prompt": "a sign that says B4DWORD"})
    assert REFUSED_TERM in text and "b[a4]" not in text
    await generated(world, {"prompt": "a gorgeous sunset"})  # whole words only

    await world.restart_bot()
    assert REFUSED_TERM in await refused(world, {"prompt": "gore, after a restart"})
    listed = await configure(world, "blocked_words", {"action": "list"})
    assert "`gore`" in listed and "`/b[a4]dword/`" in listed

    await configure(world, "blocked_words", {"action": "remove", "word": "gore"})
    await generated(world, {"prompt": "a gore scene, allowed again"})


@pytest.mark.parametrize(
    ("pattern", "why"),
    [("/(a+)+$/", "repeats something that itself repeats"), ("/(a|aa)+$/", "takes too long"), ("/[z/", "not a valid")],
)
async def test_a_catastrophic_or_invalid_pattern_is_refused_when_added(world: World, pattern: str, why: str) -> None:
    reply = await configure(world, "blocked_words", {"action": "add", "word": pattern})

    assert why in reply
    assert (await world.store.server_settings(world.discord.guild_id)).blocked_words == []


async def test_a_command_in_a_channel_that_is_not_allowed_names_the_allowed_ones(world: World) -> None:
    art = world.discord.add_channel(name="art")
    await world.wait_for(lambda: world.bot.get_channel(art.id) is not None)
    reply = await configure(world, "channels", {"action": "add", "channel": str(art.id)})
    assert f"<#{art.id}>" in reply

    text = await refused(world, {"prompt": "a lighthouse"})
    assert f"<#{art.id}>" in text and "only in" in text
    await generated(world, {"prompt": "a lighthouse"}, channel_id=art.id)

    await world.restart_bot()
    assert f"<#{art.id}>" in await refused(world, {"prompt": "a lighthouse after a restart"})
    await configure(world, "channels", {"action": "clear"})
    await generated(world, {"prompt": "a lighthouse anywhere"})


async def test_limits_cap_the_images_per_request_and_survive_a_restart(world: World) -> None:
    reply = await configure(world, "limits", {"max_count": 2, "max_queued_per_user": 3})
    assert "At most 2 images" in reply and "3 waiting jobs" in reply

    assert "at most 2 images per request" in await refused(world, {"prompt": "many lighthouses", "count": 3})
    assert (await generated(world, {"prompt": "two lighthouses", "count": 2}))["numOutputs"] == 2

    await world.restart_bot()
    assert "at most 2 images" in await refused(world, {"prompt": "many lighthouses", "count": 4})
    shown = await configure(world, "show")
    assert "at most 2" in shown and "3 in this server" in shown


async def test_config_is_refused_to_a_member_without_manage_server(world: World) -> None:
    # Discord itself hides and refuses it (default_member_permissions); the fake plays Discord's check.
    for sub, options in [
        ("show", {}),
        ("defaults", {"speed": "turbo"}),
        ("channels", {"action": "clear"}),
        ("limits", {"max_count": 1}),
        ("blocked_words", {"action": "add", "word": "gore"}),
        ("nsfw", {"policy": "block"}),
        ("audit_channel", {}),
    ]:
        with pytest.raises(ClientCheckError, match="needs permissions 32"):
            await world.discord.send_command(f"config {sub}", options, member_permissions=MEMBER_PERMISSIONS)
    assert await world.store.server_settings(world.discord.guild_id) == ServerSettings()


async def test_the_bot_checks_manage_server_itself_too(world: World) -> None:
    """An admin may open /config to a role in Integrations; the settings still need Manage Server."""
    cog = world.bot.get_cog("Config")
    assert cog is not None

    class NoManage:
        guild_id = world.discord.guild_id
        permissions = discord.Permissions(MEMBER_PERMISSIONS)

    from bot.errors import NotAllowedError

    with pytest.raises(NotAllowedError, match="Manage Server"):
        await cog.interaction_check(NoManage())  # type: ignore[arg-type]


async def test_config_show_describes_every_setting(world: World) -> None:
    shown = await configure(world, "show")
    for words in ("Defaults: none", "every channel", "Images per request", "Waiting jobs per person", "Blocked words",
                  "NSFW: `spoiler`", "Audit channel: none"):  # fmt: skip
        assert words in shown, words


async def test_a_thread_counts_as_allowed_when_its_parent_channel_is(world: World) -> None:
    art = world.discord.add_channel(name="art")
    await world.wait_for(lambda: world.bot.get_channel(art.id) is not None)
    await configure(world, "channels", {"action": "add", "channel": str(art.id)})
    inside = world.discord.add_thread(art.id, name="art thread")
    elsewhere = world.discord.add_thread(world.discord.channel_id, name="general thread")

    body = await generated(world, {"prompt": "a lighthouse in a thread"}, channel_id=inside.id)
    assert body["prompt"] == "a lighthouse in a thread"
    job = (await world.store.for_user(MEMBER_USER, limit=1))[0]
    assert (job.channel_id, job.channel_parent_id) == (inside.id, art.id)

    assert f"<#{art.id}>" in await refused(world, {"prompt": "a lighthouse"}, channel_id=elsewhere.id)


async def test_config_show_includes_this_servers_budgets(make_world) -> None:
    world: World = await make_world(settings_overrides={"budget_user_daily_cu": 25, "confirm_above_cu": 20})
    shown = await configure(world, "show")
    assert "Budget per member a UTC day: 25 CU (default)" in shown
    assert "this server a month: unlimited (default)" in shown and "confirm above: 20 CU" in shown

    budget = await world.discord.send_command("budget server", {"monthly_cu": 2000}, member_permissions=MANAGER)
    await world.wait_for(lambda: private_text(budget))
    block = await world.discord.send_command(
        "budget block", {"member": str(world.discord.moderator().id)}, member_permissions=MANAGER
    )
    await world.wait_for(lambda: private_text(block))

    shown = await configure(world, "show")
    assert "this server a month: 2000 CU (set here)" in shown
    assert "Blocked from generating here: 1" in shown
