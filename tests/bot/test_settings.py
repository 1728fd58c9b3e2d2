"""Settings: `.env.example` stays in step, and a bad setting stops the bot with one line naming it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"DISCORD_TOKEN": "tok.en.secret-value", "SCENARIO_SDK_API_KEY": "k-123", "SCENARIO_SDK_API_SECRET": "s-456"}


def example_names() -> list[str]:
    text = (ROOT / ".env.example").read_text()
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE)


def test_env_example_lists_every_setting_once() -> None:
    names = example_names()
    assert len(names) == len(set(names))
    assert set(names) == {name.upper() for name in Settings.model_fields}


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in example_names() if f"`{name}`" not in readme]
    assert not missing, f"README's settings table lacks {missing}"


def test_defaults_and_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.scenario_base_url == "https://api.cloud.scenario.com/v1"
    assert settings.database_url == "sqlite:///data/bot.db"
    assert settings.max_parallel_jobs == 3
    assert settings.dev_guild_id is None
    assert "tok.en.secret-value" not in repr(settings)


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [*REQUIRED, "DEV_GUILD_ID"]:
        monkeypatch.delenv(name, raising=False)
    lines = [f"{name}={value}" for name, value in REQUIRED.items()]
    (tmp_path / ".env").write_text("\n".join([*lines, "DEV_GUILD_ID=1234"]) + "\n")
    assert load_settings().dev_guild_id == 1234


def test_a_malformed_setting_is_named_without_its_value(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SCENARIO_BASE_URL", "ftp://secret-host.example")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "SCENARIO_BASE_URL" in str(caught.value)
    assert "secret-host" not in str(caught.value)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_python_m_bot_stops_at_once_naming_a_missing_variable(missing: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in REQUIRED}
    env.update({name: value for name, value in REQUIRED.items() if name != missing})
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    for value in REQUIRED.values():
        assert value not in result.stderr + result.stdout
