"""What every REST route module shares: the call as handlers see it, rendering, and gateway events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from multidict import MultiDictProxy

from fakes.discord import _payloads as payloads
from fakes.discord._gateway import Gateway
from fakes.discord._messages import Body
from fakes.discord._models import FakeMessage
from fakes.discord._state import FakeState

Result = tuple[int, Any]
ID = r"(?P<{}>\d+)"


@dataclass
class Call:
    """One REST call as the handlers see it."""

    method: str
    path: str
    args: dict[str, str]
    query: MultiDictProxy[str]
    body: Body

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")

    @property
    def json(self) -> dict[str, Any]:
        return self.body.payload if isinstance(self.body.payload, dict) else {}


Handler = Callable[[Call], Awaitable[Result]]
RouteTable = list[tuple[str, str, Handler, bool]]  # (method, path pattern, handler, needs the bot token)


class RouteGroup:
    """A set of handlers sharing the state, the gateway and the server's address."""

    def __init__(self, state: FakeState, gateway: Gateway, base_url: Callable[[], str]) -> None:
        self.state = state
        self.gateway = gateway
        self.base_url = base_url

    def render(self, message: FakeMessage) -> dict[str, Any]:
        return payloads.message(self.state, self.base_url(), message)

    async def publish(self, event: str, message: FakeMessage) -> None:
        """Tell connected bots about a message they can see (not ephemeral, in a server they are in)."""
        self.state.changes.notify()
        if message.ephemeral:
            return
        channel = self.state.channels.get(message.channel_id)
        guild = self.state.guild_of(channel) if channel is not None else None
        if guild is not None and not guild.bot_member:
            return
        if event == "MESSAGE_DELETE":
            data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id:
                data["guild_id"] = str(message.guild_id)
        else:
            data = payloads.message(self.state, self.base_url(), message, gateway=True)
        await self.gateway.dispatch_message_event(event, data, message.guild_id)
