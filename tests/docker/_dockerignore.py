"""`.dockerignore` as Docker reads it, for the build replay.

A port of BuildKit's reader (`frontend/dockerfile/dockerignore`) and of moby/patternmatcher's
`MatchesOrParentMatches`: patterns are matched from the root of the context, so `*.pyc` matches only
`a.pyc` at the top, never `bot/a.pyc` (`**/*.pyc` does); a pattern that matches a folder excludes
everything under it; a later `!pattern` brings a path back in.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

_ESCAPED = set(".+()|{}$")


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """One cleaned pattern as a regular expression over slash-separated paths (patternmatcher's `compile`)."""
    regex = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*" and pattern[i : i + 1] == "*":
            i += 1
            if pattern[i : i + 1] == "/":  # "**/" is "**"
                i += 1
            regex += ".*" if i == len(pattern) else "(.*/)?"
        elif ch == "*":
            regex += "[^/]*"
        elif ch == "?":
            regex += "[^/]"
        elif ch in _ESCAPED:
            regex += "\\" + ch
        elif ch == "\\" and i < len(pattern):
            regex += "\\" + pattern[i]
            i += 1
        elif ch == "\\":
            regex += "\\\\"
        else:  # "[...]" classes pass through, as in Go
            regex += ch
    return re.compile(regex)


class DockerIgnore:
    """The patterns of one `.dockerignore`; `excludes(path)` says whether the build context leaves a path out."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.patterns: list[tuple[str, bool]] = []
        """(cleaned pattern, is an exclusion `!pattern`), in file order."""
        for number, raw in enumerate(lines):
            line = raw.rstrip("\r\n")
            if number == 0:
                line = line.removeprefix("\ufeff")
            if line.startswith("#"):  # a comment only at the very start of the line
                continue
            line = line.strip()
            if not line:
                continue
            exclusion = line.startswith("!")
            if exclusion:
                line = line[1:].strip()
            line = posixpath.normpath(line)
            if len(line) > 1 and line.startswith("/"):  # "/data" means "data" at the root of the context
                line = line.lstrip("/")
            self.patterns.append((line, exclusion))
        self._compiled = [(compile_pattern(p), exclusion) for p, exclusion in self.patterns]

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        """The file at `path`, or no patterns when there is none (Docker then sends the whole folder)."""
        return cls(path.read_text(encoding="utf-8").splitlines() if path.exists() else [])

    def excludes(self, path: str) -> bool:
        """Whether `path` (relative to the context, slash-separated) is left out of the build context."""
        path = posixpath.normpath(path)
        if path == ".":
            return False
        parts = path.split("/")[:-1]
        parents = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        matched = False
        for regex, exclusion in self._compiled:
            if exclusion != matched:  # an exclusion can only undo a match; a pattern only make one
                continue
            if regex.fullmatch(path) or any(regex.fullmatch(parent) for parent in parents):
                matched = not exclusion
        return matched
