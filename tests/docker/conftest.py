"""`image`: the Dockerfile's build replayed once per test session (a fresh venv and its pip installs)."""

from __future__ import annotations

import time

import pytest

from tests.docker._replay import REPO, Image, replay_build


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """The replayed image (see `_replay.py` for what is replayed and what cannot be)."""
    started = time.monotonic()
    built = replay_build(REPO / "Dockerfile", REPO, tmp_path_factory.mktemp("image"))
    print(f"replayed the Docker build in {time.monotonic() - started:.1f} s")
    return built
