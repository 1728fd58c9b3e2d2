"""The registered commands: names, types, choices, ranges, descriptions, install types and contexts."""

from __future__ import annotations

import discord

from tests.cogs.conftest import World

STRING, INTEGER, BOOLEAN, ATTACHMENT = 3, 4, 5, 11


def command(world: World, name: str) -> dict:
    [found] = [c for c in world.discord.global_commands if c["name"] == name]
    return found


def options(world: World, name: str) -> dict[str, dict]:
    return {option["name"]: option for option in command(world, name).get("options", [])}


def choice_values(option: dict) -> list[str]:
    return [choice["value"] for choice in option.get("choices", [])]


async def test_imagine_matches_the_table(world: World) -> None:
    opts = options(world, "imagine")
    assert list(opts) == ["prompt", "size", "speed", "expand_prompt", "acceleration", "count", "seed"]
    assert opts["prompt"]["type"] == STRING and opts["prompt"]["required"] is True
    assert opts["prompt"]["max_length"] == 2000
    assert choice_values(opts["size"]) == [
        "square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9",
    ]  # fmt: skip
    assert choice_values(opts["speed"]) == ["turbo", "balanced", "quality"]
    assert opts["expand_prompt"]["type"] == BOOLEAN
    assert choice_values(opts["acceleration"]) == ["none", "low", "regular", "high"]
    assert (opts["count"]["type"], opts["count"]["min_value"], opts["count"]["max_value"]) == (INTEGER, 1, 4)
    assert (opts["seed"]["min_value"], opts["seed"]["max_value"]) == (0, 2147483647)
    assert all(not opts[name].get("required") for name in list(opts)[1:])


async def test_character_matches_the_table(world: World) -> None:
    opts = options(world, "character")
    assert list(opts)[:2] == ["prompt", "reference"]
    assert set(opts) == {"prompt", "reference", "style", "aspect_ratio", "resolution", "speed", "image", "mask", "seed"}
    assert opts["reference"]["type"] == ATTACHMENT and opts["reference"]["required"] is True
    assert opts["image"]["type"] == opts["mask"]["type"] == ATTACHMENT
    assert choice_values(opts["style"]) == ["Auto", "Fiction", "Realistic"]
    assert len(choice_values(opts["aspect_ratio"])) == 15 and "10:16" in choice_values(opts["aspect_ratio"])
    assert choice_values(opts["resolution"])[0] == "None" and len(choice_values(opts["resolution"])) == 13
    assert choice_values(opts["speed"]) == ["turbo", "balanced", "quality"]
    assert (opts["seed"]["min_value"], opts["seed"]["max_value"]) == (0, 2147483647)


async def test_every_command_and_option_is_described_and_choices_have_friendly_names(world: World) -> None:
    for registered in world.discord.global_commands:
        assert registered["description"], registered["name"]
        for option in registered.get("options", []):
            assert option["description"] and len(option["description"]) <= 100, option["name"]
            for choice in option.get("choices", []):
                assert choice["name"]
    size_names = {c["value"]: c["name"] for c in options(world, "imagine")["size"]["choices"]}
    assert size_names["square_hd"] != "square_hd"


async def test_commands_install_anywhere_and_work_in_dms(world: World) -> None:
    names = {c["name"] for c in world.discord.global_commands}
    assert {"imagine", "character", "jobs", "history", "show", "status"} <= names
    for registered in world.discord.global_commands:
        if registered["name"] == "budget":  # a server's own limits: set in that server, by its managers
            assert (registered["integration_types"], registered["contexts"]) == ([0], [0])
            continue
        if registered["name"] == "config":
            continue  # a server's own settings: see test_config_is_for_server_managers_in_servers_only
        assert sorted(registered["integration_types"]) == [0, 1], registered["name"]
        assert sorted(registered["contexts"]) == [0, 1, 2], registered["name"]
    # The fake validated the PUT against Discord's OpenAPI spec; a violation would be listed here.
    assert not world.discord.violations


async def test_status_is_for_server_managers_and_everything_else_for_everyone(world: World) -> None:
    manage_guild = discord.Permissions(manage_guild=True).value
    assert int(command(world, "status")["default_member_permissions"]) == manage_guild == 1 << 5
    assert command(world, "status")["description"]
    assert int(command(world, "budget")["default_member_permissions"]) == manage_guild
    subcommands = {option["name"] for option in command(world, "budget")["options"]}
    assert subcommands == {"user", "server", "block", "unblock", "show"}
    others = [c for c in world.discord.global_commands if c["name"] not in ("status", "budget", "config")]
    assert others and all(c.get("default_member_permissions") is None for c in others)


async def test_config_is_for_server_managers_in_servers_only(world: World) -> None:
    config = command(world, "config")
    assert int(config["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert config["contexts"] == [0] and config["integration_types"] == [0]
    subcommands = {option["name"]: option for option in config["options"]}
    assert list(subcommands) == ["show", "defaults", "channels", "limits", "blocked_words", "nsfw", "audit_channel"]
    assert [o["name"] for o in subcommands["defaults"]["options"]][:4] == ["speed", "size", "count", "expand_prompt"]
    assert choice_values(subcommands["channels"]["options"][0]) == ["add", "remove", "clear"]
    assert [o["name"] for o in subcommands["limits"]["options"]] == ["max_count", "max_queued_per_user"]
    assert choice_values(subcommands["blocked_words"]["options"][0]) == ["add", "remove", "list"]
    assert choice_values(subcommands["nsfw"]["options"][0]) == ["spoiler", "age_restricted_only", "block"]
    assert [o["name"] for o in subcommands["audit_channel"]["options"]] == ["channel"]
    for sub in subcommands.values():
        assert sub["description"]
        assert all(o["description"] and len(o["description"]) <= 100 for o in sub.get("options", []))
