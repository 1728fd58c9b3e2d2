"""The Dockerfile as Docker's own parser reads it: base image, user, health check, signal, entrypoint, contents."""

from __future__ import annotations

import re

import dockerfile
import pytest

from tests.docker._replay import REPO

COMMANDS = dockerfile.parse_file(str(REPO / "Dockerfile"))
PRODUCT = {"pyproject.toml", "README.md", "bot", "cogs"}
"""All the image may copy: what `pip install .` needs, and the two packages it installs."""


def instructions(name: str) -> list[dockerfile.Command]:
    """Every instruction of one kind, in file order."""
    return [c for c in COMMANDS if c.cmd == name]


def only(name: str) -> dockerfile.Command:
    """The one instruction of a kind the image must have exactly once."""
    found = instructions(name)
    assert len(found) == 1, f"the Dockerfile should have one {name}, has {len(found)}"
    return found[0]


def image_env() -> dict[str, str]:
    """The variables the image sets."""
    return {k: v for c in instructions("ENV") for k, v in zip(c.value[::2], c.value[1::2], strict=True)}


def test_one_stage_on_python_3_11_slim() -> None:
    base = only("FROM").value[0]
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", base), base


def test_runs_as_a_non_root_user_it_creates() -> None:
    user = only("USER")
    name = user.value[0].split(":")[0]
    assert name not in ("root", "0"), "the bot must not run as root"
    assert user.start_line < only("ENTRYPOINT").start_line, "the entrypoint runs as the user"
    creates = [c for c in instructions("RUN") if c.start_line < user.start_line]
    useradd = next((c.value[0] for c in creates if re.search(rf"\buseradd\b.*\b{name}\b", c.value[0])), None)
    assert useradd, f"no RUN creates the user {name!r} before USER"
    uid = re.search(r"--uid[ =](\d+)", useradd)
    assert uid and int(uid[1]) >= 1000, "a fixed, unprivileged uid keeps volume ownership stable across rebuilds"
    assert re.search(rf"\bchown\b[^&]*\b{name}\b[^&]*/app/data", useradd), "the user owns the data volume"


def test_the_entrypoint_is_python_m_bot_in_exec_form() -> None:
    entry = only("ENTRYPOINT")
    # Exec (JSON) form: python is PID 1 and gets docker stop's SIGTERM itself, not a shell in front of it.
    assert entry.json and list(entry.value) == ["python", "-m", "bot"]
    # A CMD would be appended to the entrypoint as arguments: `python -m bot` alone runs the bot.
    assert not instructions("CMD")
    assert only("STOPSIGNAL").value == ("SIGTERM",)


def test_healthcheck_calls_healthz_with_the_standard_library() -> None:
    check = only("HEALTHCHECK")
    kind, *command = check.value
    assert kind == "CMD"
    text = " ".join(command)
    assert "/healthz" in text
    assert "urllib.request" in text and not re.search(r"\b(curl|wget)\b", text), "the slim image has no curl"
    assert "127.0.0.1:${METRICS_PORT}/" in text, "the check follows METRICS_PORT, also when `docker run -e` sets it"
    flags = dict(flag.removeprefix("--").split("=", 1) for flag in check.flags)
    seconds = {k: int(v.removesuffix("s")) for k, v in flags.items() if k != "retries"}
    assert set(seconds) == {"interval", "timeout", "start-period"} and int(flags["retries"]) >= 1
    assert seconds["timeout"] < seconds["interval"]
    timeout_inside = re.search(r"timeout=(\d+)", text)
    assert timeout_inside and int(timeout_inside[1]) < seconds["timeout"], "the check gives up before Docker kills it"


def test_the_health_endpoint_is_on_and_exposed() -> None:
    env = image_env()
    assert env["METRICS_HOST"] == "0.0.0.0", "reachable through a published port, not only inside the container"
    assert env["METRICS_PORT"] in only("EXPOSE").value


@pytest.mark.parametrize("command", instructions("COPY"), ids=lambda c: c.original)
def test_copies_only_the_product(command: dockerfile.Command) -> None:
    *sources, _ = command.value
    assert set(sources) <= PRODUCT, "the fakes, tests and benchmarks stay out of the image"
