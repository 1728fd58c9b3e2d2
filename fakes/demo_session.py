"""The demo's brainstorm session: `/session start`, three ideas from three people, votes, the contact sheet
and `/session end`, printed as the participants see them; the sheet is saved with the other images."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from fakes.discord import FakeChannel, FakeDiscord, FakeFile, FakeInteraction, FakeMessage

TITLE = "Shop sign ideas"
START = {"title": TITLE, "style": "hand-painted wooden sign", "size": "landscape_4_3"}
IDEAS = ("a bakery sign shaped like a croissant", "the robot holding a sign that says OPEN")
MESSAGE_IDEA = "a bookshop sign with an owl reading"


async def _until(fd: FakeDiscord, predicate: Callable[[], object], timeout: float = 120.0) -> object:
    return await fd.wait_for(predicate, timeout=timeout)


def _result(fd: FakeDiscord, thread: FakeChannel, number: int) -> FakeMessage | None:
    for message in fd.channel_messages(thread.id):
        if message.attachments and message.embeds and message.embeds[0].get("title", "").startswith(f"#{number} "):
            return message
    return None


async def _form_idea(fd: FakeDiscord, header: FakeMessage, thread: FakeChannel, user: int, fields: dict) -> None:
    click = await fd.click(header.id, f"ses:idea:{thread.id}", user_id=user)
    await click.wait_until(lambda: click.modal is not None)
    await fd.submit_modal(click.modal["custom_id"], fields, user_id=user)  # type: ignore[index]


async def run_session(fd: FakeDiscord, out: Path, reference: bytes) -> None:
    """Run one whole session through the fake Discord, printing what its participants see."""
    alice = fd.user(name="alice").id
    bob, carol = fd.user(name="bob").id, fd.user(name="carol").id
    print(f'\n▶ alice: /session start title:"{TITLE}" style:"{START["style"]}" size:{START["size"]}')
    start = await fd.send_command("session start", START, user_id=alice)
    await start.wait_until(lambda: start.original is not None and not start.original.loading, timeout=30)
    [thread] = [t for t in fd.threads() if t.name == TITLE]
    print(f"  └ {start.original.content}  (thread #{thread.name})")  # type: ignore[union-attr]
    header = next(m for m in fd.channel_messages(thread.id) if m.custom_ids())

    print(f'▶ alice: Add idea → "{IDEAS[0]}"')
    await _form_idea(fd, header, thread, alice, {"prompt": IDEAS[0]})
    print(f'▶ bob: Add idea → "{IDEAS[1]}" + robot.png')
    await _form_idea(fd, header, thread, bob, {"prompt": IDEAS[1], "reference": [FakeFile("robot.png", reference)]})
    print(f"▶ carol, in the thread: @Scenario Bot {MESSAGE_IDEA}")
    await fd.post_message(thread.id, MESSAGE_IDEA, user_id=carol, mention_bot=True)
    results = [await _until(fd, lambda n=n: _result(fd, thread, n)) for n in (1, 2, 3)]
    for message in results:
        assert isinstance(message, FakeMessage)
        print(f"  ├ {message.embeds[0]['title']} — {message.embeds[0].get('description', '')}")

    for voter, number in ((alice, 2), (carol, 2), (bob, 3)):
        message = results[number - 1]
        assert isinstance(message, FakeMessage)
        vote = next(c for c in message.custom_ids() if c.startswith("ses:vote:"))
        click = await fd.click(message.id, vote, user_id=voter)
        await click.wait_until(lambda click=click: click.callbacks)
    print("▶ alice and carol vote 👍 for #2, bob for #3")

    print("▶ bob: /session sheet")
    sheet = await fd.send_command("session sheet", user_id=bob, channel_id=thread.id)
    await _show_sheet(sheet, out, "contact-sheet.png")

    print("▶ alice: /session end")
    end = await fd.send_command("session end", user_id=alice, channel_id=thread.id)
    await _until(fd, lambda: thread.archived)
    await _show_sheet(end, out, "final-sheet.png")
    summary = next(m for m in fd.channel_messages() if m.embeds and "session ended" in m.embeds[0].get("title", ""))
    print(f"  └ in #general: {summary.content}")
    for line in summary.embeds[0].get("description", "").splitlines():
        print(f"      {line}")
    print(f"  └ thread archived: {thread.archived}")


async def _show_sheet(interaction: FakeInteraction, out: Path, name: str) -> None:
    await interaction.wait_until(lambda: interaction.original is not None and interaction.original.attachments, 60)
    message = interaction.original
    assert message is not None
    path = out / name
    path.write_bytes(message.attachments[0].data)
    print(f"  ├ {message.content}")
    for line in message.embeds[0].get("description", "").splitlines():
        print(f"  │   {line}")
    print(f"  └ 🖼  contact sheet saved to {path}")
    await asyncio.sleep(0)
