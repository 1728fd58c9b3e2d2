"""Blocked terms: whole words or `/regular expressions/`, case-insensitive, checked safely.

A regular expression is refused when it is added if it does not compile, is longer than `MAX_PATTERN_LENGTH`,
nests a repetition inside another (`(a+)+`, `(\\w*\\s?)*`: the classic catastrophic backtracking shape), or
takes longer than `PROBE_SECONDS` on any of a few hostile probe strings. Matching uses the `regex` library's
own `timeout`, so even a pattern that slipped through cannot stall the bot: a prompt whose check runs out of
time is refused like a match (nothing is spent on a prompt that could not be checked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import regex

from bot.errors import InvalidInputError

MAX_PATTERN_LENGTH = 200
MAX_WORD_LENGTH = 100
PROBE_SECONDS = 0.25
MATCH_SECONDS = 0.1
_FLAGS = regex.IGNORECASE | regex.VERSION0
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


class TermTimeout(Exception):
    """A blocked pattern took too long on a prompt."""


def is_pattern(term: str) -> bool:
    """`/…/` is a regular expression; anything else a whole word (or phrase)."""
    return len(term) > 2 and term.startswith("/") and term.endswith("/")


def normalize(term: str) -> str:
    """The term as stored: a word trimmed and lower-cased, a pattern as written. InvalidInputError if unusable."""
    term = term.strip()
    if not term:
        raise InvalidInputError("Give a word, or a regular expression between slashes like `/colou?r/`.")
    if is_pattern(term):
        check_pattern(term[1:-1])
        return term
    if len(term) > MAX_WORD_LENGTH:
        raise InvalidInputError(f"A blocked word can be at most {MAX_WORD_LENGTH} characters long.")
    return " ".join(term.lower().split())


def check_pattern(pattern: str) -> None:
    """Refuse a regular expression that is invalid, too long, or can backtrack catastrophically."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidInputError(f"That regular expression is longer than {MAX_PATTERN_LENGTH} characters.")
    try:
        compiled = regex.compile(pattern, _FLAGS)
        # The standard library's own parser (private, but stable since 3.11) gives the pattern's structure.
        parsed = re._parser.parse(pattern, re.IGNORECASE)  # type: ignore[attr-defined]
    except (regex.error, re.error, RecursionError, OverflowError) as exc:
        raise InvalidInputError(f"That is not a valid regular expression ({exc}).") from None
    if _nested_repeat(parsed, inside_repeat=False):
        raise InvalidInputError(
            "That regular expression repeats something that itself repeats (like `(a+)+`), which can take "
            "forever on some prompts. Rewrite it without the nested repetition."
        )
    for probe in _probes(pattern):
        try:
            compiled.search(probe, timeout=PROBE_SECONDS)
        except TimeoutError:
            raise InvalidInputError(
                "That regular expression takes too long on some prompts (catastrophic backtracking). Simplify it."
            ) from None


def _nested_repeat(items: Iterable[tuple[object, object]], *, inside_repeat: bool) -> bool:
    """Whether a repetition of more than one occurrence contains another such repetition."""
    for op, arg in items:
        name = str(op)
        if name in _REPEATS:
            _low, high, sub = arg  # type: ignore[misc]
            repeats = high > 1  # MAXREPEAT (unbounded) is a large int
            if repeats and inside_repeat:
                return True
            if _nested_repeat(sub, inside_repeat=inside_repeat or repeats):
                return True
            continue
        # Groups, alternatives and lookarounds hold sub-patterns: look inside them.
        children = [arg[-1]] if name in ("SUBPATTERN", "ASSERT", "ASSERT_NOT", "ATOMIC_GROUP") else []
        if name == "BRANCH":
            children = list(arg[1])  # type: ignore[index]
        if any(_nested_repeat(child, inside_repeat=inside_repeat) for child in children):
            return True
    return False


def _probes(pattern: str) -> list[str]:
    """Strings that make a backtracking pattern work hard: long runs of its own characters, then a misfit."""
    letters = "".join(dict.fromkeys(ch for ch in pattern if ch.isalnum())) or "a"
    return [
        "a" * 3000 + "!",
        letters * (3000 // len(letters)) + "!",
        " ".join([letters] * 500) + "!",
        "".join(ch * 40 for ch in letters) * 10 + "\x00",
    ]


@lru_cache(maxsize=1024)
def _compiled(term: str) -> regex.Pattern[str]:
    if is_pattern(term):
        return regex.compile(term[1:-1], _FLAGS)
    words = r"\s+".join(regex.escape(word) for word in term.split())
    return regex.compile(rf"(?<!\w){words}(?!\w)", _FLAGS)


def first_match(prompt: str, terms: Iterable[str]) -> str | None:
    """The first blocked term the prompt contains, or None. TermTimeout when a pattern runs out of time."""
    for term in terms:
        try:
            if _compiled(term).search(prompt, timeout=MATCH_SECONDS):
                return term
        except TimeoutError:
            raise TermTimeout(term) from None
        except regex.error:
            continue  # a stored pattern this version cannot compile: it cannot match either
    return None
