"""Bad input against the real `python -m bot` process: a clear private reply, nothing sent to Scenario.

One bot process serves the whole module: a refused input leaves nothing behind, and each test measures what
it caused as a difference (generate calls, uploads, CDN downloads, spec violations) before and after.
After every refusal the same process must still run a real job to the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from fakes.discord import MODERATOR_USER_ID, FakeFile, FakeInteraction, FakeMessage
from tests.e2e.conftest import E2E, private_reply, public_messages
from tests.images import animated_gif, bomb_png, png_bytes

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.usefixtures("no_new_violations")]

E2E_ENV = {"MAX_ATTACHMENT_MB": "1"}
ATTACHMENT_CAP = 1024 * 1024


@dataclass
class Spent:
    """What a command cost at Scenario and Discord's CDN, measured as differences on the shared fakes."""

    e2e: E2E
    generates: int = 0
    uploads: int = 0
    downloads: int = 0

    def __post_init__(self) -> None:
        self.generates = len(self.e2e.scenario.generate_calls)
        self.uploads = len(self.e2e.scenario.uploads)
        self.downloads = len(self.e2e.discord.cdn_requests)

    def nothing_at_scenario(self) -> bool:
        fs = self.e2e.scenario
        return len(fs.generate_calls) == self.generates and len(fs.uploads) == self.uploads

    def downloaded(self) -> int:
        return len(self.e2e.discord.cdn_requests) - self.downloads


async def refused(e2e: E2E, interaction: FakeInteraction, expected: str) -> str:
    """The sender, and only the sender, was told why; nothing public is left behind."""
    text = await e2e.wait_for(lambda: private_reply(interaction))
    assert expected in text, text
    await e2e.wait_for(lambda: not public_messages(interaction))  # a public "thinking…" is deleted
    return text


# -- attachments --------------------------------------------------------------------------------------------

REFERENCE_CASES: dict[str, tuple[FakeFile, str, bool]] = {
    # case: (file, what the reply says, whether the bot had to download it to know)
    "text file": (
        FakeFile("notes.txt", b"just some words\n" * 20, "text/plain"),
        "`notes.txt` is not an image (it looks like a text file). Please attach a PNG, JPEG or WebP.",
        True,
    ),
    "pdf": (
        FakeFile("doc.pdf", b"%PDF-1.7\n" + b"0" * 500, "application/pdf"),
        "`doc.pdf` is not an image (it looks like a PDF document).",
        True,
    ),
    "pdf named .png": (
        FakeFile("photo.png", b"%PDF-1.4\n" + b"1" * 400, "image/png"),
        "`photo.png` is not an image (it looks like a PDF document).",
        True,
    ),
    "corrupt image": (
        FakeFile("broken.png", png_bytes((200, 200))[:120], "image/png"),
        "`broken.png` looks like a PNG but is damaged or incomplete, so it can't be read.",
        True,
    ),
    "decompression bomb": (
        FakeFile("huge.png", bomb_png(), "image/png"),
        "`huge.png` is 12000×12000 (144.0 megapixels), more than the 40 megapixels I can safely open.",
        True,
    ),
    "animated gif": (
        FakeFile("dance.gif", animated_gif(), "image/gif"),
        "`dance.gif` is animated, but a reference must be a still image.",
        True,
    ),
    "zero bytes": (
        FakeFile("empty.png", b"", "image/png"),
        "`empty.png` is empty (0 bytes). Please attach a PNG, JPEG or WebP image.",
        False,
    ),
    "over MAX_ATTACHMENT_MB": (
        FakeFile("big.png", png_bytes((400, 400)) + b"\0" * (ATTACHMENT_CAP + 200_000), "image/png"),
        "`big.png` is 1.19 MB; the limit is 1 MB.",
        False,
    ),
}


@pytest.mark.parametrize("case", list(REFERENCE_CASES))
async def test_a_bad_reference_is_refused_before_anything_is_spent(shared_e2e: E2E, case: str) -> None:
    file, expected, downloaded = REFERENCE_CASES[case]
    spent = Spent(shared_e2e)
    interaction = await shared_e2e.discord.send_command(
        "character", {"prompt": "a hero"}, attachments={"reference": file}
    )
    await refused(shared_e2e, interaction, expected)
    assert spent.nothing_at_scenario()
    assert spent.downloaded() == (1 if downloaded else 0)
    await shared_e2e.assert_still_serving()


@pytest.mark.parametrize(("given", "missing"), [("image", "mask"), ("mask", "image")])
async def test_inpainting_needs_both_image_and_mask(shared_e2e: E2E, given: str, missing: str) -> None:
    spent = Spent(shared_e2e)
    files = {"reference": FakeFile("ref.png", png_bytes()), given: FakeFile(f"{given}.png", png_bytes())}
    interaction = await shared_e2e.discord.send_command("character", {"prompt": "a hero"}, attachments=files)
    await refused(
        shared_e2e, interaction, f"Inpainting needs both `image` and `mask`: you gave `{given}` without `{missing}`."
    )
    assert spent.nothing_at_scenario() and spent.downloaded() == 0
    await shared_e2e.assert_still_serving()


