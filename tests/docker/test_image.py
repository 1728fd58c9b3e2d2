"""The replayed image: what it holds, how it starts without a token, and its health check's command.

The build is replayed once per session by the `image` fixture (`_replay.py` says what is replayed and what
cannot be without Docker). Nothing here needs the bot's /healthz endpoint: the health check's command is run
against a stand-in server, so what is proven is the command itself (standard library, exit codes, timeout).
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import subprocess
import threading
from collections.abc import Iterator

import pytest

from tests.docker._replay import Image

MISSING_TOKEN = "Configuration error: DISCORD_TOKEN is required but not set"


def test_only_user_management_was_skipped(image: Image) -> None:
    assert image.skipped, "the user is created by a RUN the replay skips"
    assert all("useradd" in line or "chown" in line for line in image.skipped), image.skipped
    assert image.user and image.user.split(":")[0] in " ".join(image.skipped)


def test_the_image_holds_the_product_and_nothing_else(image: Image) -> None:
    app = image.path(".")
    assert (app / "bot" / "__main__.py").is_file() and (app / "cogs" / "__init__.py").is_file()
    assert image.path("/app/data").is_dir(), "the volume's folder exists"
    copied = {p.relative_to(app).parts[0] for p in app.rglob("*")}
    for kept_out in ("fakes", "tests", "bench", ".env", ".git", ".venv"):
        assert kept_out not in copied, f"{kept_out} is in the image"
    assert not [p for p in app.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    (site,) = image.python.glob("lib/python3.*/site-packages")
    assert not (site / "fakes").exists() and not (site / "tests").exists()


def test_the_fakes_cannot_be_imported_and_the_bot_is_installed(image: Image) -> None:
    def python(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["python", "-c", code], cwd=cwd, env=image.environ(), capture_output=True, text=True, check=False
        )

    cwd = image.path(".")
    fakes = python("import fakes")
    assert fakes.returncode == 1 and "No module named 'fakes'" in fakes.stderr
    cwd = image.root / "home"  # outside /app: what `pip install --no-deps .` put in site-packages
    installed = python("import bot.__main__, cogs; print(bot.__file__)")
    assert installed.returncode == 0, installed.stderr
    assert "site-packages" in installed.stdout


IMPORT_ALL = """
import importlib, pkgutil, sys
import bot, cogs
names = [m.name for p in (bot, cogs) for m in pkgutil.walk_packages(p.__path__, p.__name__ + ".")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_every_module_of_the_product_imports_in_the_image(image: Image) -> None:
    # The start without a token stops before most of the bot is imported: a dependency missing from
    # pyproject.toml would otherwise show only on a real start.
    imported = subprocess.run(
        ["python", "-c", IMPORT_ALL],
        cwd=image.path("."),
        env=image.environ(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    assert int(imported.stdout) > 10


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({}, None, id="nothing-set"),
        pytest.param(
            {"SCENARIO_SDK_API_KEY": "key", "SCENARIO_SDK_API_SECRET": "secret"}, MISSING_TOKEN, id="only-token-missing"
        ),
    ],
)
def test_starting_without_a_token_stops_with_one_line(image: Image, extra: dict[str, str], expected: str) -> None:
    started = image.run(**extra)
    assert started.returncode == 2, started.stderr
    assert started.stdout == ""
    assert "Traceback" not in started.stderr
    (line,) = started.stderr.splitlines()
    assert line.startswith(MISSING_TOKEN)
    if expected is not None:
        assert line == expected


def test_arguments_reach_the_bot_through_the_entrypoint(image: Image) -> None:
    helped = image.run("--help")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: python -m bot")


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _server(behaviour: str) -> Iterator[int]:
    """A port where the bot would be: answering /healthz 200 or 503, refusing, or accepting and never answering."""
    if behaviour in ("ok", "unavailable"):
        handler = type("Handler", (_Health,), {"status": 200 if behaviour == "ok" else 503})
        with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield server.server_address[1]
            finally:
                server.shutdown()
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        if behaviour == "hanging":
            sock.listen()
        yield sock.getsockname()[1]  # not listening: the connection is refused


@pytest.mark.parametrize(
    ("behaviour", "healthy"), [("ok", True), ("unavailable", False), ("refused", False), ("hanging", False)]
)
def test_the_health_check_command(image: Image, behaviour: str, healthy: bool) -> None:
    assert image.healthcheck is not None
    _, *command = image.healthcheck.value
    argv = command if image.healthcheck.json else ["/bin/sh", "-c", command[0]]
    flags = dict(flag.removeprefix("--").split("=", 1) for flag in image.healthcheck.flags)
    docker_timeout = float(flags["timeout"].removesuffix("s"))
    with _server(behaviour) as port:
        checked = subprocess.run(
            argv,
            cwd=image.path("."),
            env=image.environ(METRICS_PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=docker_timeout,
            check=False,
        )
    # Docker reads 0 as healthy and 1 as unhealthy; 2 is reserved.
    assert checked.returncode == (0 if healthy else 1), checked.stderr
