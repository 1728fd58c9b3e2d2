"""`fd.slow(...)`: requests held for a while, then handled normally — the slow upload crash tests need."""

from __future__ import annotations

import asyncio
import io

import discord

from fakes.discord import FakeDiscord
from tests.fakes.discord._probe import RESULT_PNG, ProbeBot

ORIGINAL = r"^/webhooks/\d+/[^/]+/messages/@original$"


async def held_interaction(fd: FakeDiscord, seen) -> tuple[discord.Interaction, object]:
    """Run /hold (the bot defers and hands the interaction to the test)."""
    ix = await fd.send_command("hold")
    await ix.wait_for_callback()
    return (await seen("hold"))[1], ix


def result_file() -> discord.File:
    return discord.File(io.BytesIO(RESULT_PNG), filename="result.png")


async def test_a_slowed_upload_is_held_then_applied(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    interaction, ix = await held_interaction(fd, seen)
    slow = fd.slow("PATCH", ORIGINAL, 0.5, uploads_only=True)

    await interaction.edit_original_response(content="progress")  # no files: not held
    assert (slow.started, ix.original.content) == (0, "progress")

    upload = asyncio.create_task(interaction.edit_original_response(attachments=[result_file()]))
    await fd.wait_for(lambda: slow.in_flight == 1)
    assert not ix.original.attachments  # held: Discord has not applied it yet
    await asyncio.wait_for(upload, timeout=10)
    assert (slow.started, slow.finished) == (1, 1)
    assert [a.data for a in ix.original.attachments] == [RESULT_PNG]

    await interaction.edit_original_response(attachments=[result_file()])  # times=1: spent
    assert slow.started == 1


async def test_a_held_request_is_applied_after_its_client_gave_up(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    interaction, ix = await held_interaction(fd, seen)
    slow = fd.slow("PATCH", ORIGINAL, 0.5)
    edit = asyncio.create_task(interaction.edit_original_response(content="landed after the client died"))
    await fd.wait_for(lambda: slow.started == 1)
    edit.cancel()  # the client closes its connection while Discord holds the request
    await asyncio.gather(edit, return_exceptions=True)

    await fd.wait_for(lambda: slow.finished == 1, timeout=10)
    assert ix.original.content == "landed after the client died"
    [request] = [r for r in fd.requests if r.method == "PATCH"]
    assert request.status == 200


async def test_clear_faults_forgets_slowdowns(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    interaction, _ = await held_interaction(fd, seen)
    slow = fd.slow("*", ORIGINAL, 30.0, times=None)
    fd.clear_faults()
    await asyncio.wait_for(interaction.edit_original_response(content="not held"), timeout=10)
    assert slow.started == 0


async def test_release_lets_a_held_request_through_at_once(fd: FakeDiscord, bot: ProbeBot, seen) -> None:
    interaction, ix = await held_interaction(fd, seen)
    slow = fd.slow("PATCH", ORIGINAL, 600.0)
    edit = asyncio.create_task(interaction.edit_original_response(content="released"))
    await fd.wait_for(lambda: slow.in_flight == 1)
    assert ix.original.content != "released"
    slow.release()
    await asyncio.wait_for(edit, timeout=10)
    assert ix.original.content == "released" and slow.finished == 1