async def test_an_image_with_a_misleading_extension_is_read_for_what_it_is(shared_e2e: E2E) -> None:
    """A JPEG called .png is not bad input: the bot trusts the bytes, not the name."""
    spent = Spent(shared_e2e)
    jpeg = png_bytes((80, 60), fmt="JPEG")
    interaction = await shared_e2e.discord.send_command(
        "character", {"prompt": "a hero"}, attachments={"reference": FakeFile("really-a-jpeg.png", jpeg)}
    )
    await shared_e2e.result_of(interaction)
    [asset_id] = shared_e2e.scenario.uploads[spent.uploads :]
    asset = shared_e2e.scenario.assets[asset_id]
    assert asset.data == jpeg and asset.mime_type == "image/jpeg" and asset.name == "really-a-jpeg.jpg"


# -- values a modified client sends -------------------------------------------------------------------------

PROMPT = {"name": "prompt", "type": 3, "value": "a cat"}
RAW_CASES: dict[str, tuple[list[dict[str, Any]], str]] = {
    "whitespace-only prompt": (
        [{"name": "prompt", "type": 3, "value": " \n\t "}],
        "The prompt is empty. Describe the image you want",
    ),
    "prompt over the limit": (
        [{"name": "prompt", "type": 3, "value": "x" * 2001}],
        "The prompt is 2001 characters long; the limit is 2000. Please shorten it.",
    ),
    "seed out of range": (
        [PROMPT, {"name": "seed", "type": 4, "value": 2_147_483_648}],
        "`seed` must be between 0 and 2147483647 — `2147483648` is not.",
    ),
    "negative seed": ([PROMPT, {"name": "seed", "type": 4, "value": -1}], "`seed` must be between 0 and"),
    "count out of range": ([PROMPT, {"name": "count", "type": 4, "value": 9}], "`count` must be between 1 and 4"),
    "unknown size": (
        [PROMPT, {"name": "size", "type": 3, "value": "gigantic"}],
        "`size` must be one of square_hd, square, portrait_4_3, portrait_16_9, landscape_4_3, landscape_16_9 — "
        "`gigantic` is not one of them.",
    ),
    "unknown speed": (
        [PROMPT, {"name": "speed", "type": 3, "value": "ludicrous"}],
        "`speed` must be one of turbo, balanced, quality — `ludicrous` is not one of them.",
    ),
}


@pytest.mark.parametrize("case", list(RAW_CASES))
async def test_values_a_modified_client_sends_are_refused(shared_e2e: E2E, case: str) -> None:
    options, expected = RAW_CASES[case]
    spent = Spent(shared_e2e)
    interaction = await shared_e2e.discord.send_command("imagine", {}, raw_options=options)
    await refused(shared_e2e, interaction, expected)
    assert spent.nothing_at_scenario()
    await shared_e2e.assert_still_serving()


async def test_an_unknown_character_choice_is_refused_before_any_upload(shared_e2e: E2E) -> None:
    spent = Spent(shared_e2e)
    interaction = await shared_e2e.discord.send_command(
        "character",
        {},
        raw_options=[
            {"name": "prompt", "type": 3, "value": "a hero"},
            {"name": "reference", "type": 11, "value": "REFERENCE"},
            {"name": "aspect_ratio", "type": 3, "value": "7:5"},
        ],
        attachments={"reference": FakeFile("ref.png", png_bytes())},
    )
    await refused(shared_e2e, interaction, "`aspect_ratio` must be one of")
    assert spent.nothing_at_scenario() and spent.downloaded() == 0
    await shared_e2e.assert_still_serving()


# -- markdown and mentions ----------------------------------------------------------------------------------


def pings_nobody(message: FakeMessage) -> bool:
    return not message.mentions and not message.mention_everyone and not message.mention_roles


async def test_a_prompt_full_of_markdown_and_mentions_pings_nobody(shared_e2e: E2E) -> None:
    fd = shared_e2e.discord
    role_id = next(role["id"] for role in fd.guilds[fd.guild_id].roles if role["name"] == "Moderators")
    prompt = (
        f"@everyone @here <@{MODERATOR_USER_ID}> <@&{role_id}> **bold** __under__ ~~gone~~ ||secret|| "
        "`code` [a link](https://example.com)\n# A heading\n> a quote"
    )
    interaction = await shared_e2e.imagine(prompt)
    message = await shared_e2e.result_of(interaction)

    assert all(pings_nobody(m) for m in interaction.messages)
    assert message.allowed_mentions == {"parse": []}
    description = message.embeds[0]["description"]
    assert "\\*\\*bold\\*\\*" in description and "\\|\\|secret\\|\\|" in description  # shown, not rendered

    # /history quotes the prompt back, privately and without pinging.
    history = await fd.send_command("history", {})
    text = await shared_e2e.wait_for(lambda: private_reply(history))
    assert "@everyone" in text
    [reply] = history.messages
    assert pings_nobody(reply) and reply.allowed_mentions == {"parse": []}


async def test_a_mention_smuggled_into_a_choice_value_pings_nobody(shared_e2e: E2E) -> None:
    spent = Spent(shared_e2e)
    interaction = await shared_e2e.discord.send_command(
        "imagine", {}, raw_options=[PROMPT, {"name": "size", "type": 3, "value": "@everyone"}]
    )
    text = await refused(shared_e2e, interaction, "`size` must be one of")
    assert "@everyone" in text
    assert all(pings_nobody(m) and m.allowed_mentions == {"parse": []} for m in interaction.messages)
    assert spent.nothing_at_scenario()
    await shared_e2e.assert_still_serving()
