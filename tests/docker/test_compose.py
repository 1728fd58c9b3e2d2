"""docker-compose.yml as Compose reads it: PostgreSQL with a health check, and bot processes that split the shards.

No Docker engine needed: the file is parsed with PyYAML (anchors and `<<` merges resolved as Compose does),
`${NAME:-default}` filled in as Compose would with nothing set, and each bot's environment read with the bot's
own settings class, so a value the bot would refuse fails here.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from bot.settings import Settings
from tests.docker._replay import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SECRETS = {"discord_token": "t", "scenario_sdk_api_key": "k", "scenario_sdk_api_secret": "s"}
"""What `.env` supplies at run time (env_file), so the settings can be read here."""


def interpolate(value: Any, env: dict[str, str] | None = None) -> Any:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME-default}`, with `env` as the shell and .env."""
    env = env or {}
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, default = match["name"], match["op"], match["default"] or ""
        if op == ":-":
            return env.get(name) or default
        if op == "-":
            return env.get(name, default)
        return env.get(name, "")

    return re.sub(r"\$\{(?P<name>\w+)(?:(?P<op>:?-)(?P<default>[^}]*))?\}", one, value)


def environment(service: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    """A service's `environment`, as a mapping (Compose also takes a `NAME=value` list)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {k: str(v) for k, v in interpolate(raw, env).items()}


def bots() -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile: the bot processes."""
    found = {}
    for name, service in COMPOSE["services"].items():
        build = service.get("build")
        context = build if isinstance(build, str) else (build or {}).get("context")
        if context is not None:
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert (REPO / context / dockerfile).resolve() == REPO / "Dockerfile", name
            found[name] = service
    return found


def database_service() -> tuple[str, dict[str, Any]]:
    [(name, service)] = [
        (n, s) for n, s in COMPOSE["services"].items() if str(s.get("image", "")).startswith("postgres:")
    ]
    return name, service


def test_two_bot_processes_from_the_repositorys_dockerfile() -> None:
    assert len(bots()) == 2


def test_the_bots_split_every_shard_between_them_with_one_shard_count() -> None:
    shards = []
    for name, service in bots().items():
        env = environment(service)
        unknown = set(env) - {field.upper() for field in Settings.model_fields}
        assert not unknown, f"{name} sets variables the bot does not read: {unknown}"
        settings = Settings(_env_file=None, **SECRETS, **{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
        assert settings.shard_count is not None and settings.shard_ids, f"{name} must name its shards"
        shards.append((settings.shard_count, settings.shard_ids))
    counts = {count for count, _ in shards}
    assert len(counts) == 1, f"every process must agree on SHARD_COUNT: {counts}"
    ids = [shard for _, share in shards for shard in share]
    assert sorted(ids) == list(range(counts.pop())), "each shard in exactly one process, all of them covered"


@pytest.mark.parametrize("password", [None, "s3cretPassw0rd"])
def test_every_bot_stores_its_jobs_in_the_compose_database(password: str | None) -> None:
    shell = {"POSTGRES_PASSWORD": password} if password else {}
    db_name, db = database_service()
    db_env = environment(db, shell)
    for name, service in bots().items():
        url = urlsplit(environment(service, shell)["DATABASE_URL"])
        assert url.scheme in ("postgresql", "postgres"), name
        assert (url.hostname, url.port or 5432) == (db_name, 5432), f"{name} must reach the {db_name} service"
        assert unquote(url.username or "") == db_env.get("POSTGRES_USER", "postgres"), name
        assert unquote(url.password or "") == db_env["POSTGRES_PASSWORD"], name
        assert url.path.lstrip("/") == db_env.get("POSTGRES_DB", db_env.get("POSTGRES_USER", "postgres")), name
        if password:
            assert url.password == password


def test_the_bots_start_once_the_database_is_healthy_and_read_dot_env() -> None:
    db_name, db = database_service()
    check = db["healthcheck"]["test"]
    assert check[0] in ("CMD", "CMD-SHELL") and "pg_isready" in " ".join(check[1:])
    for name, service in bots().items():
        assert service["depends_on"][db_name]["condition"] == "service_healthy", name
        env_files = service.get("env_file")
        assert ".env" in ([env_files] if isinstance(env_files, str) else env_files), name
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"]), "jobs survive a restart"
