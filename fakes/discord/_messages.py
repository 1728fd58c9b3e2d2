"""How Discord turns a message body into a message: uploads, limits, edits, attachments and pings."""

from __future__ import annotations

import contextlib
import io
import json
import mimetypes
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from fakes.discord import _errors as err
from fakes.discord._constants import (
    DEFAULT_FILESIZE_LIMIT,
    EDITABLE_FLAGS,
    MAX_CONTENT,
    MAX_EMBED_CHARS,
    MAX_EMBEDS,
    MAX_FILES,
    SETTABLE_FLAGS,
    USER_INSTALL_APP_PERMISSIONS,
    MessageFlags,
    Permissions,
)
from fakes.discord._models import FakeAttachment, FakeChannel, FakeMessage
from fakes.discord._state import FakeState

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(?:everyone|here)\b")
UNSAFE_FILENAME = re.compile(r"[^\w.\-]")


@dataclass
class Upload:
    """One file part of a multipart request."""

    field: str
    filename: str
    data: bytes
    content_type: str | None


@dataclass
class Body:
    """A request body: JSON (or the multipart `payload_json`) plus uploaded files."""

    media_type: str | None
    payload: Any = None
    uploads: list[Upload] = field(default_factory=list)


async def read_body(request: web.Request) -> Body:
    """Parse JSON or multipart bodies the way Discord does; `files[n]` parts keep their exact bytes."""
    if not request.body_exists:
        return Body(media_type=None)
    media_type = request.content_type
    if media_type == "multipart/form-data":
        body = Body(media_type=media_type, payload={})
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue  # nested multipart: Discord does not accept it either
            data = await part.read(decode=False)
            if part.filename is not None:
                content_type = part.headers.get("Content-Type")
                body.uploads.append(Upload(part.name or "", part.filename, bytes(data), content_type))
            elif part.name == "payload_json":
                body.payload = _parse_json(bytes(data))
            elif part.name:
                body.payload[part.name] = bytes(data).decode("utf-8", "replace")
        return body
    raw = await request.read()
    if media_type == "application/json":
        return Body(media_type=media_type, payload=_parse_json(raw) if raw else None)
    return Body(media_type=media_type, payload=raw.decode("utf-8", "replace"))


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise err.APIError(400, 50109, "The request body contains invalid JSON.") from None


