"""INTERACTION_CREATE payloads for slash commands, component clicks and modal submits.

Values are checked the way Discord's client checks them before sending (registered command, options,
choices, ranges, contexts, member permissions); `raw_options` / `raw_components` bypass those checks to
play a modified client.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fakes.discord import _payloads as payloads
from fakes.discord._constants import (
    USER_INSTALL_APP_PERMISSIONS,
    Permissions,
)
from fakes.discord._messages import make_attachment
from fakes.discord._models import FakeFile, FakeInteraction, FakeMessage, FakeUser
from fakes.discord._state import FakeState

DM_APP_PERMISSIONS = (
    Permissions.VIEW_CHANNEL
    | Permissions.SEND_MESSAGES
    | Permissions.EMBED_LINKS
    | Permissions.ATTACH_FILES
    | Permissions.READ_MESSAGE_HISTORY
    | Permissions.ADD_REACTIONS
    | Permissions.USE_EXTERNAL_EMOJIS
    | Permissions.MENTION_EVERYONE
)
SELECT_TYPES = {3, 5, 6, 7, 8}
FILE_UPLOAD = 19
ALL_PERMISSIONS = (1 << 51) - 1


class ClientCheckError(ValueError):
    """Discord's client would not send this interaction (use the raw_* parameters to send it anyway)."""


