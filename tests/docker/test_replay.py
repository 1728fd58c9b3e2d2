"""The replay itself: COPY as Docker copies, and a loud refusal of what it cannot replay (no venv needed)."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest

from tests.docker._replay import Image, Unreplayable, replay_instructions


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """A small build context: a package with a cache folder, a secret, the fakes, and a .dockerignore."""
    root = tmp_path / "context"
    for name in ("pkg/__init__.py", "pkg/sub/mod.py", "pkg/__pycache__/mod.cpython-311.pyc", "fakes/x.py", ".env"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    (root / "top.txt").write_text("top")
    (root / ".dockerignore").write_text("fakes\n.env\n**/__pycache__\n")
    return root


def replay(text: str, context: Path, tmp_path: Path) -> Image:
    """Replay Dockerfile text (after its FROM) into an image whose interpreter is never needed."""
    image = Image(root=tmp_path / "root", python=tmp_path / "no-python")
    replay_instructions(image, dockerfile.parse_string(text)[1:], context)
    return image


def test_copy_takes_a_folders_contents_without_ignored_files(context: Path, tmp_path: Path) -> None:
    image = replay("FROM python:3.11-slim\nWORKDIR /app\nCOPY pkg ./pkg\nCOPY top.txt ./\n", context, tmp_path)
    app = image.path("/app")
    files = sorted(p.relative_to(app).as_posix() for p in app.rglob("*") if p.is_file())
    assert files == ["pkg/__init__.py", "pkg/sub/mod.py", "top.txt"]


@pytest.mark.parametrize(
    "instruction",
    [
        "COPY fakes ./fakes",  # in .dockerignore: Docker answers "not found"
        "COPY .env ./",
        "COPY missing ./",
        "COPY pkg/*.py ./",
        "COPY --from=builder /x /x",
        "ADD https://example.com/x /x",
        "ARG VERSION",
        "WORKDIR $HOME",
        "RUN apt-get install -y curl",
        "RUN pip install . && rm -rf build",
        "RUN --mount=type=secret,id=token pip install .",
    ],
)
def test_what_cannot_be_replayed_is_refused(instruction: str, context: Path, tmp_path: Path) -> None:
    with pytest.raises(Unreplayable):
        replay(f"FROM python:3.11-slim\nWORKDIR /app\n{instruction}\n", context, tmp_path)


def test_user_management_is_skipped_and_recorded(context: Path, tmp_path: Path) -> None:
    image = replay("FROM python:3.11-slim\nRUN useradd -u 10001 bot && chown bot /srv\nUSER bot\n", context, tmp_path)
    assert image.skipped == ["useradd -u 10001 bot && chown bot /srv"]
    assert image.user == "bot"
