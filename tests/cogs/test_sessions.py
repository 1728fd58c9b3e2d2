"""/session through real discord.py against the fake Discord: a thread where ideas become numbered images,
votes and a contact sheet, then a summary in the channel and an archived thread."""

from __future__ import annotations

import io

from PIL import Image

from bot.jobs.models import Command, JobRecord
from bot.sessions import sheet
from fakes.discord import (
    DEFAULT_USER_ID,
    EXTERNAL_CHANNEL_ID,
    MEMBER_PERMISSIONS,
    FakeChannel,
    FakeFile,
    FakeInteraction,
    FakeMessage,
    Permissions,
)
from tests.cogs.conftest import World, interactions_handled, png_bytes, private_text

ALICE = DEFAULT_USER_ID  # starts the session
MANAGE_THREADS = Permissions.MANAGE_THREADS


async def start_session(world: World, title: str = "Mascot ideas", **options: object) -> FakeChannel:
    start = await world.discord.send_command("session start", {"title": title, **options}, user_id=ALICE)
    await start.wait_until(lambda: start.original is not None and not start.original.loading, timeout=10)
    [thread] = [t for t in world.discord.threads() if t.name == title]
    assert f"<#{thread.id}>" in start.original.content
    return thread


def header_of(world: World, thread: FakeChannel) -> FakeMessage:
    return next(m for m in world.discord.channel_messages(thread.id) if f"ses:idea:{thread.id}" in m.custom_ids())


async def idea_by_form(world: World, thread: FakeChannel, user_id: int, fields: dict) -> FakeMessage:
    click = await world.discord.click(header_of(world, thread).id, f"ses:idea:{thread.id}", user_id=user_id)
    await world.wait_for(lambda: click.modal is not None)
    submit = await world.discord.submit_modal(click.modal["custom_id"], fields, user_id=user_id)
    return await world.result_of(submit)


async def session_jobs(world: World, thread: FakeChannel) -> list[JobRecord]:
    return list(await world.store.session_jobs(thread.id))


async def result_in_thread(world: World, thread: FakeChannel, number: int) -> FakeMessage:
    def found() -> FakeMessage | None:
        return next(
            (
                m
                for m in world.discord.channel_messages(thread.id)
                if m.attachments and m.embeds and m.embeds[0]["title"].startswith(f"#{number} ·")
            ),
            None,
        )

    await world.wait_for(found)
    return found()  # type: ignore[return-value]


def vote_label(message: FakeMessage) -> str:
    [button] = [c for row in message.components for c in row["components"] if c["custom_id"].startswith("ses:vote:")]
    return f"{button['emoji']['name']} {button['label']}"


async def vote(world: World, message: FakeMessage, job: JobRecord, user_id: int) -> FakeInteraction:
    click = await world.discord.click(message.id, f"ses:vote:{job.id}", user_id=user_id)
    await click.wait_for_callback()
    await interactions_handled(world)
    return click