def check_limits(body: Body, *, size_limit: int) -> None:
    """Upload size (413/40005) first, as Discord rejects oversized uploads before reading the form."""
    for upload in body.uploads:
        if len(upload.data) > size_limit:
            raise err.too_large()
    payload = body.payload if isinstance(body.payload, dict) else {}
    if len(body.uploads) > MAX_FILES:
        raise err.invalid_form(["files"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length.")
    content = payload.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        raise err.invalid_form(["content"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
    embeds = payload.get("embeds") or []
    if isinstance(embeds, list):
        if len(embeds) > MAX_EMBEDS:
            raise err.invalid_form(["embeds"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
        if sum(_embed_chars(e) for e in embeds if isinstance(e, dict)) > MAX_EMBED_CHARS:
            raise err.invalid_form(
                ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_CHARS}"
            )


def _embed_chars(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "") + len((embed.get("author") or {}).get("name") or "")
    for item in embed.get("fields") or []:
        total += len(item.get("name") or "") + len(item.get("value") or "")
    return total


def make_attachment(
    state: FakeState,
    channel_id: int,
    filename: str,
    data: bytes,
    content_type: str | None = None,
    *,
    description: str | None = None,
    ephemeral: bool = False,
) -> FakeAttachment:
    """Store an upload the way Discord's CDN does: safe name, type from the extension, image size."""
    safe = UNSAFE_FILENAME.sub("_", filename) or "unknown"
    if not content_type or content_type == "application/octet-stream":
        content_type = mimetypes.guess_type(safe)[0] or (content_type or None)
    width = height = None
    if content_type and content_type.startswith("image/"):
        with contextlib.suppress(Exception):
            from PIL import Image

            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    att = FakeAttachment(
        id=state.snowflake(),
        filename=safe,
        data=data,
        content_type=content_type,
        size=len(data),
        channel_id=channel_id,
        width=width,
        height=height,
        description=description,
        ephemeral=ephemeral,
    )
    state.attachments[att.id] = att
    return att


def number_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Store components as Discord does: null fields dropped, a numeric `id` on each one left without."""
    components = _without_nulls(components)
    used: set[int] = set()
    order: list[dict[str, Any]] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if not isinstance(item, dict):
                continue
            order.append(item)
            if isinstance(item.get("id"), int):
                used.add(item["id"])
            walk(item.get("components") or [])
            for key in ("accessory", "component"):
                if isinstance(item.get(key), dict):
                    walk([item[key]])

    walk(components)
    next_id = 1
    for item in order:
        if not isinstance(item.get("id"), int):
            while next_id in used:
                next_id += 1
            item["id"] = next_id
            used.add(next_id)
    return components


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def apply(
    state: FakeState,
    message: FakeMessage,
    body: Body,
    *,
    creating: bool,
    allow_empty: bool = False,
) -> None:
    """Apply a create or edit body to a message (Discord's field-by-field semantics)."""
    payload: dict[str, Any] = body.payload if isinstance(body.payload, dict) else {}
    if "content" in payload:
        message.content = payload["content"] or ""
    if "embeds" in payload:
        message.embeds = [{"type": "rich", **e} for e in payload["embeds"] or [] if isinstance(e, dict)]
    if "components" in payload:
        message.components = number_components(payload["components"] or [])
    if "flags" in payload and payload["flags"] is not None:
        allowed = SETTABLE_FLAGS if creating else EDITABLE_FLAGS
        message.flags = (message.flags & ~allowed) | (int(payload["flags"]) & allowed)
    if creating:
        message.tts = bool(payload.get("tts"))
        message.nonce = payload.get("nonce")
        reference = payload.get("message_reference")
        if isinstance(reference, dict) and reference.get("message_id"):
            message.type = 19
            message.message_reference = {
                "type": 0,
                "channel_id": str(reference.get("channel_id") or message.channel_id),
                "message_id": str(reference["message_id"]),
                **({"guild_id": str(message.guild_id)} if message.guild_id else {}),
            }
    _apply_attachments(state, message, payload, body.uploads)
    if "allowed_mentions" in payload:
        message.allowed_mentions = payload["allowed_mentions"]
    if not creating:
        message.edit_count += 1
        message.edited_timestamp = state.clock()
        message.flags &= ~MessageFlags.LOADING
    empty = not (
        message.content
        or message.embeds
        or message.attachments
        or message.components
        or payload.get("sticker_ids")
        or payload.get("poll")
    )
    if empty and not allow_empty:
        raise err.empty_message()
    compute_mentions(state, message)


def _apply_attachments(state: FakeState, message: FakeMessage, payload: dict[str, Any], uploads: list[Upload]) -> None:
    """`attachments` lists what to keep (existing ids) and names new uploads (by index); unlisted files are added."""
    new: dict[int, FakeAttachment] = {}
    ephemeral = message.ephemeral

    def upload(index: int, filename: str | None = None, description: str | None = None) -> FakeAttachment:
        if index not in new:
            item = uploads[index]
            new[index] = make_attachment(
                state,
                message.channel_id,
                filename or item.filename,
                item.data,
                item.content_type,
                description=description,
                ephemeral=ephemeral,
            )
        return new[index]

    listed = payload.get("attachments")
    if listed is None:
        kept = list(message.attachments)
    else:
        existing = {a.id: a for a in message.attachments}
        kept = []
        for position, entry in enumerate(listed):
            ref = entry.get("id") if isinstance(entry, dict) else None
            try:
                ref_id = int(ref)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                ref_id = -1
            if ref_id in existing:
                kept.append(existing[ref_id])
            elif 0 <= ref_id < len(uploads):
                kept.append(upload(ref_id, entry.get("filename"), entry.get("description")))
            else:
                raise err.invalid_form(["attachments", position, "id"], "ATTACHMENT_NOT_FOUND", "Unknown attachment")
    for index in range(len(uploads)):
        if index not in new:
            kept.append(upload(index))
    if len(kept) > MAX_FILES:
        raise err.invalid_form(["attachments"], "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length.")
    message.attachments = kept


def compute_mentions(state: FakeState, message: FakeMessage) -> None:
    """Who would actually be pinged, honouring allowed_mentions (absent: everything in content pings)."""
    allowed = message.allowed_mentions
    content = message.content
    users_in = list(dict.fromkeys(int(u) for u in USER_MENTION.findall(content)))
    roles_in = list(dict.fromkeys(int(r) for r in ROLE_MENTION.findall(content)))
    if allowed is None:
        parse = {"users", "roles", "everyone"}
        allowed_users: set[int] = set()
        allowed_roles: set[int] = set()
    else:
        parse = set(allowed.get("parse") or [])
        allowed_users = {int(u) for u in allowed.get("users") or []}
        allowed_roles = {int(r) for r in allowed.get("roles") or []}
        if ("users" in parse and allowed_users) or ("roles" in parse and allowed_roles):
            raise err.invalid_form(
                ["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                'parse:["users"] and users: [ids] are mutually exclusive.',
            )
    users = [u for u in users_in if "users" in parse or u in allowed_users]
    roles = [r for r in roles_in if "roles" in parse or r in allowed_roles]
    everyone = bool(EVERYONE_MENTION.search(content)) and "everyone" in parse

    channel = state.channels.get(message.channel_id)
    guild = state.guild_of(channel) if channel is not None else None
    pinged = set(users)
    if guild is None:
        everyone, roles = False, []
        pinged &= {channel.recipient_id} if channel is not None else set()
    else:
        author_perms = state.bot_permissions(guild) if guild.bot_member else USER_INSTALL_APP_PERMISSIONS
        can_mention_all = bool(author_perms & Permissions.MENTION_EVERYONE)
        everyone = everyone and can_mention_all
        role_defs = {int(r["id"]): r for r in guild.roles}
        roles = [r for r in roles if r in role_defs and (can_mention_all or role_defs[r].get("mentionable"))]
        if everyone:
            pinged |= set(guild.member_ids)
        for member_id, member_roles in guild.member_roles.items():
            if set(member_roles) & set(roles):
                pinged.add(member_id)
    pinged.discard(message.author_id)
    if message.flags & (MessageFlags.EPHEMERAL | MessageFlags.SUPPRESS_NOTIFICATIONS):
        pinged = set()  # ephemeral and @silent messages notify no one
    message.explicit_mentions = users
    message.mention_roles = roles
    message.mention_everyone = everyone
    message.mentions = sorted(pinged)


def channel_size_limit(state: FakeState, channel: FakeChannel) -> int:
    guild = state.guild_of(channel)
    return guild.filesize_limit if guild is not None else DEFAULT_FILESIZE_LIMIT
