"""`python -m bot demo`: the whole product on your machine, with no token and no credits.

Starts the fake Discord, the Scenario sandbox and the real bot (connected over 127.0.0.1 exactly as it
connects to Discord), sends an `/imagine` and a `/character` as a user would, prints what that user sees —
progress, then the final message — then runs a brainstorm session (`/session`: three ideas, votes, the contact
sheet, the end), and saves the posted images and the contact sheet to a folder.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from fakes.demo_session import run_session
from fakes.discord import FakeDiscord, FakeFile, FakeInteraction, FakeMessage
from fakes.scenario import FakeScenario

log = logging.getLogger(__name__)

IMAGINE = {"prompt": 'a neon sign that says "OPEN LATE" above a rainy street', "size": "landscape_16_9", "count": 2}
CHARACTER = {"prompt": "the same robot, now surfing a huge wave at sunset", "style": "Fiction"}


def _reference_image() -> bytes:
    """A small, friendly robot drawn with Pillow, used as the /character reference."""
    image = Image.new("RGB", (512, 512), "#f2efe6")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((156, 150, 356, 330), radius=30, fill="#4a7bd0", outline="#1d2f55", width=6)
    draw.ellipse((196, 200, 236, 240), fill="white")
    draw.ellipse((276, 200, 316, 240), fill="white")
    draw.rectangle((216, 280, 296, 296), fill="#1d2f55")
    draw.line((256, 150, 256, 100), fill="#1d2f55", width=6)
    draw.ellipse((240, 84, 272, 116), fill="#e0533d")
    draw.rectangle((186, 330, 326, 440), fill="#3b64ad")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _describe_command(name: str, options: dict[str, object]) -> str:
    shown = " ".join(
        f'{key}:"{value}"' if isinstance(value, str) else f"{key}:{value}" for key, value in options.items()
    )
    return f"/{name} {shown}"


def _print_result(message: FakeMessage, out: Path) -> None:
    for embed in message.embeds:
        print(f"  │ {embed.get('title', '')} — {embed.get('description', '')}")
        for field in embed.get("fields", []):
            print(f"  │   {field['name']}: {field['value']}")
        if footer := embed.get("footer"):
            print(f"  │ {footer.get('text', '')}")
    buttons = [
        component.get("label") or component.get("emoji", {}).get("name", "")
        for row in message.components
        for component in row.get("components", [])
    ]
    if buttons:
        print(f"  │ buttons: {' · '.join(buttons)}")
    for attachment in message.attachments:
        path = out / attachment.filename
        path.write_bytes(attachment.data)
        with Image.open(io.BytesIO(attachment.data)) as image:
            size = f"{image.width}×{image.height}"
        print(f"  │ 🖼  {attachment.filename} ({size}, {len(attachment.data) // 1024} KB) → saved to {path}")


async def _follow(interaction: FakeInteraction, out: Path, timeout: float = 120.0) -> FakeMessage:
    """Print every new state of the interaction's message until it carries the result."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: str | None = None
    while loop.time() < deadline:
        message = interaction.original
        if message is not None:
            if message.attachments:
                print("  └ result:")
                _print_result(message, out)
                return message
            text = message.content or "(the bot is thinking…)"
            if text != last:
                for number, line in enumerate(text.splitlines() or [text]):
                    print(f"  {'├' if number == 0 else '│'} {line}")
                last = text
        for followup in interaction.followups:
            if followup.content and followup.content != last:
                print(f"  ├ (only you can see this) {followup.content}")
                last = followup.content
        await asyncio.sleep(0.05)
    raise TimeoutError("the demo job did not finish in time")


async def run_demo(out: Path, job_seconds: float) -> int:
    """Run the two commands against the fakes and print the transcript."""
    from bot.bootstrap import open_bot
    from bot.settings import Settings

    out.mkdir(parents=True, exist_ok=True)
    fake_discord = FakeDiscord(validate=FakeDiscord.spec_available())
    await fake_discord.start()
    sandbox = FakeScenario(job_duration=job_seconds)
    scenario_url = await sandbox.start()
    with tempfile.TemporaryDirectory() as workdir:
        settings = Settings(
            discord_token="demo-token",
            scenario_sdk_api_key="demo",
            scenario_sdk_api_secret="demo",
            scenario_base_url=scenario_url,
            discord_api_base_url=fake_discord.api_base,
            database_url=f"sqlite:///{workdir}/demo.db",
        )
        async with open_bot(settings, guild_ready_timeout=0.1) as bot:
            await bot.login(settings.discord_token.get_secret_value())
            runner = asyncio.create_task(bot.connect(reconnect=False))
            try:
                await fake_discord.wait_until_connected(timeout=15)
                print(f"Fake Discord at {fake_discord.api_base}, Scenario sandbox at {scenario_url}\n")
                print(f"▶ you: {_describe_command('imagine', IMAGINE)}")
                await _follow(await fake_discord.send_command("imagine", IMAGINE), out)
                options = {**CHARACTER, "reference": "robot.png"}
                print(f"\n▶ you: {_describe_command('character', options)}")
                reference = FakeFile("robot.png", _reference_image(), "image/png")
                interaction = await fake_discord.send_command(
                    "character", CHARACTER, attachments={"reference": reference}
                )
                await _follow(interaction, out)
                await run_session(fake_discord, out, _reference_image())
            finally:
                await bot.close()
                runner.cancel()
                await asyncio.gather(runner, return_exceptions=True)
    await fake_discord.stop()
    await sandbox.stop()
    if fake_discord.violations:
        print(f"\n{len(fake_discord.violations)} request(s) broke Discord's OpenAPI spec:", file=sys.stderr)
        for violation in fake_discord.violations:
            print(f"  {violation}", file=sys.stderr)
        return 1
    print(f"\nDone. The posted images are in {out}/")
    return 0


def main(argv: list[str]) -> int:
    """Parse the demo's options and run it."""
    parser = argparse.ArgumentParser(prog="python -m bot demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="where to save the posted images")
    parser.add_argument("--job-seconds", type=float, default=6.0, help="how long each sandbox job takes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(run_demo(args.out, args.job_seconds))
