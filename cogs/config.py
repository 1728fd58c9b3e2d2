"""/config: a server's own settings — defaults, channels, limits, blocked words, NSFW policy, audit channel.

Members need Manage Server (the default permission Discord enforces, and checked again here, since the settings
govern what the server spends). Every change is stored at once and read by the next request, in every process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidInputError, NotAllowedError
from bot.jobs import texts
from bot.jobs.budgets import SERVER
from bot.servers import (
    MAX_ALLOWED_CHANNELS,
    MAX_BLOCKED_TERMS,
    NsfwPolicy,
    ServerDefaults,
    ServerSettings,
    is_pattern,
    normalize,
)
from cogs._common import choices, pick
from cogs.imagine import SIZES, SPEED_NAMES
from cogs.spending import budget_or_default

if TYPE_CHECKING:
    from bot.app import ScenarioBot

NSFW_NAMES = {
    NsfwPolicy.SPOILER.value: "Spoiler — post labelled images as spoilers (default)",
    NsfwPolicy.AGE_RESTRICTED_ONLY.value: "Age-restricted only — elsewhere, DM them to the requester",
    NsfwPolicy.BLOCK.value: "Block — never post labelled images",
}
NSFW_EFFECTS = {
    NsfwPolicy.SPOILER: "images Scenario labels NSFW are posted as spoilers",
    NsfwPolicy.AGE_RESTRICTED_ONLY: "images Scenario labels NSFW are posted only in age-restricted channels; "
    "elsewhere the requester gets them by DM, with a note in the channel",
    NsfwPolicy.BLOCK: "images Scenario labels NSFW are not posted; the requester is told",
}
MANAGE_SERVER = "Only members with the Manage Server permission can change this server's settings."
MAX_QUEUED_LIMIT = 100


def describe(settings: ServerSettings, *, queued_default: int, budgets: Sequence[str] = ()) -> str:
    """`/config show`: every setting of the server and what it does (`budgets`: the `/budget` lines)."""
    defaults = settings.defaults.as_options()
    shown_defaults = ", ".join(f"{name} = {_value(value)}" for name, value in defaults.items()) or "none"
    channels = ", ".join(f"<#{cid}>" for cid in settings.allowed_channels)
    words = len(settings.blocked_words)
    count = settings.max_count if settings.max_count is not None else "4 (the model's limit)"
    queued = (
        f"{settings.max_queued_per_user} in this server"
        if settings.max_queued_per_user is not None
        else f"{queued_default} (the bot's limit)"
    )
    lines = [
        "**Server settings** (`/config`)",
        f"🎛️ Defaults: {shown_defaults} — used when the requester leaves the option out (the model's own otherwise)",
        f"📍 Channels: {channels + ' (and their threads) only' if channels else 'every channel'}",
        f"🔢 Images per request: at most {count}",
        f"⏳ Waiting jobs per person: {queued}",
        f"🚫 Blocked words: {words} term{'s' if words != 1 else ''}"
        + (" — a matching prompt is refused privately, nothing is sent" if words else ""),
        f"🔞 NSFW: `{settings.nsfw_policy.value}` — {NSFW_EFFECTS[settings.nsfw_policy]}",
        "📝 Audit channel: "
        + (f"<#{settings.audit_channel_id}> — a line per finished job" if settings.audit_channel_id else "none"),
        *budgets,
    ]
    return "\n".join(lines)[:2000]


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
@app_commands.allowed_installs(guilds=True, users=False)
class Config(commands.GroupCog, group_name="config", group_description="This server's settings for the bot"):
    """The `/config` group: guild-only, Manage Server by default."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[ScenarioBot]) -> bool:  # type: ignore[override]
        if interaction.guild_id is None:
            raise NotAllowedError("`/config` works in a server only.")
        if not interaction.permissions.manage_guild:
            raise NotAllowedError(MANAGE_SERVER)
        return True

    async def _load(self, interaction: discord.Interaction[ScenarioBot]) -> ServerSettings:
        assert interaction.guild_id is not None
        return await self.bot.store.server_settings(interaction.guild_id)

    async def _save(self, interaction: discord.Interaction[ScenarioBot], settings: ServerSettings, done: str) -> None:
        assert interaction.guild_id is not None
        await self.bot.store.save_server_settings(interaction.guild_id, settings)
        await _reply(interaction, done)

    @app_commands.command(name="show", description="Every setting of this server and what it does")
    async def show(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        settings = await self._load(interaction)
        budgets = await self._budget_lines(settings_guild(interaction))
        await _reply(
            interaction, describe(settings, queued_default=self.bot.settings.max_queued_per_user, budgets=budgets)
        )

    async def _budget_lines(self, guild_id: int) -> list[str]:
        """This server's spending rules (set with `/budget`), read from the store as they are now."""
        config = self.bot.engine.config
        overrides = await self.bot.store.budget_overrides(guild_id)
        blocked = await self.bot.store.blocked_users(guild_id)
        members = sum(1 for user in overrides if user != SERVER)
        confirm = "never" if config.confirm_above_cu is None else texts.cu(config.confirm_above_cu)
        return [
            f"💰 Budget per member a UTC day: {budget_or_default(None, config.budget_user_daily_cu)}"
            + (f", with {members} member override{'s' if members != 1 else ''}" if members else "")
            + f" · this server a month: {budget_or_default(overrides.get(SERVER), config.budget_server_monthly_cu)}"
            + f" · asks to confirm above: {confirm} (`/budget` changes them)",
            f"⛔ Blocked from generating here: {len(blocked) or 'nobody'}",
        ]

    @app_commands.command(name="defaults", description="This server's defaults for /imagine (and /character)")
    @app_commands.describe(
        speed="Default speed (a requester's own choice always wins)",
        size="Default /imagine size",
        count="Default number of /imagine images, 1–4",
        expand_prompt="Default for /imagine's prompt expansion",
        reset="Forget every default first (the models' own defaults apply again)",
    )
    @app_commands.choices(speed=choices(SPEED_NAMES), size=choices(SIZES))
    async def defaults(
        self,
        interaction: discord.Interaction[ScenarioBot],
        speed: str | None = None,
        size: str | None = None,
        count: app_commands.Range[int, 1, 4] | None = None,
        expand_prompt: bool | None = None,
        reset: bool = False,
    ) -> None:
        settings = await self._load(interaction)
        given = {
            "speed": pick("speed", speed, {key: key for key in SPEED_NAMES}),
            "size": pick("size", size, {key: key for key in SIZES}),
            "count": count,
            "expand_prompt": expand_prompt,
        }
        if count is not None and not 1 <= count <= 4:
            raise InvalidInputError(f"`count` must be between 1 and 4 — `{count}` is not.")
        if not reset and all(value is None for value in given.values()):
            raise InvalidInputError("Give at least one default to set (or `reset: True` to forget them all).")
        base = {} if reset else settings.defaults.as_options()
        merged = {**base, **{name: value for name, value in given.items() if value is not None}}
        if settings.max_count is not None and merged.get("count", 0) > settings.max_count:
            raise InvalidInputError(f"This server allows at most {settings.max_count} images per request.")
        settings.defaults = ServerDefaults(**merged)
        shown = ", ".join(f"{name} = {_value(value)}" for name, value in merged.items()) or "none"
        await self._save(interaction, settings, f"✅ Defaults for this server: {shown}.")

    @app_commands.command(name="channels", description="Limit the bot's commands to some channels")
    @app_commands.describe(action="Add or remove a channel, or clear the list", channel="The channel")
    async def channels(
        self,
        interaction: discord.Interaction[ScenarioBot],
        action: Literal["add", "remove", "clear"],
        channel: discord.TextChannel | discord.VoiceChannel | None = None,
    ) -> None:
        settings = await self._load(interaction)
        if action == "clear":
            settings.allowed_channels = []
        else:
            if channel is None:
                raise InvalidInputError(f"Name the `channel` to {action}.")
            if action == "add":
                if channel.id not in settings.allowed_channels:
                    if len(settings.allowed_channels) >= MAX_ALLOWED_CHANNELS:
                        raise InvalidInputError(f"At most {MAX_ALLOWED_CHANNELS} channels can be listed.")
                    settings.allowed_channels.append(channel.id)
            elif channel.id in settings.allowed_channels:
                settings.allowed_channels.remove(channel.id)
            else:
                raise InvalidInputError(f"{channel.mention} is not in the list.")
        listed = ", ".join(f"<#{cid}>" for cid in settings.allowed_channels)
        done = (
            f"✅ The commands now answer only in {listed} (and their threads)."
            if listed
            else "✅ The commands answer in every channel."
        )
        await self._save(interaction, settings, done)

    @app_commands.command(name="limits", description="Images per request, and jobs waiting per person")
    @app_commands.describe(
        max_count="Most images per request, 1–4 (0: no server limit)",
        max_queued_per_user="Most jobs one person may have waiting in this server (0: the bot's limit)",
    )
    async def limits(
        self,
        interaction: discord.Interaction[ScenarioBot],
        max_count: app_commands.Range[int, 0, 4] | None = None,
        max_queued_per_user: app_commands.Range[int, 0, MAX_QUEUED_LIMIT] | None = None,
    ) -> None:
        if max_count is None and max_queued_per_user is None:
            raise InvalidInputError("Give `max_count`, `max_queued_per_user`, or both.")
        settings = await self._load(interaction)
        if max_count is not None:
            if not 0 <= max_count <= 4:
                raise InvalidInputError(f"`max_count` must be between 0 and 4 — `{max_count}` is not.")
            settings.max_count = max_count or None
            if settings.max_count is not None and (settings.defaults.count or 0) > settings.max_count:
                settings.defaults.count = settings.max_count
        if max_queued_per_user is not None:
            if not 0 <= max_queued_per_user <= MAX_QUEUED_LIMIT:
                raise InvalidInputError(f"`max_queued_per_user` must be between 0 and {MAX_QUEUED_LIMIT}.")
            settings.max_queued_per_user = max_queued_per_user or None
        count = settings.max_count if settings.max_count is not None else "4 (the model's limit)"
        queued = settings.max_queued_per_user or f"{self.bot.settings.max_queued_per_user} (the bot's limit)"
        await self._save(
            interaction, settings, f"✅ At most {count} images per request; {queued} waiting jobs per person."
        )

    @app_commands.command(name="blocked_words", description="Words or /regular expressions/ a prompt may not use")
    @app_commands.describe(
        action="Add or remove a term, or list them (privately)",
        word="A whole word or phrase, or a regular expression between slashes like /b[a4]d/ (case-insensitive)",
    )
    async def blocked_words(
        self,
        interaction: discord.Interaction[ScenarioBot],
        action: Literal["add", "remove", "list"],
        word: app_commands.Range[str, 1, 250] | None = None,
    ) -> None:
        settings = await self._load(interaction)
        if action == "list":
            terms = settings.blocked_words
            listed = "\n".join(f"• `{term}`" for term in terms) if terms else "No blocked words."
            await _reply(interaction, f"**Blocked words** ({len(terms)})\n{listed}"[:2000])
            return
        if word is None:
            raise InvalidInputError(f"Give the `word` to {action}.")
        term = normalize(word)
        kind = "regular expression" if is_pattern(term) else "word"
        if action == "add":
            if term in settings.blocked_words:
                raise InvalidInputError(f"`{term}` is already blocked.")
            if len(settings.blocked_words) >= MAX_BLOCKED_TERMS:
                raise InvalidInputError(f"At most {MAX_BLOCKED_TERMS} terms can be blocked.")
            settings.blocked_words.append(term)
            done = f"✅ Blocked the {kind} `{term}`: prompts containing it are refused."
        else:
            if term not in settings.blocked_words:
                raise InvalidInputError(f"`{term}` is not in the list.")
            settings.blocked_words.remove(term)
            done = f"✅ The {kind} `{term}` is no longer blocked."
        await self._save(interaction, settings, done)

    @app_commands.command(name="nsfw", description="What happens to images Scenario labels NSFW")
    @app_commands.describe(policy="Spoilers (default), only in age-restricted channels, or never posted")
    @app_commands.choices(policy=choices(NSFW_NAMES))
    async def nsfw(self, interaction: discord.Interaction[ScenarioBot], policy: str) -> None:
        chosen = NsfwPolicy(pick("policy", policy, {key: key for key in NSFW_NAMES}))
        settings = await self._load(interaction)
        settings.nsfw_policy = chosen
        await self._save(interaction, settings, f"✅ NSFW policy `{chosen.value}`: {NSFW_EFFECTS[chosen]}.")

    @app_commands.command(name="audit_channel", description="Where a line about each finished job goes (or none)")
    @app_commands.describe(channel="The channel for the audit lines; leave empty to turn them off")
    async def audit_channel(
        self, interaction: discord.Interaction[ScenarioBot], channel: discord.TextChannel | None = None
    ) -> None:
        settings = await self._load(interaction)
        settings.audit_channel_id = channel.id if channel is not None else None
        done = (
            f"✅ A line about each finished job (who, command, prompt, cost, outcome, link) goes to {channel.mention}."
            if channel is not None
            else "✅ No audit channel: finished jobs are not logged in Discord."
        )
        await self._save(interaction, settings, done)


def settings_guild(interaction: discord.Interaction[ScenarioBot]) -> int:
    assert interaction.guild_id is not None  # interaction_check refuses DMs
    return interaction.guild_id


async def _reply(interaction: discord.Interaction[ScenarioBot], text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Config(bot))
