"""The Dockerfile's build, replayed without a Docker engine.

`replay_build` reads the Dockerfile with Docker's own parser (the `dockerfile` package wraps BuildKit's Go
parser) and interprets its instructions in order into a temporary folder that stands for the image's `/`:

- **Replayed**: `WORKDIR` (a folder under that root), `ENV`, `COPY` from the repository honouring
  `.dockerignore` (`_dockerignore.py`), `VOLUME` (its folder is made), and every `RUN` whose commands are
  `python`/`pip` (heredocs included): run by `/bin/sh -c` in the working folder, with a fresh venv of the
  image's Python version first on `PATH`, so `python` and `pip` are the image's interpreter; pip reaches the
  package index as it is configured on this machine (its `PIP_*` settings and proxies are passed through).
- **Recorded, not executed**: `USER`, `EXPOSE`, `HEALTHCHECK`, `STOPSIGNAL`, `ENTRYPOINT`, `CMD`; the tests
  check them and run the entrypoint and the health check against the replayed folder.
- **Not replayable, skipped by name**: a `RUN` made only of user and permission management (`useradd`,
  `mkdir`, `chown`, ...): it needs root on the image's own filesystem. The base image itself is not there
  either: its Debian, its `/usr/local` Python and its default variables are stood in for by this machine's
  Python of the same minor version and `LANG=C.UTF-8`.

Anything else (`ADD`, `ARG`, `SHELL`, `ONBUILD`, several stages, `COPY --from`, wildcards, `$VARIABLES`, a
`RUN` mixing both kinds) raises `Unreplayable`: a new instruction fails the test until the replay learns it,
instead of passing unseen.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import dockerfile

from tests.docker._dockerignore import DockerIgnore

REPO = Path(__file__).resolve().parents[2]

REPLAYED_COMMANDS = frozenset({"python", "pip"})
SYSTEM_COMMANDS = frozenset({"useradd", "groupadd", "adduser", "addgroup", "mkdir", "chown", "chmod"})
BASE_ENV = {"LANG": "C.UTF-8"}
"""What python:3.*-slim sets besides PATH and its version numbers."""
_PASSED_TO_PIP = re.compile(r"PIP_\w+|(?i:https?_proxy|no_proxy)")


class Unreplayable(Exception):
    """The Dockerfile uses something the replay does not know how to do."""


@dataclass
class Image:
    """The replayed image: a folder standing for its `/`, its interpreter, and its recorded configuration."""

    root: Path
    python: Path
    """The venv standing for the image's interpreter; its `bin` comes first on `PATH`."""
    base: str = ""
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    healthcheck: dockerfile.Command | None = None
    stopsignal: str | None = None
    exposed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Each `RUN` not executed, as written."""

    def path(self, image_path: str) -> Path:
        """Where an image path (absolute, or relative to WORKDIR) lies in the replay folder."""
        absolute = PurePosixPath(self.workdir, image_path)
        return self.root.joinpath(*absolute.parts[1:])

    def environ(self, **extra: str) -> dict[str, str]:
        """The process environment a container of this image starts with, plus `extra` (`docker run -e`)."""
        path = f"{self.python / 'bin'}:/usr/local/bin:/usr/bin:/bin"
        return {**BASE_ENV, "PATH": path, "HOME": str(self.root / "home"), **self.env, **extra}

    @property
    def argv(self) -> list[str]:
        """What the container runs: ENTRYPOINT plus this file's CMD (setting ENTRYPOINT drops the base's)."""
        if self.entrypoint is not None:
            return [*self.entrypoint, *(self.cmd or [])]
        if self.cmd is None:
            raise Unreplayable("neither ENTRYPOINT nor CMD: the container would run the base image's command")
        return list(self.cmd)

    def run(self, *args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
        """`docker run IMAGE ARGS...` with `-e` for each of `extra`, in the replay folder."""
        return subprocess.run(
            [*self.argv, *args],
            cwd=self.path("."),
            env=self.environ(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def interpreter(version: str) -> str:
    """A Python of the base image's minor version on this machine (this one when it matches)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        raise Unreplayable(f"the image is Python {version}; the replay needs python{version} on PATH")
    return found


def replay_build(dockerfile_path: Path, context: Path, into: Path) -> Image:
    """Interpret the Dockerfile into `into` (the image's `/` in `into/root`, its Python in `into/python`)."""
    commands = dockerfile.parse_file(str(dockerfile_path))
    stages = [c for c in commands if c.cmd == "FROM"]
    if len(stages) != 1 or commands[0].cmd != "FROM":
        raise Unreplayable("the replay knows one stage, starting with FROM")
    base = stages[0].value[0]
    version = re.fullmatch(r"python:(\d+\.\d+)[\w.-]*", base)
    if version is None:
        raise Unreplayable(f"base image {base!r}: the replay stands in only for python:X.Y images")
    python = into / "python"
    subprocess.run([interpreter(version[1]), "-m", "venv", str(python)], check=True)
    image = Image(root=into / "root", python=python, base=base)
    replay_instructions(image, commands[1:], context)
    return image


