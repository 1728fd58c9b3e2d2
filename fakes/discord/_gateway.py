"""The gateway websocket: HELLO, heartbeats, IDENTIFY → READY + GUILD_CREATE, RESUME, and dispatches.

Frames are always text (discord.py only decompresses binary frames). Sessions outlive their sockets so
a RESUME replays what was missed; a client that closes with 1000/1001 ends its session, as on Discord.
Sessions may be sharded (`_shards.py`): each gets only its shard's servers, and every dispatch is recorded.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from fakes.discord import _payloads as payloads
from fakes.discord._constants import (
    HEARTBEAT_INTERVAL_MS,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_MESSAGE_CONTENT,
)
from fakes.discord._shards import (
    CLOSE_INVALID_SHARD,
    CLOSE_SHARDING_REQUIRED,
    MAX_GUILDS_PER_SHARD,
    GatewayEvent,
    ShardAdvice,
    guild_id_of,
    object_id,
    parse_shard,
    shard_of,
)
from fakes.discord._state import FakeState

log = logging.getLogger(__name__)

OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_RESUME, OP_RECONNECT = 0, 1, 2, 6, 7
OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 9, 10, 11
IGNORED_OPS = {3, 4, 8, 31}  # presence, voice state, request guild members, soundboard
REPLAY_BUFFER = 2000


@dataclass(eq=False)
class Session:
    """A gateway session (what IDENTIFY creates and RESUME continues)."""

    id: str
    intents: int
    shard: tuple[int, int] | None
    number: int = 0
    """Which IDENTIFY opened it: 1 for the first the fake saw, 2 for the next…"""
    ws: web.WebSocketResponse | None = None
    seq: int = 0
    resumable: bool = True
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REPLAY_BUFFER))

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    def covers(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives events of that server (DMs go to shard 0)."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return shard_of(guild_id, count) == shard_id


class Gateway:
    """All gateway sessions of one fake Discord."""

    def __init__(self, state: FakeState, *, token_ok: Callable[[str | None], bool], url: Callable[[], str]) -> None:
        self.state = state
        self._token_ok = token_ok
        self._url = url
        self.sessions: dict[str, Session] = {}
        self.ready_count = 0
        self.resume_count = 0
        self.advice = ShardAdvice()
        self.max_guilds_per_shard = MAX_GUILDS_PER_SHARD
        self.events: list[GatewayEvent] = []
        self.accepting = True
        """False: new gateway connections are refused (503 before the upgrade), as in a gateway outage."""
        self._sockets: set[web.WebSocketResponse] = set()

    # connections ---------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self.accepting:
            return web.Response(status=503, text="Gateway unavailable.")
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        session: Session | None = None
        try:
            await self._send(ws, {"op": OP_HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                if msg.type != WSMsgType.TEXT:
                    break
                try:
                    frame = json.loads(msg.data)
                    op = frame["op"]
                except (ValueError, KeyError, TypeError):
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                if op == OP_HEARTBEAT:
                    await self._send(ws, {"op": OP_HEARTBEAT_ACK})
                elif op == OP_IDENTIFY:
                    session = await self._identify(ws, frame.get("d") or {}, session)
                elif op == OP_RESUME:
                    session = await self._resume(ws, frame.get("d") or {})
                elif op not in IGNORED_OPS:
                    await ws.close(code=4001, message=b"Unknown opcode.")
                    break
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                if ws.close_code in (1000, 1001):
                    session.resumable = False
            self.state.changes.notify()
        return ws

    async def _identify(
        self, ws: web.WebSocketResponse, data: dict[str, Any], current: Session | None
    ) -> Session | None:
        if current is not None:
            await ws.close(code=4005, message=b"Already authenticated.")
            return current
        if not self._token_ok(data.get("token")):
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        try:
            shard = parse_shard(data.get("shard"))
        except ValueError:
            await ws.close(code=CLOSE_INVALID_SHARD[0], message=CLOSE_INVALID_SHARD[1])
            return None
        member_of = [g for g in self.state.guilds.values() if g.bot_member]
        if len(member_of) > self.max_guilds_per_shard * (shard[1] if shard else 1):
            await ws.close(code=CLOSE_SHARDING_REQUIRED[0], message=CLOSE_SHARDING_REQUIRED[1])
            return None
        self.advice.sessions_started += 1
        session = Session(
            id=secrets.token_hex(16),
            intents=int(data.get("intents") or 0),
            shard=shard,
            number=self.advice.sessions_started,
            ws=ws,
        )
        self.sessions[session.id] = session
        guilds = [g for g in member_of if session.covers(g.id)]
        ready = payloads.ready(self.state, session.id, self._url(), guilds, list(shard) if shard else None)
        await self._dispatch(session, "READY", ready)
        for guild in guilds:
            await self._dispatch(session, "GUILD_CREATE", payloads.guild_create(self.state, guild))
        self.ready_count += 1
        self.state.changes.notify()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or not session.resumable or not self._token_ok(data.get("token")):
            await self._send(ws, {"op": OP_INVALID_SESSION, "d": False})
            return None
        if session.ws is not None and not session.ws.closed:
            await session.ws.close(code=4000, message=b"Session resumed elsewhere.")
        session.ws = ws
        after = int(data.get("seq") or 0)
        for frame in list(session.buffer):
            if frame["s"] > after:
                await self._send(ws, frame)
        await self._dispatch(session, "RESUMED", {"_trace": ['["fake-discord",{"micros":0}]']})
        self.resume_count += 1
        self.state.changes.notify()
        return session

    async def close_all(self, code: int = 1001) -> None:
        for ws in list(self._sockets):
            await ws.close(code=code, message=b"Fake Discord stopping.")

    async def drop(self, shard_id: int | None = None, code: int = 4000) -> int:
        """Close the sockets of connected sessions (of one shard, when given) with `code`; how many were closed.

        4000 (unknown error) lets discord.py RESUME, as after a network blip on Discord's side."""
        closed = 0
        for session in self.connected_sessions():
            if shard_id is None or (session.shard[0] if session.shard else 0) == shard_id:
                assert session.ws is not None
                await session.ws.close(code=code, message=b"Connection dropped by the fake.")
                closed += 1
        return closed

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connected session (the bot should RESUME)."""
        for session in self.connected_sessions():
            assert session.ws is not None
            await self._send(session.ws, {"op": OP_RECONNECT, "d": None})

    # dispatch ------------------------------------------------------------------------------------

    def connected_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.connected]

    def session_for(self, guild_id: int | None) -> Session | None:
        """The most recently identified connected session whose shard handles that server."""
        for session in reversed(list(self.sessions.values())):
            if session.connected and session.covers(guild_id):
                return session
        return None

    async def dispatch_interaction(self, data: dict[str, Any], guild_id: int | None) -> Session:
        """INTERACTION_CREATE to the one connection that handles that server's shard; that session."""
        session = self.session_for(guild_id)
        if session is None:
            raise RuntimeError(
                "no bot is connected to the fake gateway on the shard of that server "
                "(await fd.wait_until_connected() first)"
            )
        await self._dispatch(session, "INTERACTION_CREATE", data)
        return session

    async def dispatch_message_event(self, event: str, data: dict[str, Any], guild_id: int | None) -> None:
        """MESSAGE_CREATE/UPDATE/DELETE to every live session whose intents and shard want it."""
        intent = INTENT_GUILD_MESSAGES if guild_id else INTENT_DIRECT_MESSAGES
        for session in list(self.sessions.values()):
            if session.resumable and session.intents & intent and session.covers(guild_id):
                content_ok = session.intents & INTENT_MESSAGE_CONTENT or self._content_visible(data, guild_id)
                await self._dispatch(session, event, data if content_ok else _without_content(data))

    def _content_visible(self, data: dict[str, Any], guild_id: int | None) -> bool:
        """Without the Message Content intent a bot still sees DMs, its own messages and messages mentioning it."""
        bot = str(self.state.bot_user_id)
        author = (data.get("author") or {}).get("id")
        return not guild_id or author == bot or any(u.get("id") == bot for u in data.get("mentions") or [])

    async def dispatch_guild_event(self, event: str, data: dict[str, Any], guild_id: int) -> None:
        """GUILD_CREATE, CHANNEL_CREATE…: to every live session whose shard handles the server."""
        for session in list(self.sessions.values()):
            if session.resumable and session.covers(guild_id):
                await self._dispatch(session, event, data)

    async def _dispatch(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.buffer.append(frame)
        guild_id = guild_id_of(event, data)
        self.events.append(GatewayEvent(event, session.number, session.shard, guild_id, object_id(data)))
        if session.ws is not None and not session.ws.closed:
            try:
                await self._send(session.ws, frame)
            except ConnectionError:
                log.debug("gateway socket of session %s went away during %s", session.id, event)

    @staticmethod
    async def _send(ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(frame, separators=(",", ":")))


def _without_content(data: dict[str, Any]) -> dict[str, Any]:
    """A message event as a bot without the Message Content intent receives it."""
    blanked = {"content": "", "attachments": [], "embeds": [], "components": []}
    return {**data, **{key: value for key, value in blanked.items() if key in data}}
