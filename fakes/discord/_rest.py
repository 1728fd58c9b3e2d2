"""The REST routes the fake serves, assembled from the route groups, and the lookup the server uses."""

from __future__ import annotations

import re
from collections.abc import Callable

from fakes.discord._gateway import Gateway
from fakes.discord._rest_base import ID, Call, Handler, Result
from fakes.discord._rest_channels import ChannelRoutes
from fakes.discord._rest_commands import CommandRoutes
from fakes.discord._rest_interactions import InteractionRoutes
from fakes.discord._rest_threads import ThreadRoutes
from fakes.discord._state import FakeState

__all__ = ["Call", "Handler", "Result", "Routes"]


class Routes:
    """Route table; `match` finds the handler for a method and API path (relative to /api/v10)."""

    def __init__(
        self,
        state: FakeState,
        gateway: Gateway,
        base_url: Callable[[], str],
        ack_deadline: Callable[[], float | None],
    ) -> None:
        table = [
            *ChannelRoutes(state, gateway, base_url).table(),
            *ThreadRoutes(state, gateway, base_url).table(),
            *InteractionRoutes(state, gateway, base_url, ack_deadline).table(),
            *CommandRoutes(state).table(ID.format("app_id")),
        ]
        self._table = [(m, re.compile(p + "$"), h, auth) for m, p, h, auth in table]

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str], bool] | None:
        for route_method, pattern, handler, auth in self._table:
            if route_method == method:
                found = pattern.match(path)
                if found:
                    return handler, found.groupdict(), auth
        return None
