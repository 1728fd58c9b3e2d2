"""JSON objects in the shapes Discord sends: users, members, servers, channels, messages, READY."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from fakes.discord._constants import CDN_URL_TTL, PREMIUM_TIER_BY_LIMIT
from fakes.discord._models import FakeAttachment, FakeChannel, FakeGuild, FakeMessage, FakeUser
from fakes.discord._state import FakeState


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="microseconds")


def user(u: FakeUser) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(u.id),
        "username": u.name,
        "discriminator": "0",
        "avatar": None,
        "global_name": u.global_name if not u.bot else None,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "collectibles": None,
        "primary_guild": None,
    }
    if u.bot:
        data["bot"] = True
    return data


def me(state: FakeState) -> dict[str, Any]:
    """GET /users/@me for the bot: the public user plus the private fields."""
    data = user(state.users[state.bot_user_id])
    data.update({"verified": True, "mfa_enabled": False, "locale": "en-US", "email": None, "premium_type": 0})
    return data


def member(
    state: FakeState,
    guild: FakeGuild,
    user_id: int,
    *,
    permissions: int | None = None,
    with_user: bool = True,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": [str(r) for r in guild.member_roles.get(user_id, [])],
        "nick": None,
        "avatar": None,
        "banner": None,
        "joined_at": iso(guild.joined_at),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }
    if with_user:
        data["user"] = user(state.user(user_id))
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def channel(state: FakeState, ch: FakeChannel, *, permissions: int | None = None) -> dict[str, Any]:
    last = str(ch.last_message_id) if ch.last_message_id else None
    if ch.type == 1:
        recipient = state.user(ch.recipient_id or 0)
        return {"id": str(ch.id), "type": 1, "flags": 0, "last_message_id": last, "recipients": [user(recipient)]}
    if ch.is_thread:
        return thread(state, ch, permissions=permissions)
    data: dict[str, Any] = {
        "id": str(ch.id),
        "type": ch.type,
        "guild_id": str(ch.guild_id),
        "name": ch.name,
        "position": ch.position,
        "flags": 0,
        "parent_id": None,
        "topic": None,
        "nsfw": ch.nsfw,
        "rate_limit_per_user": 0,
        "last_message_id": last,
        "permission_overwrites": [],
    }
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def thread(state: FakeState, ch: FakeChannel, *, permissions: int | None = None) -> dict[str, Any]:
    """A thread channel object (GET /channels, THREAD_CREATE/UPDATE, GUILD_CREATE's `threads`)."""
    data: dict[str, Any] = {
        "id": str(ch.id),
        "type": ch.type,
        "guild_id": str(ch.guild_id),
        "parent_id": str(ch.parent_id),
        "owner_id": str(ch.owner_id),
        "name": ch.name,
        "flags": 0,
        "last_message_id": str(ch.last_message_id) if ch.last_message_id else None,
        "rate_limit_per_user": 0,
        "message_count": ch.message_count,
        "member_count": 1,
        "total_message_sent": ch.message_count,
        "thread_metadata": {
            "archived": ch.archived,
            "auto_archive_duration": ch.auto_archive_duration,
            "archive_timestamp": iso(ch.archive_timestamp or ch.created_at),
            "locked": ch.locked,
            "create_timestamp": iso(ch.created_at),
            **({"invitable": True} if ch.type == 12 else {}),
        },
    }
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def guild_create(state: FakeState, guild: FakeGuild) -> dict[str, Any]:
    """GUILD_CREATE as a bot without the members intent sees it: its own member only."""
    first_channel = str(guild.channel_ids[0]) if guild.channel_ids else None
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": guild.roles,
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": first_channel,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_members": 500000,
        "max_presences": None,
        "vanity_url_code": None,
        "premium_tier": PREMIUM_TIER_BY_LIMIT.get(guild.filesize_limit, 0),
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "nsfw": False,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "incidents_data": None,
        "joined_at": iso(guild.joined_at),
        "large": False,
        "unavailable": False,
        "member_count": len(guild.member_ids),
        "voice_states": [],
        "presences": [],
        "threads": [thread(state, t) for t in state.active_threads(guild.id)],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "lazy": True,
        "members": [member(state, guild, state.bot_user_id)],
        "channels": [channel(state, state.channels[c]) for c in guild.channel_ids],
    }


