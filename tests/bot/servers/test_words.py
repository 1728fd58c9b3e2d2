"""Blocked terms: whole words or /patterns/, case-insensitive; unsafe patterns refused when added."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInputError
from bot.servers import first_match, normalize
from bot.servers._words import TermTimeout


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("A GORE scene", "gore"),
        ("gore.", "gore"),
        ("gorgeous", None),
        ("ungore", None),
        ("a very  Bad   Word here", "bad word"),
        ("a c4t", "/c[a4]t/"),
        ("concatenate", "/c[a4]t/"),  # a pattern matches wherever it matches: the admin chose it
    ],
)
def test_words_match_whole_and_patterns_anywhere_ignoring_case(prompt: str, expected: str | None) -> None:
    terms = [normalize("Gore"), normalize("bad   WORD"), normalize("/c[a4]t/")]
    assert first_match(prompt, terms) == expected


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("/(a+)+/", "repeats something that itself repeats"),
        ("/(\\w+\\s?)*$/", "repeats something that itself repeats"),
        ("/((ab)*c)+/", "repeats something that itself repeats"),
        ("/(a|aa)+$/", "takes too long"),
        ("/(/", "not a valid"),
        ("/" + "a" * 201 + "/", "longer than"),
    ],
)
def test_unsafe_or_invalid_patterns_are_refused(pattern: str, why: str) -> None:
    with pytest.raises(InvalidInputError, match=why):
        normalize(pattern)


def test_bounded_repeats_and_plain_patterns_are_fine() -> None:
    for pattern in ("/colou?r/", "/(ab){2}c+/", "/^free \\w+$/", "/[0-9]{3}-[0-9]{4}/"):
        assert normalize(pattern) == pattern


def test_a_pattern_that_runs_out_of_time_on_a_prompt_counts_as_unchecked() -> None:
    # Stored before the rules existed (or by hand): matching has its own timeout.
    with pytest.raises(TermTimeout):
        first_match("a" * 5000 + "!", ["/(a|aa)+$/"])


def test_empty_and_overlong_words_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        normalize("   ")
    with pytest.raises(InvalidInputError):
        normalize("x" * 101)
