"""`.dockerignore`: the replay's reading matches Docker's, and the repository's file keeps secrets and fakes out."""

from __future__ import annotations

import pytest

from tests.docker._dockerignore import DockerIgnore
from tests.docker._replay import REPO


@pytest.mark.parametrize(
    ("lines", "path", "excluded"),
    [
        (["*.pyc"], "a.pyc", True),
        (["*.pyc"], "bot/a.pyc", False),  # Docker matches from the context's root, unlike .gitignore
        (["**/*.pyc"], "a.pyc", True),
        (["**/*.pyc"], "bot/jobs/a.pyc", True),
        (["**/__pycache__"], "bot/__pycache__/app.cpython-311.pyc", True),  # a matched folder takes its files
        (["tests"], "tests/bot/test_settings.py", True),
        (["tests"], "bot/tests/x.py", False),
        ([".env"], ".env.example", False),
        (["*.egg-info"], "scenario_ideogram_bot.egg-info/PKG-INFO", True),
        (["/data"], "data/bot.db", True),
        (["bench/"], "bench/load.py", True),
        (["# bot", "cogs"], "bot/app.py", False),
        (["b?t"], "bot/app.py", True),
        (["docs", "!docs/keep.md"], "docs/keep.md", False),
        (["docs", "!docs/keep.md"], "docs/other.md", True),
        (["**"], "anything/at/all", True),
    ],
)
def test_patterns_match_as_docker_matches_them(lines: list[str], path: str, excluded: bool) -> None:
    assert DockerIgnore(lines).excludes(path) is excluded


IGNORE = DockerIgnore.read(REPO / ".dockerignore")


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".git/config",
        ".venv/bin/python",
        "fakes/__init__.py",
        "tests/conftest.py",
        "bench/load.py",
        "bot/__pycache__/app.cpython-311.pyc",
        "cogs/stray.pyc",
        "data/bot.db",
        "scenario_ideogram_bot.egg-info/PKG-INFO",
    ],
)
def test_the_context_leaves_out(path: str) -> None:
    assert IGNORE.excludes(path)


@pytest.mark.parametrize("path", ["pyproject.toml", "README.md", "bot/__main__.py", "cogs/__init__.py"])
def test_the_context_keeps_what_the_image_copies(path: str) -> None:
    assert not IGNORE.excludes(path)
