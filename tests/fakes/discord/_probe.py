"""A small real bot for the fake Discord's tests: a `commands.Bot` with the `Probe` cog, and a starter.

`Bots.start()` logs in (GET /users/@me, GET /oauth2/applications/@me), syncs the commands in
`setup_hook` (PUT /applications/{app}/commands) and connects to the fake gateway. The cog records what
it saw in `bot.seen`, so tests can assert on the bot's side as well as on the fake's.
"""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from PIL import Image

from fakes.discord import FakeDiscord

TOKEN = "fake-bot-token"


def png_bytes(size: tuple[int, int] = (32, 24), colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


RESULT_PNG = png_bytes((40, 30), "orange")


class Reroll(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"reroll:(?P<job>[0-9]+)"):
    """A button rebuilt from its custom_id on every click, so it survives restarts."""

    def __init__(self, job: int) -> None:
        button = discord.ui.Button(label="Reroll", style=discord.ButtonStyle.primary, custom_id=f"reroll:{job}")
        super().__init__(button)
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> Reroll:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.seen.append(("reroll", self.job, interaction.user.id))  # type: ignore[attr-defined]
        await interaction.response.send_message(f"Rerolling job {self.job}", ephemeral=True)


class PromptModal(discord.ui.Modal, title="Edit the prompt"):
    """One text input in an action row (the classic layout) and one in a Label (discord.py 2.6+)."""

    prompt = discord.ui.TextInput(label="Prompt", custom_id="prompt", max_length=200)
    note = discord.ui.Label(
        text="Note", component=discord.ui.TextInput(custom_id="note", required=False, style=discord.TextStyle.paragraph)
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        note = self.note.component.value  # type: ignore[attr-defined]
        interaction.client.seen.append(("modal", self.prompt.value, note))  # type: ignore[attr-defined]
        await interaction.response.send_message(f"New prompt: {self.prompt.value}")


class UploadModal(discord.ui.Modal, title="Upload a reference"):
    """discord.py 2.7's Label components: a select and a file upload."""

    pick = discord.ui.Label(
        text="Model",
        component=discord.ui.Select(
            custom_id="pick",
            options=[
                discord.SelectOption(label="V4", value="v4"),
                discord.SelectOption(label="Character", value="character"),
            ],
        ),
    )
    files = discord.ui.Label(text="Reference", component=discord.ui.FileUpload(custom_id="files", max_values=2))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        chosen = self.pick.component.values  # type: ignore[attr-defined]
        uploads = [await a.read() for a in self.files.component.values]  # type: ignore[attr-defined]
        interaction.client.seen.append(("upload", chosen, uploads))  # type: ignore[attr-defined]
        await interaction.response.send_message("Got it", ephemeral=True)


class ResultView(discord.ui.View):
    def __init__(self, job: int) -> None:
        super().__init__(timeout=None)
        self.add_item(Reroll(job))

    @discord.ui.button(label="Edit prompt", custom_id="edit-prompt")
    async def edit(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.send_modal(PromptModal())


class Probe(commands.Cog):
    """Slash commands that exercise what a real bot does."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(description="Make images")
    @app_commands.describe(
        prompt="What to draw", count="How many", hd="High definition", image="A reference", style="Style"
    )
    @app_commands.choices(
        style=[app_commands.Choice(name="Photo", value="photo"), app_commands.Choice(name="Anime", value="anime")]
    )
    async def imagine(
        self,
        interaction: discord.Interaction,
        prompt: str,
        count: app_commands.Range[int, 1, 4] = 1,
        hd: bool = False,
        image: discord.Attachment | None = None,
        style: str = "photo",
    ) -> None:
        await interaction.response.defer(thinking=True)
        reference = await image.read() if image is not None else None
        self.bot.seen.append(("imagine", prompt, count, hd, style, reference))  # type: ignore[attr-defined]
        await interaction.edit_original_response(
            content=f"{prompt} ×{count}",
            attachments=[discord.File(io.BytesIO(RESULT_PNG), filename="result.png")],
            view=ResultView(job=42),
        )

    @app_commands.command(description="Open a modal with a file upload")
    async def upload(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(UploadModal())

    @app_commands.command(description="Keep the interaction for the test to use")
    async def hold(self, interaction: discord.Interaction) -> None:
        self.bot.seen.append(("hold", interaction))  # type: ignore[attr-defined]
        await interaction.response.defer(thinking=True)

    @app_commands.command(description="Reply, then send followups")
    @app_commands.describe(times="How many followups")
    @app_commands.allowed_installs(guilds=True, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def echo(self, interaction: discord.Interaction, times: int = 1) -> None:
        await interaction.response.send_message("starting", ephemeral=True)
        for n in range(times):
            try:
                await interaction.followup.send(f"followup {n + 1}", ephemeral=True)
            except discord.HTTPException as error:
                self.bot.seen.append(("echo-error", n + 1, error))  # type: ignore[attr-defined]
                return
        self.bot.seen.append(("echo-done", times))  # type: ignore[attr-defined]


class ProbeBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.seen: list[Any] = []

    async def setup_hook(self) -> None:
        await self.add_cog(Probe(self))
        self.add_dynamic_items(Reroll)
        await self.tree.sync()


class Bots:
    """Starts bots against one fake and closes them all at the end."""

    def __init__(self, fd: FakeDiscord) -> None:
        self.fd = fd
        self.running: list[tuple[ProbeBot, asyncio.Task[None]]] = []

    async def start(self) -> ProbeBot:
        bot = ProbeBot()
        ready_before = self.fd.ready_count
        await bot.login(TOKEN)
        task = asyncio.create_task(bot.connect(reconnect=True))
        self.running.append((bot, task))
        await self.fd.wait_for(lambda: self.fd.ready_count > ready_before or task.done(), timeout=10)
        if task.done():
            task.result()
        await self.fd.wait_until_connected()
        # on_ready: discord.py has processed READY and every GUILD_CREATE.
        await asyncio.wait_for(bot.wait_until_ready(), timeout=10)
        return bot

    async def stop(self, bot: ProbeBot) -> None:
        for entry in list(self.running):
            if entry[0] is bot:
                await bot.close()
                await asyncio.gather(entry[1], return_exceptions=True)
                self.running.remove(entry)
