"""`python -m bot demo` runs the whole product with no token and no credits, and leaves real images behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image


def test_the_demo_prints_a_transcript_and_saves_the_posted_images_and_a_contact_sheet(tmp_path: Path) -> None:
    out = tmp_path / "images"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", str(out), "--job-seconds", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/imagine" in result.stdout and "/character" in result.stdout
    assert "Queued" in result.stdout and "result:" in result.stdout
    files = sorted(out.glob("*-*-*.png"))
    assert len(files) == 3  # two from /imagine (count 2), one from /character
    for file in files:
        with Image.open(file) as image:
            image.load()
            assert image.width >= 512

    # Then a whole brainstorm session, whose contact sheets are saved beside the images.
    assert "/session start" in result.stdout and "/session end" in result.stdout
    assert "🥇 **#" in result.stdout and "thread archived: True" in result.stdout
    for name in ("contact-sheet.png", "final-sheet.png"):
        with Image.open(out / name) as sheet:
            sheet.load()
            assert sheet.format == "PNG" and sheet.width >= 3 * 240  # three results side by side