def count_tiles(png: bytes) -> int:
    """Tiles on a decoded contact sheet: grid cells (by the sheet's public geometry) that are not background."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    tiles, index = 0, 0
    while True:
        x, y = sheet.tile_origin(index)
        if y + sheet.TILE > image.height:
            return tiles
        if (
            x + sheet.TILE <= image.width
            and image.getpixel((x + sheet.TILE // 2, y + sheet.TILE - 4)) != sheet.BACKGROUND
        ):
            tiles += 1
        index += 1


async def test_a_session_from_start_to_end(make_world) -> None:
    world: World = await make_world(settings_overrides={"message_content_intent": True})
    fd = world.discord
    bob, carol, dave = fd.user(name="bob").id, fd.user(name="carol").id, fd.user(name="dave").id

    thread = await start_session(world, style="flat vector art", size="landscape_16_9")
    assert thread.type == 11 and thread.parent_id == fd.channel_id
    header = header_of(world, thread)
    assert header.embeds[0]["title"] == "🧠 Mascot ideas" and f"<@{ALICE}>" in header.embeds[0]["description"]
    assert "flat vector art" in str(header.embeds[0]["fields"])

    # Three ideas from three people: the form, the form with a reference image, a plain message.
    first = await idea_by_form(world, thread, ALICE, {"prompt": "a fox mascot"})
    reference = png_bytes((96, 96), "orange")
    second = await idea_by_form(
        world, thread, bob, {"prompt": "the fox skiing", "reference": [FakeFile("fox.png", reference)]}
    )
    posted = await fd.post_message(thread.id, "a robot mascot", user_id=carol)
    third = await result_in_thread(world, thread, 3)

    one, two, three = await session_jobs(world, thread)
    assert [(j.session_number, j.user_id, j.command) for j in (one, two, three)] == [
        (1, ALICE, Command.IMAGINE), (2, bob, Command.CHARACTER), (3, carol, Command.IMAGINE),
    ]  # fmt: skip
    assert [m.channel_id for m in (first, second, third)] == [thread.id] * 3
    assert first.embeds[0]["title"] == "#1 · /imagine" and second.embeds[0]["title"] == "#2 · /character"
    calls = world.generate_calls()
    assert calls[0].body == {"prompt": "a fox mascot, flat vector art", "imageSize": "landscape_16_9"}
    assert calls[1].model_id == "model_ideogram-character"
    assert calls[1].body["characterReferenceImage"] == two.uploaded_asset_ids["reference"]
    assert len(world.scenario.uploads) == 1  # the reference, fetched from Discord's CDN and uploaded
    assert f"<@{carol}>" in third.content and fd.messages[posted.id].reactions == [("💡", fd.bot_user_id)]
    for message in (first, second, third):  # the usual buttons stay, plus the vote
        assert any(c.startswith("res:reroll:") for c in message.custom_ids())
        assert vote_label(message) == "👍 vote · 0"

    # Votes: one per person, a second click takes it back, across a restart.
    await vote(world, first, one, bob)
    await vote(world, first, one, carol)
    assert vote_label(fd.messages[first.id]) == "👍 vote · 2"
    await vote(world, first, one, bob)
    assert vote_label(fd.messages[first.id]) == "👍 vote · 1"
    await world.restart_bot()
    await vote(world, fd.messages[first.id], one, carol)  # carol takes hers back after the restart
    assert vote_label(fd.messages[first.id]) == "👍 vote · 0"
    for voter in (ALICE, carol, dave):
        await vote(world, fd.messages[second.id], two, voter)
    await vote(world, fd.messages[third.id], three, ALICE)
    assert vote_label(fd.messages[second.id]) == "👍 vote · 3"
    assert await world.store.session_votes(thread.id) == {two.id: 3, three.id: 1}

    # The sheet: one image with a tile per result, and an index naming every prompt.
    ask = await fd.send_command("session sheet", user_id=bob, channel_id=thread.id)
    await ask.wait_until(lambda: ask.original is not None and ask.original.attachments, timeout=10)
    [png] = ask.original.attachments
    assert count_tiles(png.data) == 3
    index = ask.original.embeds[0]["description"]
    for prompt in (
        "a fox mascot, flat vector art",
        "the fox skiing, flat vector art",
        "a robot mascot, flat vector art",
    ):
        assert prompt in index
    assert "**#2**" in index and f"<@{bob}>" in index and "👍 3" in index

    # The end: only the starter (or a thread manager); final sheet, summary in the channel, thread archived.
    refused = await fd.send_command("session end", user_id=carol, channel_id=thread.id, member_permissions=0)
    await refused.wait_until(lambda: private_text(refused))
    assert "Only the person who started" in private_text(refused) and not thread.archived
    late_form = await fd.click(header.id, f"ses:idea:{thread.id}", user_id=dave)  # opened before the end…
    await world.wait_for(lambda: late_form.modal is not None)
    end = await fd.send_command("session end", user_id=ALICE, channel_id=thread.id)
    await world.wait_for(lambda: thread.archived)
    assert end.original is not None and end.original.attachments and "Final sheet" in end.original.content
    assert header.embeds[0]["title"] == "🧠 Mascot ideas — ended"
    assert header.components[0]["components"][0]["disabled"] is True  # Add idea, greyed out
    [summary] = [m for m in fd.channel_messages() if m.embeds and "session ended" in m.embeds[0].get("title", "")]
    assert summary.embeds[0]["description"].startswith("🥇 **#2**")
    assert f"https://discord.com/channels/{fd.guild_id}/{thread.id}" in summary.content
    assert summary.attachments[0].data == world.scenario.assets[two.output_asset_ids[0]].data

    # Later ideas are refused privately, and cost nothing.
    spent = len(world.generate_calls())
    await fd.post_message(thread.id, "one more idea", user_id=dave)  # Discord reopens the thread for it…
    await world.wait_for(lambda: fd.dm_messages(dave) and thread.archived)  # …the bot closes it again
    assert "this session has ended" in fd.dm_messages(dave)[0].content.lower()
    submit = await fd.submit_modal(f"ses:idea-form:{thread.id}", {"prompt": "too late"}, user_id=dave)  # …sent after
    await submit.wait_until(lambda: private_text(submit))
    assert "this session has ended" in private_text(submit).lower() and submit.ephemeral_all
    assert len(world.generate_calls()) == spent and len(await session_jobs(world, thread)) == 3


async def test_without_the_message_content_intent_only_mentions_are_ideas(world: World) -> None:
    fd = world.discord
    assert not world.settings.message_content_intent
    thread = await start_session(world, title="Quiet session")
    assert "mention" in header_of(world, thread).embeds[0]["description"]

    chatter = await fd.post_message(thread.id, "love these so far", user_id=ALICE)
    asked = await fd.post_message(thread.id, "a lighthouse in fog", user_id=ALICE, mention_bot=True)
    result = await result_in_thread(world, thread, 1)

    [job] = await session_jobs(world, thread)
    assert job.prompt == "a lighthouse in fog" and result.embeds[0]["description"] == "a lighthouse in fog"
    assert [call.body["prompt"] for call in world.generate_calls()] == ["a lighthouse in fog"]
    assert fd.messages[asked.id].reactions and not fd.messages[chatter.id].reactions
    assert not fd.dm_messages(ALICE)  # chatter is not refused either: the bot never saw its text

    # Someone with Manage Threads may end a session they did not start.
    manager = fd.user(name="thread manager").id
    end = await fd.send_command(
        "session end", user_id=manager, channel_id=thread.id, member_permissions=MEMBER_PERMISSIONS | MANAGE_THREADS
    )
    await world.wait_for(lambda: thread.archived)
    assert end.original is not None and end.original.attachments


async def test_sessions_live_in_servers_with_the_bot(world: World) -> None:
    fd = world.discord
    in_dm = await fd.send_command("session start", {"title": "In a DM"}, guild_id=None)
    elsewhere = await fd.send_command("session start", {"title": "Elsewhere"}, user_install=True)
    await in_dm.wait_until(lambda: private_text(in_dm))
    await elsewhere.wait_until(lambda: private_text(elsewhere))

    assert "in a server" in private_text(in_dm).lower() and in_dm.ephemeral_all
    assert "not a member of this server" in private_text(elsewhere) and elsewhere.ephemeral_all
    assert not fd.threads() and not fd.threads(EXTERNAL_CHANNEL_ID)
    sheet = await fd.send_command("session sheet")  # not in a session's thread
    await sheet.wait_until(lambda: private_text(sheet))
    assert "session's thread" in private_text(sheet)


async def test_a_session_budget_refuses_ideas_once_spent_and_other_commands_join_the_session(world: World) -> None:
    thread = await start_session(world, title="Small budget", budget_cu=10)
    first = await idea_by_form(world, thread, ALICE, {"prompt": "a paper boat"})
    [job] = await session_jobs(world, thread)
    assert job.cost == 6 and first.attachments

    # A second 6-CU idea would pass the 10-CU cap: its price (from the dry run) is refused before it runs.
    click = await world.discord.click(header_of(world, thread).id, f"ses:idea:{thread.id}")
    await world.wait_for(lambda: click.modal is not None)
    refused = await world.discord.submit_modal(click.modal["custom_id"], {"prompt": "a second boat"})
    await refused.wait_until(lambda: private_text(refused))
    assert "does not fit what is left" in private_text(refused) and "(6 of 10 CU used)" in private_text(refused)
    assert len(world.generate_calls()) == 1

    # /imagine in the thread is an idea of the session too: the same budget refuses it.
    imagine = await world.discord.send_command("imagine", {"prompt": "a third boat"}, channel_id=thread.id)
    await imagine.wait_until(lambda: private_text(imagine))
    assert "does not fit" in private_text(imagine) and len(world.generate_calls()) == 1


async def test_imagine_in_a_session_thread_is_its_next_numbered_idea(world: World) -> None:
    thread = await start_session(world, title="Open session")
    imagine = await world.discord.send_command("imagine", {"prompt": "a kite"}, channel_id=thread.id)
    message = await world.result_of(imagine)
    assert message.embeds[0]["title"] == "#1 · /imagine" and message.channel_id == thread.id
    assert any(c.startswith("ses:vote:") for c in message.custom_ids())


async def test_a_bad_reference_or_empty_idea_is_refused_privately_and_costs_nothing(world: World) -> None:
    thread = await start_session(world, title="Careful session")
    header = header_of(world, thread)
    replies = []
    for fields in (
        {"prompt": "the fox again", "reference": [FakeFile("notes.txt", b"just some text, not a picture")]},
        {"prompt": "   "},
    ):
        click = await world.discord.click(header.id, f"ses:idea:{thread.id}")
        await world.wait_for(lambda click=click: click.modal is not None)
        submit = await world.discord.submit_modal(click.modal["custom_id"], fields)
        await submit.wait_until(lambda submit=submit: private_text(submit))
        replies.append(private_text(submit))

    assert "`notes.txt` is not an image" in replies[0]
    assert "The idea is empty" in replies[1]
    assert not world.generate_calls() and not world.scenario.uploads
    assert not await session_jobs(world, thread)


async def test_an_idea_above_the_confirmation_price_asks_for_run_in_the_form_not_in_a_message(make_world) -> None:
    world: World = await make_world(settings_overrides={"confirm_above_cu": 1, "message_content_intent": True})
    fd = world.discord
    thread = await start_session(world, title="Pricey session")

    await fd.post_message(thread.id, "a gilded frame", user_id=ALICE)
    await world.wait_for(lambda: fd.dm_messages(ALICE))
    [dm] = fd.dm_messages(ALICE)
    assert "needs your confirmation" in dm.content and "Add idea" in dm.content
    assert not world.generate_calls()

    click = await fd.click(header_of(world, thread).id, f"ses:idea:{thread.id}")
    await world.wait_for(lambda: click.modal is not None)
    submit = await fd.submit_modal(click.modal["custom_id"], {"prompt": "a gilded frame"})
    ask = await submit.wait_until(lambda: next((m for m in submit.followups if m.custom_ids()), None))
    [run] = [c for c in ask.custom_ids() if c.startswith("cost:run:")]
    assert ask.ephemeral and not world.generate_calls()

    ran = await fd.click(ask.id, run)
    result = await world.result_of(ran)
    assert result.channel_id == thread.id and result.embeds[0]["title"] == "#1 · /imagine"
