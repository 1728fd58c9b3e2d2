"""`/config` against the real `python -m bot`: settings stored in its database, kept across a restart."""

from __future__ import annotations

import discord

from fakes.discord import MEMBER_PERMISSIONS
from tests.e2e.conftest import E2E, job_id_of, private_reply

MANAGER = MEMBER_PERMISSIONS | discord.Permissions(manage_guild=True).value


async def configure(e2e: E2E, sub: str, options: dict) -> str:
    interaction = await e2e.discord.send_command(f"config {sub}", options, member_permissions=MANAGER)
    return await e2e.wait_for(lambda: private_reply(interaction))


async def test_blocked_words_nsfw_block_and_the_audit_line_survive_a_restart(e2e: E2E) -> None:
    audit = e2e.discord.add_channel(name="bot-audit")
    assert "Blocked the word" in await configure(e2e, "blocked_words", {"action": "add", "word": "gore"})
    assert "not posted" in await configure(e2e, "nsfw", {"policy": "block"})
    assert f"<#{audit.id}>" in await configure(e2e, "audit_channel", {"channel": str(audit.id)})

    await e2e.stop_bot()
    await e2e.start_bot()

    refused = await e2e.imagine("a gore scene")
    assert "term this server does not allow" in await e2e.wait_for(lambda: private_reply(refused))
    assert e2e.paid_generates() == []

    labelled = await e2e.imagine("a figure study, nsfw")
    message = await e2e.wait_for(
        lambda: labelled.original is not None and labelled.original.embeds and labelled.original
    )
    job_id = job_id_of(message)
    assert await e2e.finished(job_id) == "delivered"
    assert labelled.original.attachments == [] and "does not post such images" in labelled.original.content
    assert len(e2e.paid_generates()) == 1

    lines = await e2e.wait_for(lambda: e2e.discord.channel_messages(audit.id))
    assert lines[0].content.startswith("✅ delivered · ") and job_id in lines[0].content
