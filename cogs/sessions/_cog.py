"""The /session commands and the listeners that turn a session thread's messages and forms into ideas."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidInputError, NotAllowedError, UserFacingError
from bot.jobs.budgets import ConfirmationNeeded
from bot.jobs.models import JobRecord
from bot.sessions import SessionDefaults, SessionRecord
from bot.sessions import texts as session_texts
from bot.sessions.admission import check_open
from bot.tree import UNEXPECTED, message_for
from cogs import character, imagine
from cogs._common import check_range, choices, pick, start_job
from cogs.sessions import _ideas, _posts
from cogs.sessions._items import AddIdeaButton, VoteButton, answer_errors, open_session

if TYPE_CHECKING:
    from bot.app import ScenarioBot

log = logging.getLogger(__name__)

TITLE_MAX = 100  # a thread's name
STYLE_MAX = 500
SPEED_NAMES = {"turbo": "Turbo — fastest", "balanced": "Balanced (default)", "quality": "Quality — sharpest"}
IDEA_REACTION = "💡"
NOT_A_SESSION = "Run this inside a brainstorm session's thread (`/session start` opens one)."
SERVERS_ONLY = (
    "Sessions live in a server: the bot opens a thread there for everyone's ideas. Run `/session start` in a "
    "server channel where the bot is a member."
)
BOT_ABSENT = (
    "The bot is not a member of this server (you are using it as a user-installed app), so it cannot open or post "
    "in a thread here. Ask a server admin to add the bot to the server, then run `/session start` again."
)


class Sessions(commands.Cog):
    """Brainstorm sessions: `/session start|sheet|end`, the Add idea form, ideas as messages, votes."""

    session = app_commands.Group(
        name="session",
        description="Brainstorm sessions: a thread where ideas become images, votes and a contact sheet",
        allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True),
    )

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AddIdeaButton, VoteButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AddIdeaButton, VoteButton)

    # -- /session start ------------------------------------------------------------------------------------
    @session.command(name="start", description="Open a thread where everyone's ideas become numbered images")
    @app_commands.describe(
        title="The session's name (also the thread's)",
        size="Image size and shape of every idea (default Square HD)",
        speed="Quality versus speed of every idea (default Balanced)",
        count="Images per idea, 1–4 (default 1); each one adds to the cost",
        style="Text added to every prompt of the session, e.g. `flat vector art, pastel colours`",
        budget_cu="The most creative units the whole session may spend (default: no cap of its own)",
    )
    @app_commands.choices(size=choices(imagine.SIZES), speed=choices(SPEED_NAMES))
    async def start(
        self,
        interaction: discord.Interaction[ScenarioBot],
        title: app_commands.Range[str, 1, TITLE_MAX],
        size: str | None = None,
        speed: str | None = None,
        count: app_commands.Range[int, 1, 4] | None = None,
        style: app_commands.Range[str, 1, STYLE_MAX] | None = None,
        budget_cu: app_commands.Range[float, 1, 1_000_000] | None = None,
    ) -> None:
        """Check where we are, open the thread, remember the session, post its header."""
        if interaction.guild_id is None:
            raise NotAllowedError(SERVERS_ONLY)
        guild = self.bot.get_guild(interaction.guild_id)
        if guild is None:
            raise NotAllowedError(BOT_ABSENT)
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel):
            raise InvalidInputError("Run `/session start` in a text channel (not in a thread or a voice channel).")
        title = title.strip()
        if not title or len(title) > TITLE_MAX:
            raise InvalidInputError(f"The title must be 1 to {TITLE_MAX} characters long.")
        defaults = SessionDefaults(
            size=pick("size", size, {key: key for key in imagine.SIZES}),
            speed=pick("speed", speed, {key: key for key in SPEED_NAMES}),
            count=check_range("count", count, 1, 4),
            style=style.strip() if style and style.strip() else None,
        )
        if budget_cu is not None and not 1 <= budget_cu <= 1_000_000:
            raise InvalidInputError(f"`budget_cu` must be between 1 and 1000000 — `{budget_cu}` is not.")
        await interaction.response.defer(thinking=True)
        try:
            thread = await channel.create_thread(
                name=title, type=discord.ChannelType.public_thread, auto_archive_duration=1440
            )
        except discord.Forbidden:
            raise NotAllowedError(
                "The bot may not open threads in this channel: it needs **Create Public Threads** and **Send "
                "Messages in Threads** here (see the README's invite link)."
            ) from None
        session = SessionRecord(
            thread_id=thread.id,
            guild_id=guild.id,
            channel_id=channel.id,
            title=title,
            starter_id=interaction.user.id,
            starter_name=interaction.user.display_name,
            defaults=defaults,
            budget_cu=budget_cu,
        )
        header = await thread.send(
            embed=self._header(session),
            view=_posts.header_view(thread.id),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await self.bot.store.add_session(session.model_copy(update={"header_message_id": header.id}))
        log.info("Session %s opened in server %s", thread.id, guild.id)
        await interaction.edit_original_response(
            content=f"🧠 <@{interaction.user.id}> started the brainstorm session "
            f"**{discord.utils.escape_markdown(title)}** — add your ideas in {thread.mention}",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    # -- /session sheet ------------------------------------------------------------------------------------
    @session.command(name="sheet", description="Post a contact sheet of every result so far, with an index")
    async def sheet(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        """Every result as a numbered thumbnail (several images when many), and the index."""
        session = await self._session_here(interaction)
        await interaction.response.defer(thinking=True)
        messages, *_ = await _posts.sheet_messages(self.bot, session)
        await self._post_through(interaction, messages)

    # -- /session end --------------------------------------------------------------------------------------
    @session.command(name="end", description="End the session: final sheet, top 3 in the channel, thread archived")
    async def end(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        """For the starter or someone with Manage Threads: the final sheet, the summary, then archive."""
        session = await self._session_here(interaction)
        manager = interaction.guild_id is not None and interaction.permissions.manage_threads
        if interaction.user.id != session.starter_id and not manager:
            raise NotAllowedError(
                "Only the person who started this session, or someone with Manage Threads, can end it."
            )
        ended = await self.bot.store.end_session(session.thread_id, discord.utils.utcnow())
        if ended is None:
            raise UserFacingError(session_texts.ENDED)
        await interaction.response.defer(thinking=True)
        thread = interaction.channel
        try:
            messages, results, votes, images = await _posts.sheet_messages(self.bot, ended, final=True)
            await self._post_through(interaction, messages)
            await self._close_header(ended, thread)  # type: ignore[arg-type]
            await self._post_summary(ended, results, votes, images)
        finally:  # whatever failed on the way (and was answered privately), the session's thread is closed
            if isinstance(thread, discord.Thread):
                try:
                    await thread.edit(archived=True)
                except discord.HTTPException as exc:
                    log.warning("Could not archive the thread of session %s: %s", ended.thread_id, exc)
        log.info("Session %s ended with %d result(s)", ended.thread_id, len(results))

    async def _post_summary(
        self, session: SessionRecord, results: list[JobRecord], votes: dict[str, int], images: dict[str, bytes]
    ) -> None:
        """The top 3 with their images and a link to the thread, in the channel the session was started in."""
        thread_url = f"https://discord.com/channels/{session.guild_id}/{session.thread_id}"
        out = _posts.summary_message(session, results, votes, images, thread_url)
        try:
            parent = self.bot.get_channel(session.channel_id) or await self.bot.fetch_channel(session.channel_id)
            await parent.send(  # type: ignore[union-attr]
                content=out.content, embeds=out.embeds, files=out.files, allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as exc:
            log.warning("Could not post the summary of session %s in its channel: %s", session.thread_id, exc)

    def _header(self, session: SessionRecord) -> discord.Embed:
        bot_id = self.bot.user.id if self.bot.user else 0
        return _posts.header(session, content_intent=self.bot.settings.message_content_intent, bot_id=bot_id)

    async def _close_header(self, session: SessionRecord, thread: discord.abc.Messageable) -> None:
        """The header says the session ended, and its Add idea button is disabled."""
        if session.header_message_id is None or not isinstance(thread, discord.Thread):
            return
        try:
            await thread.get_partial_message(session.header_message_id).edit(
                embed=self._header(session), view=_posts.header_view(session.thread_id, ended=True)
            )
        except discord.HTTPException as exc:
            log.info("Could not mark the header of session %s ended: %s", session.thread_id, exc)

    async def _session_here(self, interaction: discord.Interaction[ScenarioBot]) -> SessionRecord:
        session = await self.bot.store.get_session(interaction.channel_id) if interaction.channel_id else None
        if session is None:
            raise NotAllowedError(NOT_A_SESSION)
        return session

    async def _post_through(
        self, interaction: discord.Interaction[ScenarioBot], messages: list[_posts.Outgoing]
    ) -> None:
        """The first message replaces the "thinking…" reply; the rest follow it."""
        none = discord.AllowedMentions.none()
        first, *rest = messages
        await interaction.edit_original_response(
            content=first.content or None, embeds=first.embeds, attachments=first.files, allowed_mentions=none
        )
        for message in rest:
            await interaction.followup.send(
                content=message.content or discord.utils.MISSING,
                embeds=message.embeds or discord.utils.MISSING,
                files=message.files or discord.utils.MISSING,
                allowed_mentions=none,
            )

    # -- ideas from the form -------------------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
            return
        match = _ideas.FORM.match(str(interaction.data.get("custom_id", "")))
        if match is None:
            return
        try:
            await self._idea_from_form(interaction, int(match["thread"]))
        except Exception as exc:
            await answer_errors(interaction, exc)

    async def _idea_from_form(self, interaction: discord.Interaction[ScenarioBot], thread_id: int) -> None:
        session = await open_session(interaction, thread_id)
        prompt, reference = _ideas.submitted(dict(interaction.data or {}))
        _ideas.idea_inputs(prompt, session.defaults, None if reference is None else character.PLACEHOLDER_ASSET)
        self.bot.engine.check_capacity(interaction.user.id)
        await interaction.response.defer(thinking=True)
        command, model, body, uploaded = await _ideas.prepare(self.bot, session, prompt, reference)
        await start_job(interaction, command=command, model_id=model, inputs=body, uploaded=uploaded)

    # -- ideas as messages ---------------------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None or isinstance(message.channel, discord.TextChannel):
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        me = self.bot.user
        mentioned = me is not None and any(user.id == me.id for user in message.mentions)
        if not (self.bot.settings.message_content_intent or mentioned):
            return  # without the intent, only messages that mention the bot carry their text
        session = await self.bot.store.get_session(message.channel.id)
        if session is None:
            return
        try:
            await self._idea_from_message(message, session)
        except Exception as exc:
            await self._tell_privately(message, exc)
            if session.ended and isinstance(message.channel, discord.Thread):
                # The message reopened the ended session's thread (Discord unarchives on a post): close it again.
                with contextlib.suppress(discord.HTTPException):
                    await message.channel.edit(archived=True)

    async def _idea_from_message(self, message: discord.Message, session: SessionRecord) -> None:
        await check_open(self.bot.store, session)
        prompt = _ideas.message_prompt(message, self.bot.user.id if self.bot.user else 0)
        reference = _ideas.first_image(message)
        self.bot.engine.check_capacity(message.author.id)
        command, model, body, uploaded = await _ideas.prepare(self.bot, session, prompt, reference)
        job = _ideas.message_job(message, command, model, body, uploaded)
        try:
            await self.bot.engine.submit(job)
        except ConfirmationNeeded as waiting:
            # A price that needs Run: a message has no private place for the button; the form has.
            await self.bot.engine.cancel_confirmation(waiting.job.id, message.author.id)
            raise UserFacingError(
                f"This idea would cost about {waiting.job.estimate_cu or 0:g} CU, which needs your confirmation "
                "first: send it with the session's **Add idea** button, which asks you to Run it."
            ) from None
        with contextlib.suppress(discord.HTTPException):
            await message.add_reaction(IDEA_REACTION)  # taken: the result will come in the thread

    async def _tell_privately(self, message: discord.Message, error: Exception) -> None:
        """A message cannot get a private reply: the reason goes by DM (never a post in the thread)."""
        text = message_for(error)
        if text is None:
            log.error("Unhandled error with an idea posted as a message", exc_info=error)
            text = UNEXPECTED
        try:
            await message.author.send(
                f"About your idea in {message.channel.mention}: {text}",  # type: ignore[union-attr]
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as exc:
            log.info("Could not DM %s why their idea was refused: %s", message.author.id, exc)