def application(state: FakeState) -> dict[str, Any]:
    """GET /oauth2/applications/@me."""
    owner = state.users[next(iter(state.guilds.values())).owner_id]
    return {
        "id": str(state.application_id),
        "name": state.users[state.bot_user_id].name,
        "icon": None,
        "description": "A fake application served by the fake Discord.",
        "type": None,
        "summary": "",
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": 0,
        "flags_new": "0",
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "owner": user(owner),
        "team": None,
        "approximate_guild_count": sum(g.bot_member for g in state.guilds.values()),
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "eligible_oauth2_scopes": [],
        "tags": [],
        "integration_types_config": {"0": {}, "1": {}},
        "bot": user(state.users[state.bot_user_id]),
    }


def sign_cdn_path(state: FakeState, path: str, issued: float) -> str:
    """The `ex`/`is`/`hm` query Discord's CDN uses to expire attachment URLs."""
    ex, is_ = f"{int(issued + CDN_URL_TTL):x}", f"{int(issued):x}"
    digest = hmac.new(state.cdn_secret, f"{path}|{ex}|{is_}".encode(), hashlib.sha256).hexdigest()
    return f"ex={ex}&is={is_}&hm={digest}&"


def cdn_signature_valid(state: FakeState, path: str, ex: str, is_: str, hm: str) -> bool:
    digest = hmac.new(state.cdn_secret, f"{path}|{ex}|{is_}".encode(), hashlib.sha256).hexdigest()
    try:
        expires = int(ex, 16)
    except ValueError:
        return False
    return hmac.compare_digest(digest, hm) and state.clock() < expires


def attachment(state: FakeState, base_url: str, att: FakeAttachment) -> dict[str, Any]:
    path = f"/attachments/{att.channel_id}/{att.id}/{quote(att.filename)}"
    query = sign_cdn_path(state, path, state.clock())
    att.url = f"{base_url}{path}?{query}"
    att.proxy_url = f"{base_url}/media{path}?{query}"
    data: dict[str, Any] = {
        "id": str(att.id),
        "filename": att.filename,
        "size": att.size,
        "url": att.url,
        "proxy_url": att.proxy_url,
        "flags": 0,
    }
    if att.content_type:
        data["content_type"] = att.content_type
    if att.width is not None:
        data["width"], data["height"] = att.width, att.height
    if att.description is not None:
        data["description"] = att.description
    if att.ephemeral:
        data["ephemeral"] = True
    return data


def interaction_owners(state: FakeState, interaction_id: int | None) -> dict[str, str]:
    ix = state.interactions.get(interaction_id or 0)
    return dict(ix.payload.get("authorizing_integration_owners", {})) if ix is not None else {}


def interaction_metadata(state: FakeState, message: FakeMessage) -> dict[str, Any] | None:
    ix = state.interactions.get(message.interaction_id or 0)
    if ix is None:
        return None
    data: dict[str, Any] = {
        "id": str(ix.id),
        "type": ix.type,
        "user": user(state.user(ix.user_id)),
        "authorizing_integration_owners": interaction_owners(state, ix.id),
    }
    if ix.original is not None and ix.original.id != message.id:
        data["original_response_message_id"] = str(ix.original.id)
    if ix.type == 2:
        data["name"] = ix.payload["data"]["name"]
        data["command_type"] = ix.payload["data"].get("type", 1)
    elif ix.type == 3:
        data["interacted_message_id"] = str(ix.message_id)
    elif ix.type == 5:
        opener = _modal_opener(state, ix)
        if opener is not None:
            data["triggering_interaction_metadata"] = {
                "id": str(opener.id),
                "type": opener.type,
                "user": user(state.user(opener.user_id)),
                "authorizing_integration_owners": interaction_owners(state, opener.id),
                **({"interacted_message_id": str(opener.message_id)} if opener.type == 3 else {}),
            }
    return data


def _modal_opener(state: FakeState, ix: Any) -> Any:
    entry = state.modals.get(ix.payload["data"].get("custom_id", ""))
    return entry[0] if entry else None


