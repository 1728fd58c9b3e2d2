"""/characters: save a character once (its image uploaded to Scenario once), list, rename and delete them."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.attachments import check_declared_size
from bot.library import texts
from bot.library.models import NAME_MAX_LENGTH
from bot.library.pictures import MAX_TILES, character_sheet, make_thumbnail
from cogs._autocomplete import character_choices
from cogs._common import CONTEXTS, INSTALLS, may_manage_server
from cogs._uploads import upload_attachment

if TYPE_CHECKING:
    from bot.app import ScenarioBot

NONE = discord.AllowedMentions.none()
LIST_TEXT_LIMIT = 1900


@app_commands.allowed_installs(**INSTALLS)
@app_commands.allowed_contexts(**CONTEXTS)
class Characters(commands.GroupCog, group_name="characters", group_description="Your saved characters"):
    """Characters saved once and reused by name with `/character character:<name>`."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="save", description="Save a character from an image, to reuse it by name")
    @app_commands.describe(
        name="The name to call it by, e.g. Luna",
        image="An image of the character (PNG, JPEG or WebP)",
        shared="Share it with everyone in this server (needs Manage Server)",
    )
    async def save(
        self,
        interaction: discord.Interaction[ScenarioBot],
        name: app_commands.Range[str, 1, NAME_MAX_LENGTH],
        image: discord.Attachment,
        shared: bool = False,
    ) -> None:
        """Check the name and the file first, then upload once and keep the asset id."""
        user, guild = interaction.user.id, interaction.guild_id
        may_manage = may_manage_server(interaction)
        library = self.bot.library
        name = await library.check_new_character(user, guild, name, shared=shared, may_manage=may_manage)
        check_declared_size(image.filename, image.size, self.bot.settings.max_attachment_bytes)
        await interaction.response.defer(ephemeral=True, thinking=True)
        uploaded = await upload_attachment(self.bot, image)
        thumbnail = await asyncio.to_thread(make_thumbnail, uploaded.image.data, image.filename)
        saved = await library.save_character(
            user, guild, name, uploaded.asset_id, shared=shared, may_manage=may_manage, thumbnail=thumbnail
        )
        await interaction.followup.send(texts.saved_character(saved.name, saved.shared), ephemeral=True,
                                        allowed_mentions=NONE)  # fmt: skip

    @app_commands.command(name="list", description="Your saved characters and this server's shared ones")
    async def list_(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        items = await self.bot.library.characters(interaction.user.id, interaction.guild_id, thumbnails=True)
        if not items:
            await interaction.followup.send(texts.EMPTY_LIBRARY, ephemeral=True, allowed_mentions=NONE)
            return
        lines = []
        for item in items:
            whose = "yours" if item.owner_id == interaction.user.id else "the server's"
            lines.append(
                f"• **{discord.utils.escape_markdown(item.name)}** — {whose}" + (", shared" if item.shared else "")
            )
        text = "\n".join(lines)
        if len(text) > LIST_TEXT_LIMIT:
            text = text[: text.rfind("\n", 0, LIST_TEXT_LIMIT)] + "\n…"
        sheet = await asyncio.to_thread(character_sheet, [(item.name, item.thumbnail) for item in items])
        embed = discord.Embed(title="Saved characters", colour=discord.Colour.blurple())
        embed.set_image(url="attachment://characters.png")
        if len(items) > MAX_TILES:
            embed.set_footer(text=f"The picture shows the first {MAX_TILES}.")
        await interaction.followup.send(
            text, embed=embed, file=discord.File(io.BytesIO(sheet), "characters.png"), ephemeral=True,
            allowed_mentions=NONE,
        )  # fmt: skip

    @app_commands.command(name="rename", description="Rename one of your saved characters")
    @app_commands.describe(name="The character to rename", new_name="Its new name")
    async def rename(
        self,
        interaction: discord.Interaction[ScenarioBot],
        name: str,
        new_name: app_commands.Range[str, 1, NAME_MAX_LENGTH],
    ) -> None:
        before, after = await self.bot.library.rename_character(
            interaction.user.id, interaction.guild_id, name, new_name, may_manage=may_manage_server(interaction)
        )
        await interaction.response.send_message(texts.renamed(before.name, after.name), ephemeral=True,
                                                allowed_mentions=NONE)  # fmt: skip

    @app_commands.command(name="delete", description="Delete one of your saved characters")
    @app_commands.describe(name="The character to delete")
    async def delete(self, interaction: discord.Interaction[ScenarioBot], name: str) -> None:
        deleted = await self.bot.library.delete_character(
            interaction.user.id, interaction.guild_id, name, may_manage=may_manage_server(interaction)
        )
        await interaction.response.send_message(texts.deleted("character", deleted.name), ephemeral=True,
                                                allowed_mentions=NONE)  # fmt: skip

    @rename.autocomplete("name")
    @delete.autocomplete("name")
    async def _names(
        self, interaction: discord.Interaction[ScenarioBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await character_choices(interaction, current)


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Characters(bot))
