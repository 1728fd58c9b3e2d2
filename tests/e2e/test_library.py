"""The library against the real `python -m bot`: save a character once, reuse it by name, a style, /prefer, Enhance."""

from __future__ import annotations

from fakes.discord import FakeFile
from tests.e2e.conftest import E2E, job_id_of, png_bytes


def said(interaction) -> str:
    texts = [cb["data"].get("content", "") for cb in interaction.callbacks if cb["type"] == 4 and cb.get("data")]
    return "\n".join(texts + [m.content for m in interaction.messages if m.content])


async def test_a_saved_character_a_style_prefer_and_enhance(e2e: E2E) -> None:
    save = await e2e.discord.send_command(
        "characters save",
        {"name": "Luna"},
        attachments={"image": FakeFile("luna.png", png_bytes((80, 60), "orange"), "image/png")},
    )
    await e2e.wait_for(lambda: "Saved the character **Luna**" in said(save))
    [asset_id] = e2e.scenario.uploads

    typed = await e2e.discord.autocomplete("character", {"prompt": "x", "character": "lu"}, "character")
    await e2e.wait_for(lambda: typed.autocomplete_choices is not None)
    assert [c["value"] for c in typed.autocomplete_choices] == ["Luna"]

    style = await e2e.discord.send_command("styles save", {"name": "Noir", "text": "{prompt}, film noir"})
    await e2e.wait_for(lambda: "Saved the style" in said(style))
    prefer = await e2e.discord.send_command("prefer", {"speed": "turbo"})
    await e2e.wait_for(lambda: "Saved" in said(prefer))

    scene = await e2e.discord.send_command("character", {"prompt": "Luna at the docks", "character": "Luna",
                                                         "style": "Noir"})  # fmt: skip
    message = await e2e.result_of(scene)
    [call] = e2e.paid_generates()
    assert call.body == {
        "prompt": "Luna at the docks, film noir",
        "characterReferenceImage": asset_id,
        "renderingSpeed": "Turbo",
    }
    assert e2e.scenario.uploads == [asset_id]

    parent = job_id_of(message)
    click = await e2e.discord.click(message.id, f"res:enhance:{parent}:0")
    await e2e.result_of(click)
    first, second = e2e.paid_generates()
    assert second.body["renderingSpeed"] == "Quality" and second.body["prompt"] == first.body["prompt"]
    [first_image] = e2e.scenario.jobs[first.job_id].asset_ids
    assert second.body["seed"] == e2e.scenario.assets[first_image].seed  # the draft's own seed