class InteractionFactory:
    """Builds interactions and registers them with the state; the gateway delivers them."""

    def __init__(self, state: FakeState, base_url: Any) -> None:
        self.state = state
        self.base_url = base_url

    # shared --------------------------------------------------------------------------------------

    def _new(
        self,
        kind: int,
        *,
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        age_seconds: float,
        user_install: bool,
        attachment_size_limit: int,
        member_permissions: int | None,
    ) -> FakeInteraction:
        state = self.state
        user = state.user(user_id)
        now = state.clock()
        created = now - age_seconds
        if guild_id is None:
            channel = state.dm_channel(user_id)
            guild = None
        else:
            guild = state.guilds.get(guild_id)
            if guild is None:
                raise LookupError(f"no server {guild_id} in the fake (fd.add_guild() makes one)")
            channel = state.channel(channel_id or guild.channel_ids[0])
            if channel.guild_id != guild_id:
                raise LookupError(f"channel {channel.id} is not in server {guild_id}")
        bot_in_guild = guild is None or guild.bot_member
        ix = FakeInteraction(
            id=state.snowflake(at=created),
            token="fake-interaction-" + secrets.token_urlsafe(48),
            type=kind,
            user_id=user.id,
            channel_id=channel.id,
            guild_id=guild_id,
            payload={},
            created_at=created,
            delivered_at=now,
            attachment_size_limit=attachment_size_limit,
            user_install=user_install,
            bot_in_guild=bot_in_guild,
        )
        owners: dict[str, str] = {}
        if not user_install or (guild is not None and guild.bot_member):
            owners["0"] = str(guild_id) if guild_id is not None else "0"
        if user_install:
            owners["1"] = str(user.id)
        data: dict[str, Any] = {
            "id": str(ix.id),
            "application_id": str(state.application_id),
            "type": kind,
            "token": ix.token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": owners,
            "context": 0 if guild is not None else 1,
            "attachment_size_limit": attachment_size_limit,
            "channel_id": str(channel.id),
        }
        if guild is not None:
            perms = member_permissions if member_permissions is not None else user.permissions
            if user.id == guild.owner_id:
                perms = ALL_PERMISSIONS
            app_perms = state.bot_permissions(guild) if guild.bot_member else USER_INSTALL_APP_PERMISSIONS
            data.update(
                {
                    "guild_id": str(guild.id),
                    "guild_locale": "en-US",
                    "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                    "member": payloads.member(state, guild, user.id, permissions=perms),
                    "channel": payloads.channel(state, channel, permissions=perms),
                    "app_permissions": str(app_perms),
                }
            )
        else:
            data.update(
                {
                    "user": payloads.user(user),
                    "channel": payloads.channel(state, channel),
                    "app_permissions": str(DM_APP_PERMISSIONS),
                }
            )
        ix.payload = data
        return ix

    # slash commands ------------------------------------------------------------------------------

    def command(
        self,
        name: str,
        options: dict[str, Any],
        *,
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        attachments: dict[str, FakeFile] | None,
        age_seconds: float,
        user_install: bool,
        attachment_size_limit: int,
        member_permissions: int | None,
        raw_options: list[Any] | None,
    ) -> FakeInteraction:
        parts = name.split()
        command = self.state.find_command(parts[0], guild_id)
        if command is None:
            raise LookupError(f"no slash command {parts[0]!r} is registered (did the bot sync its commands?)")
        ix = self._new(
            2,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            age_seconds=age_seconds,
            user_install=user_install,
            attachment_size_limit=attachment_size_limit,
            member_permissions=member_permissions,
        )
        if raw_options is None:
            self._check_availability(command, ix, user_install)
        resolved: dict[str, dict[str, Any]] = {}
        if raw_options is not None:
            built = self._raw_options(raw_options, attachments or {}, ix, resolved)
        else:
            values = {**options, **(attachments or {})}
            built = self._command_options(command, parts, values, ix, resolved)
        data: dict[str, Any] = {"id": command["id"], "name": parts[0], "type": 1}
        if built:
            data["options"] = built
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        ix.payload["data"] = data
        return self.state.add_interaction(ix)

    # autocomplete ---------------------------------------------------------------------------------

    def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        user_install: bool,
        attachment_size_limit: int,
        member_permissions: int | None,
    ) -> FakeInteraction:
        """APPLICATION_COMMAND_AUTOCOMPLETE (type 4): what the user has typed so far, `focused` being typed.

        As Discord's client does: only for an option declared with `autocomplete: true`; the focused value is
        the partial text (a string, even for a number option); the other options carry what is filled in.
        Attachments are left out (Discord does not upload them before the command is sent).
        """
        parts = name.split()
        command = self.state.find_command(parts[0], guild_id)
        if command is None:
            raise LookupError(f"no slash command {parts[0]!r} is registered (did the bot sync its commands?)")
        if focused not in options:
            raise ClientCheckError(f"the focused option {focused!r} needs a value (the text typed so far)")
        ix = self._new(
            4,
            user_id=user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            age_seconds=0.0,
            user_install=user_install,
            attachment_size_limit=attachment_size_limit,
            member_permissions=member_permissions,
        )
        self._check_availability(command, ix, user_install)
        definitions = command.get("options") or []
        path: list[dict[str, Any]] = []
        for part in parts[1:]:
            found = next((o for o in definitions if o["name"] == part and o.get("type") in (1, 2)), None)
            if found is None:
                raise ClientCheckError(f"/{command['name']} has no subcommand {part!r}")
            path.append(found)
            definitions = found.get("options") or []
        by_name = {o["name"]: o for o in definitions}
        unknown = set(options) - set(by_name)
        if unknown:
            raise ClientCheckError(f"/{' '.join(parts)} has no option(s) {sorted(unknown)}")
        if not by_name[focused].get("autocomplete"):
            raise ClientCheckError(f"option {focused!r} of /{' '.join(parts)} has no autocomplete")
        leaf: list[dict[str, Any]] = []
        for definition in definitions:
            if definition["name"] not in options or definition["type"] == 11:
                continue
            option: dict[str, Any] = {"name": definition["name"], "type": definition["type"]}
            if definition["name"] == focused:
                option.update(value=str(options[focused]), focused=True)
            else:
                option["value"] = self._option_value(definition, options[definition["name"]], ix, {})
            leaf.append(option)
        for definition in reversed(path):
            leaf = [{"name": definition["name"], "type": definition["type"], "options": leaf}]
        data: dict[str, Any] = {"id": command["id"], "name": parts[0], "type": 1, "options": leaf}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        ix.payload["data"] = data
        return self.state.add_interaction(ix)

    def _raw_options(
        self,
        raw: list[Any],
        attachments: dict[str, FakeFile],
        ix: FakeInteraction,
        resolved: dict[str, dict[str, Any]],
    ) -> list[Any]:
        """Sent as given, except that attachment options named in `attachments` get the uploaded file's id."""
        ids: dict[str, str] = {}
        for name, file in attachments.items():
            ids[name] = self._option_value({"name": name, "type": 11}, file, ix, resolved)

        def fill(options: list[Any]) -> list[Any]:
            out = []
            for option in options:
                if isinstance(option, dict):
                    option = dict(option)
                    if option.get("type") == 11 and option.get("name") in ids:
                        option["value"] = ids[option["name"]]
                    if isinstance(option.get("options"), list):
                        option["options"] = fill(option["options"])
                out.append(option)
            return out

        return fill(raw)

    def _check_availability(self, command: dict[str, Any], ix: FakeInteraction, user_install: bool) -> None:
        context = ix.payload["context"]
        if command.get("contexts") is not None and context not in command["contexts"]:
            raise ClientCheckError(f"/{command['name']} is not offered in context {context} ({command['contexts']})")
        if (1 if user_install else 0) not in (command.get("integration_types") or [0]):
            install = "user" if user_install else "guild"
            raise ClientCheckError(f"/{command['name']} is not available to a {install} install")
        if ix.guild_id is None and command.get("dm_permission") is False:
            raise ClientCheckError(f"/{command['name']} has dm_permission=False")
        required = command.get("default_member_permissions")
        if ix.guild_id is not None and required is not None:
            have = int(ix.payload["member"]["permissions"])
            if have & int(required) != int(required) and not have & Permissions.ADMINISTRATOR:
                raise ClientCheckError(f"/{command['name']} needs permissions {required}; the member has {have}")

    def _command_options(
        self,
        command: dict[str, Any],
        parts: list[str],
        values: dict[str, Any],
        ix: FakeInteraction,
        resolved: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        definitions = command.get("options") or []
        path: list[dict[str, Any]] = []
        for part in parts[1:]:
            found = next((o for o in definitions if o["name"] == part and o.get("type") in (1, 2)), None)
            if found is None:
                raise ClientCheckError(f"/{command['name']} has no subcommand {part!r}")
            path.append(found)
            definitions = found.get("options") or []
        if any(o.get("type") in (1, 2) for o in definitions):
            raise ClientCheckError(f"/{' '.join(parts)} needs a subcommand")
        by_name = {o["name"]: o for o in definitions}
        unknown = set(values) - set(by_name)
        if unknown:
            raise ClientCheckError(f"/{' '.join(parts)} has no option(s) {sorted(unknown)}")
        leaf: list[dict[str, Any]] = []
        for definition in definitions:
            if definition["name"] not in values:
                if definition.get("required"):
                    raise ClientCheckError(f"option {definition['name']!r} is required")
                continue
            value = self._option_value(definition, values[definition["name"]], ix, resolved)
            leaf.append({"name": definition["name"], "type": definition["type"], "value": value})
        for definition in reversed(path):
            leaf = [{"name": definition["name"], "type": definition["type"], "options": leaf}]
        return leaf

    def _option_value(
        self, definition: dict[str, Any], value: Any, ix: FakeInteraction, resolved: dict[str, dict[str, Any]]
    ) -> Any:
        name, kind = definition["name"], definition["type"]

        def bad(reason: str) -> ClientCheckError:
            return ClientCheckError(f"option {name!r}: {reason} (got {value!r})")

        if kind == 3:
            if not isinstance(value, str):
                raise bad("expected a string")
            if not definition.get("min_length", 0) <= len(value) <= definition.get("max_length", 6000):
                raise bad("length out of range")
        elif kind in (4, 10):
            if isinstance(value, bool) or not isinstance(value, int if kind == 4 else (int, float)):
                raise bad("expected a number" if kind == 10 else "expected an integer")
            low, high = definition.get("min_value"), definition.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                raise bad(f"out of range [{low}, {high}]")
        elif kind == 5:
            if not isinstance(value, bool):
                raise bad("expected a boolean")
        elif kind == 11:
            if not isinstance(value, FakeFile):
                raise bad("expected a FakeFile")
            att = make_attachment(
                self.state, ix.channel_id, value.filename, value.data, value.guessed_content_type(), ephemeral=True
            )
            resolved.setdefault("attachments", {})[str(att.id)] = payloads.attachment(self.state, self.base_url(), att)
            return str(att.id)
        elif kind in (6, 9) and (isinstance(value, FakeUser) or int(value) in self.state.users):
            user = value if isinstance(value, FakeUser) else self.state.users[int(value)]
            resolved.setdefault("users", {})[str(user.id)] = payloads.user(user)
            if ix.guild_id is not None:
                guild = self.state.guilds[ix.guild_id]
                member = payloads.member(self.state, guild, user.id, with_user=False)
                member["permissions"] = str(user.permissions)
                resolved.setdefault("members", {})[str(user.id)] = member
            return str(user.id)
        elif kind == 7:
            channel = self.state.channel(int(value))
            resolved.setdefault("channels", {})[str(channel.id)] = {
                "id": str(channel.id),
                "name": channel.name,
                "type": channel.type,
                "permissions": str(ALL_PERMISSIONS),
            }
            return str(channel.id)
        elif kind in (6, 8, 9):
            raise bad("unknown user or role")
        choices = definition.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise bad(f"not one of the choices {[c['value'] for c in choices]}")
        return value

    # components ----------------------------------------------------------------------------------

    def click(
        self,
        message: FakeMessage,
        custom_id: str,
        *,
        user_id: int,
        values: list[str] | None,
        member_permissions: int | None,
        age_seconds: float,
    ) -> FakeInteraction:
        component = _find_component(message.components, custom_id)
        if component is None:
            raise LookupError(f"message {message.id} has no component with custom_id {custom_id!r}")
        if component.get("disabled"):
            raise ClientCheckError(f"component {custom_id!r} is disabled")
        kind = component["type"]
        if values is not None and kind not in SELECT_TYPES:
            raise ClientCheckError(f"component {custom_id!r} is not a select menu")
        origin = self.state.interactions.get(message.interaction_id or 0)
        limit = origin.attachment_size_limit if origin is not None else _guild_limit(self.state, message)
        ix = self._new(
            3,
            user_id=user_id,
            guild_id=message.guild_id,
            channel_id=message.channel_id,
            age_seconds=age_seconds,
            user_install=origin.user_install if origin is not None else False,
            attachment_size_limit=limit,
            member_permissions=member_permissions,
        )
        ix.message_id = message.id
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind, "id": component.get("id")}
        if kind in SELECT_TYPES:
            data["values"] = list(values or [])
        ix.payload["data"] = data
        ix.payload["message"] = payloads.message(self.state, self.base_url(), message)
        return self.state.add_interaction(ix)

    # modals --------------------------------------------------------------------------------------

    def modal_submit(
        self,
        custom_id: str,
        fields: dict[str, Any],
        *,
        user_id: int | None,
        message_id: int | None,
        member_permissions: int | None,
        age_seconds: float,
        raw_components: list[Any] | None,
    ) -> FakeInteraction:
        opened = self.state.modals.get(custom_id)
        if opened is None and raw_components is None:
            raise LookupError(f"the bot never opened a modal with custom_id {custom_id!r}")
        opener = opened[0] if opened else None
        message_id = message_id if message_id is not None else (opener.message_id if opener else None)
        message = self.state.messages.get(message_id) if message_id is not None else None
        guild_id = opener.guild_id if opener else (message.guild_id if message else self.state.default_guild_id)
        channel_id = opener.channel_id if opener else (message.channel_id if message else None)
        ix = self._new(
            5,
            user_id=user_id if user_id is not None else (opener.user_id if opener else 0),
            guild_id=guild_id,
            channel_id=channel_id,
            age_seconds=age_seconds,
            user_install=opener.user_install if opener else False,
            attachment_size_limit=opener.attachment_size_limit if opener else _guild_limit(self.state, message),
            member_permissions=member_permissions,
        )
        ix.message_id = message_id if message is not None else None
        resolved: dict[str, dict[str, Any]] = {}

        def upload(file: FakeFile) -> str:
            return self._option_value({"name": "upload", "type": 11}, file, ix, resolved)

        components = raw_components if raw_components is not None else _submitted(opened[1], fields, upload)  # type: ignore[index]
        ix.payload["data"] = {"custom_id": custom_id, "components": components}
        if resolved:
            ix.payload["data"]["resolved"] = resolved
        if message is not None:
            ix.payload["message"] = payloads.message(self.state, self.base_url(), message)
        return self.state.add_interaction(ix)