def message(state: FakeState, base_url: str, msg: FakeMessage, *, gateway: bool = False) -> dict[str, Any]:
    """A message object as REST returns it; `gateway=True` adds what MESSAGE_CREATE carries."""
    attachments = [attachment(state, base_url, a) for a in msg.attachments]  # signs fresh CDN URLs
    by_name = {a.filename: a for a in msg.attachments}
    data: dict[str, Any] = {
        "type": msg.type,
        "content": msg.content,
        "mentions": [user(state.user(u)) for u in msg.explicit_mentions],
        "mention_roles": [str(r) for r in msg.mention_roles],
        "attachments": attachments,
        "embeds": _embeds(by_name, msg.embeds),
        "timestamp": iso(msg.timestamp),
        "edited_timestamp": iso(msg.edited_timestamp),
        "flags": msg.flags,
        "components": _components(state, by_name, msg.components),
        "id": str(msg.id),
        "channel_id": str(msg.channel_id),
        "author": user(state.user(msg.author_id)),
        "pinned": False,
        "mention_everyone": msg.mention_everyone,
        "tts": msg.tts,
    }
    if msg.nonce is not None:
        data["nonce"] = msg.nonce
    if msg.webhook:
        data["webhook_id"] = str(state.application_id)
    if msg.interaction_id is not None:
        data["application_id"] = str(state.application_id)
        metadata = interaction_metadata(state, msg)
        if metadata is not None:
            data["interaction_metadata"] = metadata
    if msg.message_reference is not None:
        data["message_reference"] = msg.message_reference
    if gateway and msg.guild_id is not None:
        data["guild_id"] = str(msg.guild_id)
        guild = state.guilds.get(msg.guild_id)
        if guild is not None and msg.author_id in guild.member_ids:
            data["member"] = member(state, guild, msg.author_id, with_user=False)
    return data


def _media(state: FakeState, attachments: dict[str, FakeAttachment], media: dict[str, Any]) -> dict[str, Any]:
    """An unfurled media item: `attachment://name` resolves to the uploaded file, as on Discord."""
    url = media.get("url", "")
    att = attachments.get(url.removeprefix("attachment://")) if url.startswith("attachment://") else None
    if att is None:
        extra = {k: v for k, v in media.items() if k != "url"}
        return {"id": str(state.snowflake()), "url": url, "proxy_url": url, **extra}
    data: dict[str, Any] = {
        "id": str(att.id),
        "url": att.url,
        "proxy_url": att.proxy_url,
        "content_type": att.content_type,
        "attachment_id": str(att.id),
    }
    if att.width is not None:
        data["width"], data["height"] = att.width, att.height
    return data


def _components(
    state: FakeState, attachments: dict[str, FakeAttachment], components: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Components as Discord returns them: media resolved, file components named and sized."""

    def render(item: dict[str, Any]) -> dict[str, Any]:
        out = dict(item)
        kind = item.get("type")
        if isinstance(item.get("components"), list):
            out["components"] = [render(c) for c in item["components"]]
        if isinstance(item.get("accessory"), dict):
            out["accessory"] = render(item["accessory"])
        if kind == 11:  # thumbnail
            out["media"] = _media(state, attachments, item.get("media") or {})
            out.setdefault("description", None)
            out.setdefault("spoiler", False)
        elif kind == 12:  # media gallery
            out["items"] = [
                {"description": None, "spoiler": False, **entry, "media": _media(state, attachments, entry["media"])}
                for entry in item.get("items") or []
            ]
        elif kind == 13:  # file
            media = _media(state, attachments, item.get("file") or {})
            att = state.attachments.get(int(media.get("attachment_id", 0)))
            out.update({"file": media, "name": att.filename if att else None, "size": att.size if att else None})
            out.setdefault("spoiler", False)
        return out

    if not any(_has_media(c) for c in components):
        return components
    return [render(c) for c in components]


def _has_media(item: dict[str, Any]) -> bool:
    if item.get("type") in (11, 12, 13):
        return True
    children = list(item.get("components") or [])
    if isinstance(item.get("accessory"), dict):
        children.append(item["accessory"])
    return any(_has_media(c) for c in children if isinstance(c, dict))


def _embeds(attachments: dict[str, FakeAttachment], embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`attachment://name` in an embed's image or thumbnail points at the uploaded file, as on Discord."""
    rendered = []
    for embed in embeds:
        out = dict(embed)
        for key in ("image", "thumbnail"):
            url = (embed.get(key) or {}).get("url", "")
            att = attachments.get(url.removeprefix("attachment://")) if url.startswith("attachment://") else None
            if att is not None:
                out[key] = {
                    "url": att.url,
                    "proxy_url": att.proxy_url,
                    "width": att.width,
                    "height": att.height,
                    "content_type": att.content_type,
                    "flags": 0,
                }
        rendered.append(out)
    return rendered


def ready(
    state: FakeState, session_id: str, resume_url: str, guilds: list[FakeGuild], shard: list[int] | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "v": 10,
        "user": me(state),
        "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
        "session_id": session_id,
        "resume_gateway_url": resume_url,
        "session_type": "normal",
        "application": {"id": str(state.application_id), "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
        "user_settings": {},
        "auth": {},
        "_trace": ['["fake-discord",{"micros":0}]'],
    }
    if shard is not None:
        data["shard"] = shard
    return data
