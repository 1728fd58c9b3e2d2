"""What the library tests share: saying things as a user, and reading what the bot answered."""

from __future__ import annotations

from fakes.discord import MEMBER_PERMISSIONS, FakeFile, FakeInteraction
from tests.cogs.conftest import World, png_bytes

MANAGE_SERVER = MEMBER_PERMISSIONS | (1 << 5)
MEMBER = MEMBER_PERMISSIONS
FRIEND, MANAGER, GUILD_MANAGER_2 = 7771, 7772, 7773


def said(interaction: FakeInteraction) -> str:
    """Every message the bot sent for this interaction (its reply, deferred or not, and the followups)."""
    texts = [cb["data"].get("content", "") for cb in interaction.callbacks if cb["type"] == 4 and cb.get("data")]
    return "\n".join(texts + [m.content for m in interaction.messages if m.content])


async def answer(world: World, interaction: FakeInteraction) -> str:
    await world.wait_for(lambda: said(interaction))
    return said(interaction)


async def save_character(
    world: World, name: str, *, colour: str = "orange", user_id: int | None = None, **options: object
) -> FakeInteraction:
    """`/characters save` with a fresh image; returns the interaction once the bot has answered."""
    extra = {"user_id": user_id} if user_id is not None else {}
    interaction = await world.discord.send_command(
        "characters save",
        {"name": name, **{k: v for k, v in options.items() if k != "member_permissions"}},
        attachments={"image": FakeFile(f"{colour}.png", png_bytes((80, 60), colour), "image/png")},
        member_permissions=options.get("member_permissions"),  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )
    await answer(world, interaction)
    return interaction


def choices(interaction: FakeInteraction) -> list[str]:
    return [choice["value"] for choice in interaction.autocomplete_choices or []]


async def autocomplete(world: World, command: str, options: dict, focused: str, **kwargs: object) -> list[str]:
    interaction = await world.discord.autocomplete(command, options, focused, **kwargs)  # type: ignore[arg-type]
    await world.wait_for(lambda: interaction.autocomplete_choices is not None)
    return choices(interaction)
