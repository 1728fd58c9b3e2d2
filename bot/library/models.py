"""What the library keeps: saved characters, saved styles and personal defaults, and their names' rules."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import utcnow
from bot.errors import InvalidInputError

NAME_MAX_LENGTH = 50
"""Short enough for an autocomplete choice (100) with a "shared" note, long enough for any sensible name."""
STYLE_TEXT_MAX_LENGTH = 1000
PROMPT_MARK = "{prompt}"


class NameTakenError(ValueError):
    """The store refused a name already used by the same owner, or by another shared item in the server."""


def new_item_id() -> str:
    """A short, custom_id-safe id (12 hex characters), like a job's."""
    return secrets.token_hex(6)


def name_key(name: str) -> str:
    """The form names are compared in: case-insensitive (Unicode case folding), spaces collapsed."""
    return " ".join(name.split()).casefold()


def check_name(name: str, what: str) -> str:
    """A clean display name, or the reply that says what is wrong with it."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InvalidInputError(f"The {what} needs a name, e.g. `Luna`.")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidInputError(
            f"The name is {len(cleaned)} characters long; a {what} name may have at most {NAME_MAX_LENGTH}."
        )
    if "\x00" in cleaned or any(not ch.isprintable() for ch in cleaned):
        raise InvalidInputError(f"The {what} name contains a character that cannot be shown. Use plain text.")
    return cleaned


class _Named:
    """What saved characters and styles share: a name compared case-insensitively, and a server if shared."""

    __slots__ = ()
    name: str
    guild_id: int | None

    @property
    def key(self) -> str:
        return name_key(self.name)

    @property
    def shared(self) -> bool:
        return self.guild_id is not None


@dataclass(frozen=True, slots=True)
class SavedCharacter(_Named):
    """A character saved once (its Scenario asset uploaded once) and reused by name.

    `guild_id` is set when the character is shared with that server; otherwise only `owner_id` sees it.
    `thumbnail` is a small image for `/characters list` (None when none could be made).
    """

    owner_id: int
    name: str
    asset_id: str
    guild_id: int | None = None
    thumbnail: bytes | None = None
    source_job_id: str | None = None
    id: str = field(default_factory=new_item_id)
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class SavedStyle(_Named):
    """A prompt template: `{prompt}` marks where the prompt goes; without it the text is appended."""

    owner_id: int
    name: str
    text: str
    guild_id: int | None = None
    id: str = field(default_factory=new_item_id)
    created_at: datetime = field(default_factory=utcnow)

    def apply(self, prompt: str) -> str:
        """The prompt as sent with this style."""
        return apply_style(self.text, prompt)


def apply_style(template: str, prompt: str) -> str:
    """`{prompt}` in the template is replaced by the prompt; a template without it is appended after a comma
    (or after a space when the prompt already ends with punctuation)."""
    if PROMPT_MARK in template:
        return template.replace(PROMPT_MARK, prompt.strip())
    prompt = prompt.rstrip()
    separator = " " if prompt.endswith((".", ",", ";", ":", "!", "?")) else ", "
    return f"{prompt}{separator}{template.strip()}"


@dataclass(frozen=True, slots=True)
class Preferences:
    """A person's own defaults for `/imagine` (speed also for `/character`); None = not set.

    Values are the commands' option values (`speed="turbo"`, `size="square_hd"`), not the API's.
    """

    user_id: int
    speed: str | None = None
    size: str | None = None
    count: int | None = None
    expand_prompt: bool | None = None

    OPTIONS = ("speed", "size", "count", "expand_prompt")

    def values(self) -> dict[str, object]:
        """The options this person has set."""
        return {name: getattr(self, name) for name in self.OPTIONS if getattr(self, name) is not None}
