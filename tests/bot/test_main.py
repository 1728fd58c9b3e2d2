"""`python -m bot`'s command line: help without any setting, the demo, and unknown commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot.__main__ as entry

SECRET_NAMES = ("DISCORD_TOKEN", "SCENARIO_SDK_API_KEY", "SCENARIO_SDK_API_SECRET")


def python_m_bot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` in `cwd` (no `.env` there) with no secret in its environment."""
    env = {key: value for key, value in os.environ.items() if key not in SECRET_NAMES}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command reads a setting."""

    def refuse(**overrides: object) -> None:
        raise AssertionError("settings were read")

    monkeypatch.setattr(entry, "load_settings", refuse)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_commands_and_reads_no_setting(
    flag: str, no_settings: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert entry.main([flag]) == 0
    out = capsys.readouterr().out
    for command in ("python -m bot ", "python -m bot demo [--out DIR] [--job-seconds N]", "python -m fakes.sandbox"):
        assert command in out
    assert "--host H --port P" in out
    assert "README.md" in out and '"Settings"' in out and ".env.example" in out


def test_help_works_with_no_configuration_at_all(tmp_path: Path) -> None:
    result = python_m_bot("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "python -m bot demo" in result.stdout
    assert result.stderr == ""


def test_an_unknown_command_is_one_line_pointing_to_help(no_settings: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["frobnicate"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "frobnicate" in lines[0] and "--help" in lines[0]
    assert captured.out == ""


def test_an_unknown_command_exits_2_from_the_shell(tmp_path: Path) -> None:
    result = python_m_bot("frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--help" in result.stderr
    assert "Configuration error" not in result.stderr


def test_demo_help_shows_the_demos_own_options(tmp_path: Path) -> None:
    result = python_m_bot("demo", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--out" in result.stdout and "--job-seconds" in result.stdout


def test_the_demo_without_the_fakes_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, no_settings: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # What a plain `pip install .` gives: the fakes' extra dependency is missing, so they cannot be imported.
    monkeypatch.setitem(sys.modules, "fakes.demo", None)
    assert entry.main(["demo"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and 'pip install -e ".[sandbox]"' in lines[0]
