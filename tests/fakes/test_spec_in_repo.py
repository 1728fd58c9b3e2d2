"""The repository stands alone: Discord's OpenAPI spec (MIT) is kept inside it, with its licence."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.discord._openapi import SPEC_ENV, default_spec_path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = "/".join(("..", "shared"))
"""The team's reference folder beside a developer's checkout, which a user's clone does not have (the text is
assembled so this test, which looks for it, does not contain it)."""


def test_the_default_spec_is_inside_the_repository_with_its_licence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPEC_ENV, raising=False)
    spec = default_spec_path().resolve()

    assert spec.is_relative_to(ROOT)
    assert spec.is_file() and spec.stat().st_size > 100_000
    assert "MIT License" in (spec.parent / "LICENSE").read_text(encoding="utf-8")


def test_the_environment_may_still_point_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "spec.json"))
    assert default_spec_path() == tmp_path / "spec.json"


def test_no_test_or_tool_reaches_outside_the_clone() -> None:
    offenders = [
        path.relative_to(ROOT).as_posix()
        for folder in ("bot", "cogs", "fakes", "tests", "bench", ".ci")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
        and path.suffix in {".py", ""}
        and path != Path(__file__)
        and OUTSIDE in path.read_text(encoding="utf-8", errors="ignore")
    ]
    assert offenders == []
