"""Application command registration: bulk overwrite (what `tree.sync()` sends), single upserts, reads."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from fakes.discord import _errors as err
from fakes.discord._state import FakeState

if TYPE_CHECKING:
    from fakes.discord._rest_base import Call, Result, RouteTable

SUBCOMMAND_TYPES = (1, 2)


class CommandRoutes:
    """`/applications/{app}/commands` and `/applications/{app}/guilds/{guild}/commands`."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    def table(self, app: str) -> RouteTable:
        scope = rf"/applications/{app}(?:/guilds/(?P<guild_id>\d+))?/commands"
        one = scope + r"/(?P<command_id>\d+)"
        return [
            ("GET", scope, self.list, True),
            ("PUT", scope, self.overwrite, True),
            ("POST", scope, self.upsert, True),
            ("GET", one, self.get, True),
            ("PATCH", one, self.edit, True),
            ("DELETE", one, self.delete, True),
        ]

    def _scope(self, call: Call) -> int | None:
        if int(call.args["app_id"]) != self.state.application_id:
            raise err.missing_access()
        guild_id = call.args.get("guild_id")
        if guild_id is None:
            return None
        guild = self.state.guilds.get(int(guild_id))
        if guild is None or not guild.bot_member:
            raise err.missing_access()
        return int(guild_id)

    def _stored(self, call: Call, guild_id: int | None) -> tuple[list[dict[str, Any]], int]:
        commands = self.state.registered.setdefault(guild_id, [])
        wanted = call.args["command_id"]
        for index, command in enumerate(commands):
            if command["id"] == wanted:
                return commands, index
        raise err.unknown_command()

    def _record_payloads(self, guild_id: int | None) -> None:
        sent = [c["_sent"] for c in self.state.registered[guild_id]]
        if guild_id is None:
            self.state.global_commands = sent
        else:
            self.state.guild_commands[guild_id] = sent

    async def list(self, call: Call) -> Result:
        guild_id = self._scope(call)
        return 200, [_public(c) for c in self.state.registered.get(guild_id, [])]

    async def overwrite(self, call: Call) -> Result:
        guild_id = self._scope(call)
        sent = call.body.payload if isinstance(call.body.payload, list) else []
        seen: set[tuple[str, int]] = set()
        for position, command in enumerate(sent):
            key = (command.get("name"), command.get("type") or 1)
            if key in seen:
                raise err.invalid_form(
                    [position, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            seen.add(key)
            _check_options(command.get("options") or [], [position, "options"])
        self.state.registered[guild_id] = [self._build(c, guild_id) for c in sent]
        if guild_id is None:
            self.state.global_commands = copy.deepcopy(sent)
        else:
            self.state.guild_commands[guild_id] = copy.deepcopy(sent)
        self.state.changes.notify()
        return 200, [_public(c) for c in self.state.registered[guild_id]]

    async def upsert(self, call: Call) -> Result:
        guild_id = self._scope(call)
        sent = call.json
        _check_options(sent.get("options") or [], ["options"])
        commands = self.state.registered.setdefault(guild_id, [])
        built = self._build(sent, guild_id)
        for index, command in enumerate(commands):
            if command["id"] == built["id"]:
                commands[index] = built
                self._record_payloads(guild_id)
                return 200, _public(built)
        commands.append(built)
        self._record_payloads(guild_id)
        return 201, _public(built)

    async def get(self, call: Call) -> Result:
        commands, index = self._stored(call, self._scope(call))
        return 200, _public(commands[index])

    async def edit(self, call: Call) -> Result:
        guild_id = self._scope(call)
        commands, index = self._stored(call, guild_id)
        merged = {**commands[index]["_sent"], **call.json}
        _check_options(merged.get("options") or [], ["options"])
        commands[index] = self._build(merged, guild_id)
        self._record_payloads(guild_id)
        return 200, _public(commands[index])

    async def delete(self, call: Call) -> Result:
        guild_id = self._scope(call)
        commands, index = self._stored(call, guild_id)
        del commands[index]
        self._record_payloads(guild_id)
        return 204, None

    def _build(self, sent: dict[str, Any], guild_id: int | None) -> dict[str, Any]:
        """The command as Discord stores and returns it: ids, version, defaults filled in."""
        kind = sent.get("type") or 1
        permissions = sent.get("default_member_permissions")
        command: dict[str, Any] = {
            "id": str(self.state.command_id(guild_id, sent["name"], kind)),
            "application_id": str(self.state.application_id),
            "version": str(self.state.snowflake()),
            "default_member_permissions": str(permissions) if permissions is not None else None,
            "type": kind,
            "name": sent["name"],
            "name_localizations": sent.get("name_localizations"),
            "description": sent.get("description") or "",
            "description_localizations": sent.get("description_localizations"),
            "nsfw": bool(sent.get("nsfw")),
            "integration_types": sent.get("integration_types") or [0],
            "contexts": sent.get("contexts"),
            "_sent": copy.deepcopy(sent),
        }
        if sent.get("options"):
            command["options"] = copy.deepcopy(sent["options"])
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        else:
            command["dm_permission"] = sent.get("dm_permission", True) is not False
        return command


def _public(command: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in command.items() if k != "_sent"}


def _check_options(options: list[dict[str, Any]], where: list[str | int]) -> None:
    """Rules Discord enforces beyond the schema: required before optional; no choices with autocomplete."""
    optional_seen = False
    for index, option in enumerate(options):
        if option.get("type") in SUBCOMMAND_TYPES:
            _check_options(option.get("options") or [], [*where, index, "options"])
            continue
        if option.get("required"):
            if optional_seen:
                raise err.invalid_form(
                    [*where, index],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        if option.get("autocomplete") and option.get("choices"):
            raise err.invalid_form(
                [*where, index, "autocomplete"],
                "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                "Autocomplete cannot be enabled on options that have choices",
            )
