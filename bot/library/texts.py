"""Every sentence the library says to a person: saved characters, saved styles and `/prefer`."""

from __future__ import annotations

KINDS = {"character": ("character", "/characters"), "style": ("style", "/styles")}


def not_found(kind: str, name: str) -> str:
    what, command = KINDS[kind]
    return (
        f"You have no saved {what} named `{name}`, and none is shared with this server. "
        f"`{command} list` shows the ones you can use."
    )


def name_taken(kind: str, name: str, shared: bool) -> str:
    what, command = KINDS[kind]
    where = "this server already has a shared one, or you have one," if shared else "you already have one"
    return (
        f"The {what} name `{name}` is taken ({where} — names ignore upper and lower case). "
        f"Pick another name, or `{command} delete` the old one first."
    )


def share_needs_a_server(kind: str) -> str:
    return f"`shared:true` shares a {kind} with a server: use it in a server, not in a DM."


def share_needs_manage_server(kind: str) -> str:
    return f"Only members with the Manage Server permission can share a {kind} with the whole server."


def not_yours(kind: str, name: str, action: str) -> str:
    return (
        f"Only the person who saved the {kind} `{name}` can {action} it "
        "(or, for one shared with the server, a member with Manage Server)."
    )


def saved_character(name: str, shared: bool) -> str:
    scope = "shared with everyone in this server" if shared else "yours alone"
    return (
        f"✅ Saved the character **{name}** ({scope}). Use it with `/character character:{name}` — "
        "its image is kept at Scenario, so nothing is uploaded again."
    )


def saved_style(name: str, shared: bool, example: str) -> str:
    scope = "shared with everyone in this server" if shared else "yours alone"
    return f"✅ Saved the style **{name}** ({scope}). `prompt: a cat` becomes:\n> {example}"


def renamed(old: str, new: str) -> str:
    return f"✅ Renamed the character **{old}** to **{new}**."


def deleted(kind: str, name: str) -> str:
    return f"🗑️ Deleted the {kind} **{name}**."


def reference_or_character(given_both: bool) -> str:
    if given_both:
        return "Give either `reference` (an image) or `character` (a saved character), not both."
    return "`/character` needs a character: attach a `reference` image, or pick a saved `character`."


def styled_prompt_too_long(name: str, length: int, limit: int) -> str:
    return (
        f"With the style `{name}` the prompt is {length} characters long; the limit is {limit}. "
        "Please shorten the prompt."
    )


def reserved_style_name(name: str) -> str:
    return f"`{name}` is one of /character's built-in styles (Auto, Fiction, Realistic); choose another name."


STYLE_TEXT_EMPTY = "The style needs some text, e.g. `{prompt}, watercolor, soft light` or `in pastel colors`."
EMPTY_LIBRARY = (
    "You have no saved characters yet. `/characters save` with a name and an image, or the **Save character** "
    "button under a result, adds one."
)
EMPTY_STYLES = "You have no saved styles yet. `/styles save` with a name and a text adds one."