def _guild_limit(state: FakeState, message: FakeMessage | None) -> int:
    guild = state.guilds.get(message.guild_id) if message is not None and message.guild_id else None
    return guild.filesize_limit if guild is not None else 10 * 1024 * 1024


def _find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    for item in components:
        if item.get("custom_id") == custom_id:
            return item
        children = list(item.get("components") or [])
        children += [item[k] for k in ("accessory", "component") if isinstance(item.get(k), dict)]
        found = _find_component(children, custom_id)
        if found is not None:
            return found
    return None


def _submitted(
    modal: dict[str, Any], fields: dict[str, Any], upload: Callable[[FakeFile], str]
) -> list[dict[str, Any]]:
    """What Discord sends back for a modal: the same rows/labels, each input with its value.

    Text inputs take a string, selects a string or a list of values, file uploads a list of FakeFile.
    """
    remaining = dict(fields)

    def answer(item: dict[str, Any]) -> dict[str, Any]:
        cid = item.get("custom_id")
        kind = item["type"]
        given = remaining.pop(cid, None) if cid else None
        out: dict[str, Any] = {"type": kind, "id": item.get("id", 0)}
        if cid:
            out["custom_id"] = cid
        if kind == 4:
            text = "" if given is None else given
            if not isinstance(text, str):
                raise ClientCheckError(f"text input {cid!r} takes a string")
            if item.get("required", True) and not text:
                raise ClientCheckError(f"text input {cid!r} is required")
            if text and not item.get("min_length", 0) <= len(text) <= item.get("max_length", 4000):
                raise ClientCheckError(f"text input {cid!r}: length out of range")
            out["value"] = text
        elif kind == FILE_UPLOAD:
            files = list(given or [])
            if item.get("required", True) and not files:
                raise ClientCheckError(f"file upload {cid!r} is required")
            if not all(isinstance(f, FakeFile) for f in files):
                raise ClientCheckError(f"file upload {cid!r} takes a list of FakeFile")
            out["values"] = [upload(f) for f in files]
        elif kind in SELECT_TYPES:
            chosen = [given] if isinstance(given, str) else list(given or [])
            if item.get("required", True) and not chosen:
                raise ClientCheckError(f"select {cid!r} is required")
            out["values"] = chosen
        return out

    result: list[dict[str, Any]] = []
    for top in modal.get("components", []):
        if top["type"] == 1:
            result.append({"type": 1, "id": top.get("id", 0), "components": [answer(c) for c in top["components"]]})
        elif top["type"] == 18:
            result.append({"type": 18, "id": top.get("id", 0), "component": answer(top["component"])})
        else:
            result.append({"type": top["type"], "id": top.get("id", 0)})
    if remaining:
        raise ClientCheckError(f"the modal has no inputs {sorted(remaining)}")
    return result