def replay_instructions(image: Image, commands: list[dockerfile.Command], context: Path) -> None:
    """Interpret the instructions after FROM into `image`, in order, copying from `context`."""
    (image.root / "home").mkdir(parents=True, exist_ok=True)
    ignore = DockerIgnore.read(context / ".dockerignore")
    for command in commands:
        _replay(image, command, context, ignore)


def _replay(image: Image, command: dockerfile.Command, context: Path, ignore: DockerIgnore) -> None:
    where = f"line {command.start_line}: {command.original.splitlines()[0]}"
    if command.cmd in ("COPY", "WORKDIR", "ENV", "VOLUME", "USER") and any("$" in v for v in command.value):
        raise Unreplayable(f"{where}: variables are not substituted by the replay")
    match command.cmd:
        case "WORKDIR":
            image.workdir = str(PurePosixPath(image.workdir, command.value[0]))
            image.path(".").mkdir(parents=True, exist_ok=True)
        case "ENV":
            pairs = dict(zip(command.value[::2], command.value[1::2], strict=True))
            if any(re.search(r"[\"'\\]", v) for v in pairs.values()):
                raise Unreplayable(f"{where}: quoted ENV values are not unquoted by the replay")
            image.env.update(pairs)
        case "COPY":
            _copy(image, command, context, ignore, where)
        case "RUN":
            _run(image, command, where)
        case "VOLUME":
            for volume in command.value:
                image.path(volume).mkdir(parents=True, exist_ok=True)
        case "USER":
            image.user = command.value[0]
        case "ENTRYPOINT" | "CMD":
            argv = list(command.value) if command.json else ["/bin/sh", "-c", command.value[0]]
            setattr(image, command.cmd.lower(), argv)
        case "HEALTHCHECK":
            image.healthcheck = command
        case "STOPSIGNAL":
            image.stopsignal = command.value[0]
        case "EXPOSE":
            image.exposed.extend(command.value)
        case "LABEL":
            pass
        case _:
            raise Unreplayable(f"{where}: the replay does not know {command.cmd}")


def _copy(image: Image, command: dockerfile.Command, context: Path, ignore: DockerIgnore, where: str) -> None:
    """COPY from the context: a folder's contents, or files; ownership (`--chown`, `--chmod`) is not replayed."""
    if any(not flag.startswith(("--chown=", "--chmod=", "--link")) for flag in command.flags):
        raise Unreplayable(f"{where}: COPY flags {command.flags} are not replayed")
    *sources, destination = command.value
    if any(c in s for s in sources for c in "*?["):
        raise Unreplayable(f"{where}: wildcards are not replayed")
    target = image.path(destination)
    into_folder = destination.endswith("/") or len(sources) > 1
    for source in sources:
        relative = PurePosixPath(source)
        if relative.is_absolute() or ".." in relative.parts:
            raise Unreplayable(f"{where}: {source} is outside the context")
        if ignore.excludes(str(relative)) or not (context / relative).exists():
            raise Unreplayable(f"{where}: {source} is not in the build context (missing or in .dockerignore)")
        origin = context / relative
        if origin.is_dir():
            for file in sorted(origin.rglob("*")):
                inside = file.relative_to(context).as_posix()
                if file.is_file() and not ignore.excludes(inside):
                    copied = target / file.relative_to(origin)
                    copied.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, copied)
        else:
            copied = target / origin.name if into_folder else target
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, copied)


def _run(image: Image, command: dockerfile.Command, where: str) -> None:
    """A python/pip RUN through `/bin/sh -c` in the working folder; user management is skipped, noted."""
    if command.flags:  # --mount, --network, --security: what they change is not replayed
        raise Unreplayable(f"{where}: RUN flags {command.flags} are not replayed")
    line = command.value[0] if not command.json else " ".join(command.value)
    programs = {part.split()[0] for part in re.split(r"&&|\|\||;|\|", line) if part.strip()}
    if programs <= SYSTEM_COMMANDS:
        image.skipped.append(line)
        return
    if not programs <= REPLAYED_COMMANDS:
        raise Unreplayable(f"{where}: the replay runs python and pip, and skips {sorted(SYSTEM_COMMANDS)} alone")
    script = command.value if command.json else ["/bin/sh", "-c", _with_heredocs(command)]
    passed = {k: v for k, v in os.environ.items() if _PASSED_TO_PIP.fullmatch(k) and k not in image.env}
    env = {**passed, **image.environ()}
    result = subprocess.run(script, cwd=image.path("."), env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{where} failed with exit code {result.returncode}:\n{result.stdout}{result.stderr}")


def _with_heredocs(command: dockerfile.Command) -> str:
    """The shell script BuildKit runs for a RUN: its line, then each heredoc's body and terminator."""
    bodies = "".join(f"{heredoc.content}{heredoc.name}\n" for heredoc in command.heredocs)
    return f"{command.value[0]}\n{bodies}" if bodies else command.value[0]
