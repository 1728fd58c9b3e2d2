"""Interaction callbacks and the interaction-token webhook: originals, followups, edits, deletes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fakes.discord import _errors as err
from fakes.discord._constants import MAX_USER_INSTALL_FOLLOWUPS, MessageFlags
from fakes.discord._gateway import Gateway
from fakes.discord._messages import Body, apply, check_limits, number_components
from fakes.discord._models import FakeInteraction, FakeMessage
from fakes.discord._rest_base import ID, Call, Result, RouteGroup, RouteTable
from fakes.discord._state import FakeState


class InteractionRoutes(RouteGroup):
    """`/interactions/{id}/{token}/callback` and `/webhooks/{app}/{token}/...`."""

    def __init__(
        self,
        state: FakeState,
        gateway: Gateway,
        base_url: Callable[[], str],
        ack_deadline: Callable[[], float | None],
    ) -> None:
        super().__init__(state, gateway, base_url)
        self.ack_deadline = ack_deadline

    def table(self) -> RouteTable:
        hook = "/webhooks/" + ID.format("app_id") + r"/(?P<token>[^/]+)"
        hook_message = hook + r"/messages/(?P<message_id>@original|\d+)"
        callback = "/interactions/" + ID.format("interaction_id") + r"/(?P<token>[^/]+)/callback"
        return [
            ("POST", callback, self.callback, False),
            ("POST", hook, self.followup, False),
            ("GET", hook_message, self.get_message, False),
            ("PATCH", hook_message, self.edit_message, False),
            ("DELETE", hook_message, self.delete_message, False),
        ]

    async def callback(self, call: Call) -> Result:
        state = self.state
        ix = state.interactions.get(int(call.args["interaction_id"]))
        if ix is None or ix.token != call.args["token"]:
            raise err.unknown_interaction()
        if ix.acknowledged:
            raise err.already_acknowledged()
        deadline = self.ack_deadline()
        late = deadline is not None and state.clock() - ix.delivered_at > deadline
        if late or state.token_expired(ix):
            raise err.unknown_interaction()
        kind = call.json.get("type")
        data = call.json.get("data") or {}
        if kind not in _CALLBACK_TYPES.get((ix.type, ix.message_id is not None), set()):
            raise err.invalid_form(["type"], "INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type")
        response: dict[str, Any] = {"interaction": {"id": str(ix.id), "type": ix.type}}
        message: FakeMessage | None = None
        # The message part of a callback is its `data`; files come with the callback's multipart body.
        content = Body(call.body.media_type, data, call.body.uploads)
        if kind in (4, 5):
            check_limits(content, size_limit=ix.attachment_size_limit)
            flags = MessageFlags.LOADING | (int(data.get("flags") or 0) & MessageFlags.EPHEMERAL) if kind == 5 else 0
            message = self._interaction_message(ix, content if kind == 4 else Body(None, {}), flags=flags)
            ix.original = message
        elif kind in (6, 7):
            message = ix.original = state.message(ix.message_id or 0)
            if kind == 7:
                check_limits(content, size_limit=ix.attachment_size_limit)
                apply(state, message, content, creating=False)
        elif kind == 8:
            ix.autocomplete_choices = list(data.get("choices") or [])
        elif kind == 9:
            ix.modal = data
            # Discord numbers the modal's components; the submit echoes those ids back.
            state.modals[data["custom_id"]] = (ix, {**data, "components": number_components(data["components"])})
        ix.callbacks.append({"type": kind, "data": data})
        if message is not None:
            response["interaction"].update(
                {
                    "response_message_id": str(message.id),
                    "response_message_loading": message.loading,
                    "response_message_ephemeral": message.ephemeral,
                }
            )
            if kind in (4, 7):
                response["resource"] = {"type": kind, "message": self.render(message)}
            if kind != 6:
                await self.publish("MESSAGE_CREATE" if kind in (4, 5) else "MESSAGE_UPDATE", message)
        state.changes.notify()
        return (200, response) if call.flag("with_response") else (204, None)

    def _interaction_message(self, ix: FakeInteraction, body: Body, *, flags: int = 0) -> FakeMessage:
        state = self.state
        message = FakeMessage(
            id=state.snowflake(),
            channel_id=ix.channel_id,
            guild_id=ix.guild_id,
            author_id=state.bot_user_id,
            timestamp=state.clock(),
            flags=flags,
            interaction_id=ix.id,
            webhook=True,
            type=20 if ix.type == 2 and not ix.original else 0,
        )
        apply(state, message, body, creating=True, allow_empty=bool(flags & MessageFlags.LOADING))
        return state.store_message(message)

    def _webhook_interaction(self, call: Call) -> FakeInteraction:
        if int(call.args["app_id"]) != self.state.application_id:
            raise err.unknown_webhook()
        ix = self.state.interactions_by_token.get(call.args["token"])
        if ix is None or self.state.token_expired(ix):
            raise err.invalid_webhook_token()
        return ix

    def _webhook_message(self, call: Call, ix: FakeInteraction) -> FakeMessage:
        ref = call.args["message_id"]
        if ref == "@original":
            if ix.original is None or ix.original.deleted:
                raise err.unknown_message()
            return ix.original
        message = self.state.messages.get(int(ref))
        if message is None or message.deleted or message not in (ix.original, *ix.followups):
            raise err.unknown_message()
        return message

    async def followup(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        if not ix.acknowledged:
            raise err.unknown_webhook()
        check_limits(call.body, size_limit=ix.attachment_size_limit)
        original = ix.original
        if original is not None and original.loading and not original.deleted and original.interaction_id == ix.id:
            # Discord's documented compatibility rule: the first followup after a deferred response edits
            # the "thinking" message instead of creating one, keeping its ephemeral state.
            apply(self.state, original, call.body, creating=False)
            message = original
            await self.publish("MESSAGE_UPDATE", message)
        else:
            if ix.user_install and not ix.bot_in_guild and len(ix.followups) >= MAX_USER_INSTALL_FOLLOWUPS:
                raise err.max_followups()
            message = self._interaction_message(ix, call.body)
            ix.followups.append(message)
            await self.publish("MESSAGE_CREATE", message)
        return (200, self.render(message)) if call.flag("wait") else (204, None)

    async def get_message(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        return 200, self.render(self._webhook_message(call, ix))

    async def edit_message(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        message = self._webhook_message(call, ix)
        check_limits(call.body, size_limit=ix.attachment_size_limit)
        apply(self.state, message, call.body, creating=False)
        await self.publish("MESSAGE_UPDATE", message)
        return 200, self.render(message)

    async def delete_message(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        message = self._webhook_message(call, ix)
        message.deleted = True
        await self.publish("MESSAGE_DELETE", message)
        return 204, None


# Callback types Discord accepts, by (interaction type, whether it came from a message).
_CALLBACK_TYPES: dict[tuple[int, bool], set[int]] = {
    (2, False): {4, 5, 9},
    (3, True): {4, 5, 6, 7, 9},
    (4, False): {8},
    (5, False): {4, 5},
    (5, True): {4, 5, 6, 7},
}
