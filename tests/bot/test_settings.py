"""Settings: `.env.example` stays in step, and a bad setting stops the bot with one line naming it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.scenario import DEFAULT_BASE_URL
from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"DISCORD_TOKEN": "tok.en.secret-value", "SCENARIO_SDK_API_KEY": "k-123", "SCENARIO_SDK_API_SECRET": "s-456"}
NAMES = [name.upper() for name in Settings.model_fields]


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A working directory with no `.env`, no setting in the environment but the required ones."""
    monkeypatch.chdir(tmp_path)
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def rejected(environ: pytest.MonkeyPatch, name: str, value: str) -> str:
    """Set one variable, expect load_settings to refuse it, and return the message."""
    environ.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return str(caught.value)


def example_names() -> list[str]:
    text = (ROOT / ".env.example").read_text()
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE)


def test_env_example_lists_every_setting_once() -> None:
    names = example_names()
    assert len(names) == len(set(names))
    assert set(names) == set(NAMES)


def test_env_example_copied_as_is_gives_the_defaults(environ: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`cp .env.example .env` plus the three secrets: every value in it is valid and is the default."""
    for name in REQUIRED:
        environ.delenv(name)
    example = (ROOT / ".env.example").read_text()
    filled = re.sub(r"^(DISCORD_TOKEN|SCENARIO_SDK_API_KEY|SCENARIO_SDK_API_SECRET)=$", r"\1=x", example, flags=re.M)
    (tmp_path / ".env").write_text(filled)
    settings = load_settings()
    for name, field in Settings.model_fields.items():
        if not field.is_required():
            assert getattr(settings, name) == field.default, name


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in example_names() if f"`{name}`" not in readme]
    assert not missing, f"README's settings table lacks {missing}"


def test_defaults_and_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.scenario_base_url == "https://api.cloud.scenario.com/v1" == DEFAULT_BASE_URL
    assert settings.database_url == "sqlite:///data/bot.db"
    assert settings.max_parallel_jobs == "auto"
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


def test_an_empty_variable_counts_as_unset(environ: pytest.MonkeyPatch) -> None:
    for name in ("SCENARIO_BASE_URL", "DATABASE_URL", "MAX_PARALLEL_JOBS", "LOG_LEVEL", "DEV_GUILD_ID"):
        environ.setenv(name, "")
    settings = load_settings()
    assert settings.scenario_base_url == DEFAULT_BASE_URL
    assert settings.database_url == "sqlite:///data/bot.db"
    assert (settings.max_parallel_jobs, settings.log_level, settings.dev_guild_id) == ("auto", "INFO", None)
    assert "DISCORD_TOKEN is required but not set" in rejected(environ, "DISCORD_TOKEN", "")


@pytest.mark.parametrize(("value", "level"), [("debug", "DEBUG"), ("Warning", "WARNING"), (" error ", "ERROR")])
def test_log_level_is_upper_cased(environ: pytest.MonkeyPatch, value: str, level: str) -> None:
    environ.setenv("LOG_LEVEL", value)
    assert load_settings().log_level == level


@pytest.mark.parametrize("value", ["verbose", "TRACE", "critical", "10"])
def test_an_unknown_log_level_is_a_configuration_error(environ: pytest.MonkeyPatch, value: str) -> None:
    message = rejected(environ, "LOG_LEVEL", value)
    assert message.startswith("LOG_LEVEL is invalid: ")
    assert "DEBUG" in message and "ERROR" in message
    assert value.lower() not in message.lower()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///data/bot.db",
        "sqlite:////var/lib/bot/bot.db",
        "sqlite:///:memory:",
        "postgresql://bot:s3cret@db.example:5432/bot",
        "postgres://bot@localhost/bot",
        "postgresql:///bot?host=/var/run/postgresql",
    ],
)
def test_database_url_forms_that_are_accepted(environ: pytest.MonkeyPatch, url: str) -> None:
    environ.setenv("DATABASE_URL", url)
    assert load_settings().database_url == url


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("mysql://bot:hunter2@db/bot", "hunter2"),
        ("data/hunter2.db", "hunter2"),
        ("sqlite:hunter2.db", "hunter2"),
        ("sqlite://hunter2/bot.db", "hunter2"),
        ("sqlite:///hunter2.db?mode=ro", "hunter2"),
        ("sqlite:///hunter2/", "hunter2"),
        ("sqlite:///", ""),  # nothing secret to leak: the hint itself spells this prefix
        ("postgresql://bot:hunter2/x@db/bot", "hunter2"),
        ("postgres://bot@db:hunter2/bot", "hunter2"),
    ],
)
def test_a_malformed_database_url_is_named_without_its_value(
    environ: pytest.MonkeyPatch, url: str, secret: str
) -> None:
    message = rejected(environ, "DATABASE_URL", url)
    assert message.startswith("DATABASE_URL is invalid: ")
    assert "Value error" not in message
    assert not secret or secret not in message


@pytest.mark.parametrize(
    "url",
    ["not-a-url", "ftp://host.example", "http:///v1", "https://:443/v1", "http://host.example:port/v1", "http://a b"],
)
@pytest.mark.parametrize("name", ["SCENARIO_BASE_URL", "DISCORD_API_BASE_URL"])
def test_a_base_url_needs_a_scheme_and_a_host(environ: pytest.MonkeyPatch, name: str, url: str) -> None:
    message = rejected(environ, name, url)
    assert message.startswith(f"{name} is invalid: ")
    assert url not in message


# One malformed value for every setting (a new setting must add one); each must be refused, by name, with
# no trace of the value. tests/e2e/test_process.py checks the same through `python -m bot`.
MALFORMED = {
    "DISCORD_TOKEN": "",
    "SCENARIO_SDK_API_KEY": "",
    "SCENARIO_SDK_API_SECRET": "",
    "SCENARIO_BASE_URL": "api.cloud.scenario.com/v1",
    "DISCORD_API_BASE_URL": "ws://proxy.example/api/v10",
    "DATABASE_URL": "bot.db",
    "DEV_GUILD_ID": "my-guild",
    "MAX_PARALLEL_JOBS": "lots",
    "MAX_QUEUED_PER_USER": "1000",
    "JOB_LEASE_SECONDS": "1",
    "JOB_TIMEOUT_SECONDS": "-15",
    "SCENARIO_TIMEOUT_SECONDS": "abc",
    "MAX_ATTACHMENT_MB": "1e999",
    "STATUS_MODE": "sometimes",
    "STATUS_TICK_SECONDS": "0.01",
    "SCENARIO_WEBHOOK_PORT": "70000",
    "MESSAGE_CONTENT_INTENT": "maybe",
    "METRICS_PORT": "9100/tcp",
    "METRICS_HOST": "http://0.0.0.0",
    "BUDGET_USER_DAILY_CU": "-5",
    "BUDGET_SERVER_MONTHLY_CU": "lots",
    "BUDGET_TOTAL_MONTHLY_CU": "nan",
    "CONFIRM_ABOVE_CU": "12cu",
    "LOG_LEVEL": "verbose",
    "LOG_FORMAT": "logfmt",
    "SHARD_COUNT": "two",
    "SHARD_IDS": "0;1",
}


def test_every_setting_has_a_malformed_example() -> None:
    assert set(MALFORMED) == set(NAMES)


@pytest.mark.parametrize(("name", "value"), sorted(MALFORMED.items()))
def test_every_malformed_setting_is_refused_by_name(environ: pytest.MonkeyPatch, name: str, value: str) -> None:
    message = rejected(environ, name, value)
    assert message.startswith(name) and "\n" not in message
    assert not value or value.lower() not in message.lower()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEV_GUILD_ID", "0"),
        ("DEV_GUILD_ID", "-5"),
        ("DEV_GUILD_ID", str(2**64)),  # a snowflake is 64 bits
        ("MAX_ATTACHMENT_MB", "inf"),  # int(inf) would crash max_attachment_bytes
        ("MAX_ATTACHMENT_MB", "nan"),
        ("JOB_TIMEOUT_SECONDS", "inf"),
        ("SCENARIO_TIMEOUT_SECONDS", "nan"),
        ("METRICS_PORT", "65536"),
        ("METRICS_PORT", "-1"),
    ],
)
def test_numbers_out_of_range_are_refused(environ: pytest.MonkeyPatch, name: str, value: str) -> None:
    assert rejected(environ, name, value).startswith(f"{name} is invalid")


def test_an_unreadable_dotenv_is_one_line(environ: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"LOG_LEVEL=\xff\xfe\n")
    with pytest.raises(SettingsError, match=r"^\.env could not be read: it is not UTF-8 text$"):
        load_settings()


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


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "metrics.bot-net.internal"])
def test_metrics_host_takes_an_address_or_a_host_name(environ: pytest.MonkeyPatch, host: str) -> None:
    environ.setenv("METRICS_HOST", host)
    environ.setenv("METRICS_PORT", "9100")
    settings = load_settings()
    assert (settings.metrics_host, settings.metrics_port) == (host, 9100)


def test_metrics_are_off_unless_a_port_is_set(environ: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.metrics_port, settings.metrics_host) == (None, "127.0.0.1")


# -- the gateway split between processes (README: "Running more than one process") -------------------------


def test_shards_are_unset_by_default_so_discord_recommends_the_count(environ: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.shard_count, settings.shard_ids) == (None, None)


@pytest.mark.parametrize(
    ("count", "ids", "expected"),
    [("2", "0", (0,)), ("2", "1", (1,)), ("4", "0,2", (0, 2)), ("4", " 3 , 1 ", (3, 1)), ("2", None, None)],
)
def test_shard_ids_are_a_comma_list_below_the_count(
    environ: pytest.MonkeyPatch, count: str, ids: str | None, expected: tuple[int, ...] | None
) -> None:
    environ.setenv("SHARD_COUNT", count)
    if ids is not None:
        environ.setenv("SHARD_IDS", ids)
    settings = load_settings()
    assert (settings.shard_count, settings.shard_ids) == (int(count), expected)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT is invalid: must be a whole number of 1 or more"),
        ({"SHARD_COUNT": "-2"}, "SHARD_COUNT is invalid: must be a whole number of 1 or more"),
        ({"SHARD_COUNT": "1.5"}, "SHARD_COUNT is invalid: must be a whole number of 1 or more"),
        ({"SHARD_IDS": "0"}, "SHARD_IDS is invalid: needs SHARD_COUNT, the number of shards across all processes"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "SHARD_IDS is invalid: must be below SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,5"}, "SHARD_IDS is invalid: must be below SHARD_COUNT"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "1,1"}, "SHARD_IDS is invalid: names a shard twice"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "[0, 1]"}, "SHARD_IDS is invalid: must be a comma-separated list"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,,1"}, "SHARD_IDS is invalid: must be a comma-separated list"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "-1"}, "SHARD_IDS is invalid: must be a comma-separated list"),
    ],
)
def test_a_bad_shard_setting_is_one_line_naming_it(
    environ: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        environ.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_python_m_bot_refuses_shard_ids_past_the_count_with_exit_2(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SHARD_")}
    env.update(REQUIRED, SHARD_COUNT="2", SHARD_IDS="0,2")
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SHARD_IDS is invalid: must be below SHARD_COUNT: shards are numbered from 0 to "
        "SHARD_COUNT-1"
    ]
