"""Threads: open one in a channel or from a message, and archive (or rename, lock) it with PATCH /channels/{id}.

As on Discord: a thread is a channel whose messages are posted to its id; opening a public thread needs Create
Public Threads, archiving one the bot did not open needs Manage Threads; every change is a THREAD_CREATE or
THREAD_UPDATE event for the bots in that server.
"""

from __future__ import annotations

from typing import Any

from fakes.discord import _errors as err
from fakes.discord import _payloads as payloads
from fakes.discord._constants import AUTO_ARCHIVE_DURATIONS, PRIVATE_THREAD, PUBLIC_THREAD, Permissions
from fakes.discord._models import FakeChannel
from fakes.discord._rest_base import ID, Call, Result, RouteGroup, RouteTable


class ThreadRoutes(RouteGroup):
    """POST /channels/{id}/threads, POST /channels/{id}/messages/{id}/threads, PATCH /channels/{id}."""

    def table(self) -> RouteTable:
        channel = "/channels/" + ID.format("channel_id")
        return [
            ("POST", channel + "/threads", self.create_thread, True),
            ("POST", channel + "/messages/" + ID.format("message_id") + "/threads", self.create_from_message, True),
            ("PATCH", channel, self.modify_channel, True),
        ]

    def _parent(self, call: Call) -> FakeChannel:
        parent = self.state.channel(int(call.args["channel_id"]))
        guild = self.state.guild_of(parent)
        if guild is None or not guild.bot_member:
            raise err.missing_access()
        if parent.type != 0:
            raise err.APIError(400, 50024, "Cannot execute action on this channel type")
        return parent

    def _options(self, call: Call, default_type: int) -> tuple[str, int, int]:
        body = call.json
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise err.invalid_form(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        kind = int(body.get("type") or default_type)
        duration = int(body.get("auto_archive_duration") or 1440)
        if duration not in AUTO_ARCHIVE_DURATIONS:
            raise err.invalid_form(
                ["auto_archive_duration"], "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}."
            )
        return name, kind, duration

    def _check_may_create(self, parent: FakeChannel, kind: int) -> None:
        guild = self.state.guild_of(parent)
        assert guild is not None
        needed = Permissions.VIEW_CHANNEL | (
            Permissions.CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else Permissions.CREATE_PUBLIC_THREADS
        )
        if self.state.bot_permissions(guild) & needed != needed:
            raise err.missing_permissions()

    async def create_thread(self, call: Call) -> Result:
        parent = self._parent(call)
        name, kind, duration = self._options(call, PRIVATE_THREAD)  # Discord's default without a message
        if kind not in (PUBLIC_THREAD, PRIVATE_THREAD):
            raise err.invalid_form(["type"], "BASE_TYPE_CHOICES", "Value must be one of {11, 12}.")
        self._check_may_create(parent, kind)
        thread = self.state.add_thread(
            parent, name, owner_id=self.state.bot_user_id, kind=kind, auto_archive_duration=duration
        )
        await self._announce("THREAD_CREATE", thread, newly_created=True)
        return 201, payloads.thread(self.state, thread)

    async def create_from_message(self, call: Call) -> Result:
        parent = self._parent(call)
        message = self.state.messages.get(int(call.args["message_id"]))
        if message is None or message.deleted or message.channel_id != parent.id or message.ephemeral:
            raise err.unknown_message()
        if message.id in self.state.channels:
            raise err.APIError(400, 160004, "A thread has already been created for this message")
        name, _, duration = self._options(call, PUBLIC_THREAD)
        self._check_may_create(parent, PUBLIC_THREAD)
        thread = self.state.add_thread(
            parent, name, owner_id=self.state.bot_user_id, thread_id=message.id, auto_archive_duration=duration
        )
        await self._announce("THREAD_CREATE", thread, newly_created=True)
        return 201, payloads.thread(self.state, thread)

    async def modify_channel(self, call: Call) -> Result:
        thread = self.state.channel(int(call.args["channel_id"]))
        guild = self.state.guild_of(thread)
        if guild is None or not guild.bot_member:
            raise err.missing_access()
        if not thread.is_thread:
            raise err.missing_permissions()  # the bot's role has no Manage Channels
        body = call.json
        manage = bool(self.state.bot_permissions(guild) & Permissions.MANAGE_THREADS)
        if "locked" in body and not manage:
            raise err.missing_permissions()
        if "archived" in body and thread.owner_id != self.state.bot_user_id and not manage:
            raise err.missing_permissions()
        if thread.locked and not manage:
            raise err.APIError(400, 50083, "Thread is archived")
        if "name" in body:
            thread.name = str(body["name"])
        if "archived" in body and bool(body["archived"]) != thread.archived:
            thread.archived = bool(body["archived"])
            thread.archive_timestamp = self.state.clock()
        if "locked" in body:
            thread.locked = bool(body["locked"])
        if "auto_archive_duration" in body:
            thread.auto_archive_duration = int(body["auto_archive_duration"])
        self.state.changes.notify()
        await self._announce("THREAD_UPDATE", thread)
        return 200, payloads.thread(self.state, thread)

    async def _announce(self, event: str, thread: FakeChannel, **extra: Any) -> None:
        assert thread.guild_id is not None
        data = {**payloads.thread(self.state, thread), **extra}
        await self.gateway.dispatch_guild_event(event, data, thread.guild_id)
