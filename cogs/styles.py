"""/styles: prompt templates saved once and reused by name with `style:` on /imagine and /character."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.library import texts
from bot.library.models import NAME_MAX_LENGTH, STYLE_TEXT_MAX_LENGTH
from cogs._autocomplete import style_choices
from cogs._common import CONTEXTS, INSTALLS, may_manage_server

if TYPE_CHECKING:
    from bot.app import ScenarioBot

NONE = discord.AllowedMentions.none()
EXAMPLE_PROMPT = "a cat"
LIST_TEXT_LIMIT = 1900


@app_commands.allowed_installs(**INSTALLS)
@app_commands.allowed_contexts(**CONTEXTS)
class Styles(commands.GroupCog, group_name="styles", group_description="Your saved styles (prompt templates)"):
    """Saved prompt templates: `{prompt}` marks where the prompt goes; without it the text is appended."""

    def __init__(self, bot: ScenarioBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="save", description="Save a prompt template to reuse with style: on /imagine")
    @app_commands.describe(
        name="The name to call it by, e.g. Noir",
        text="The template; {prompt} marks where your prompt goes (without it, the text is appended)",
        shared="Share it with everyone in this server (needs Manage Server)",
    )
    async def save(
        self,
        interaction: discord.Interaction[ScenarioBot],
        name: app_commands.Range[str, 1, NAME_MAX_LENGTH],
        text: app_commands.Range[str, 1, STYLE_TEXT_MAX_LENGTH],
        shared: bool = False,
    ) -> None:
        style = await self.bot.library.save_style(
            interaction.user.id, interaction.guild_id, name, text,
            shared=shared, may_manage=may_manage_server(interaction),
        )  # fmt: skip
        example = discord.utils.escape_markdown(style.apply(EXAMPLE_PROMPT))
        await interaction.response.send_message(texts.saved_style(style.name, style.shared, example), ephemeral=True,
                                                allowed_mentions=NONE)  # fmt: skip

    @app_commands.command(name="list", description="Your saved styles and this server's shared ones")
    async def list_(self, interaction: discord.Interaction[ScenarioBot]) -> None:
        items = await self.bot.library.styles(interaction.user.id, interaction.guild_id)
        if not items:
            await interaction.response.send_message(texts.EMPTY_STYLES, ephemeral=True, allowed_mentions=NONE)
            return
        lines = []
        for item in items:
            whose = "yours" if item.owner_id == interaction.user.id else "the server's"
            scope = whose + (", shared" if item.shared else "")
            lines.append(f"• **{discord.utils.escape_markdown(item.name)}** ({scope}): `{item.text.replace('`', 'ˋ')}`")
        text = "\n".join(lines)
        if len(text) > LIST_TEXT_LIMIT:
            text = text[: text.rfind("\n", 0, LIST_TEXT_LIMIT)] + "\n…"
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)

    @app_commands.command(name="delete", description="Delete one of your saved styles")
    @app_commands.describe(name="The style to delete")
    async def delete(self, interaction: discord.Interaction[ScenarioBot], name: str) -> None:
        deleted = await self.bot.library.delete_style(
            interaction.user.id, interaction.guild_id, name, may_manage=may_manage_server(interaction)
        )
        await interaction.response.send_message(texts.deleted("style", deleted.name), ephemeral=True,
                                                allowed_mentions=NONE)  # fmt: skip

    @delete.autocomplete("name")
    async def _names(
        self, interaction: discord.Interaction[ScenarioBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await style_choices(interaction, current)


async def setup(bot: ScenarioBot) -> None:
    await bot.add_cog(Styles(bot))
