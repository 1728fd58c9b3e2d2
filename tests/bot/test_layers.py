"""The shape of the product: the core never depends on the Discord face or on the test fakes."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHERS = {"bot/__main__.py", "bot/sandbox.py"}
"""Entry points that hand `demo` and the sandbox over to the fakes, when they are installed."""


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


CORE = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "bot").rglob("*.py"))


@pytest.mark.parametrize("module", CORE)
def test_the_core_imports_no_cog_and_no_fake(module: str) -> None:
    top_levels = {name.split(".")[0] for name in imported_modules(ROOT / module)}
    assert "cogs" not in top_levels
    if module not in LAUNCHERS:
        assert not top_levels & {"fakes", "jsonschema", "tests"}


def test_the_product_package_holds_no_fakes() -> None:
    assert not (ROOT / "bot" / "fakes").exists()
    assert (ROOT / "fakes" / "scenario").is_dir() and (ROOT / "fakes" / "discord").is_dir()


def test_jsonschema_is_only_a_sandbox_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = " ".join(project["dependencies"]).lower()
    assert "jsonschema" not in runtime
    assert any("jsonschema" in dep for dep in project["optional-dependencies"]["sandbox"])
    assert any("[sandbox]" in dep for dep in project["optional-dependencies"]["test"])


def test_the_docker_image_copies_only_the_product() -> None:
    copied = re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)", (ROOT / "Dockerfile").read_text(), flags=re.M)
    assert "fakes" not in " ".join(copied) and "tests" not in copied and "." not in copied
    assert {"bot", "cogs"} <= set(copied)
