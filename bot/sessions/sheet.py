"""The contact sheet: every result of a session as a numbered thumbnail, on as many PNGs as it takes.

CPU-bound (Pillow): call it in a thread. The geometry is public so a reader (and the tests) can find each
tile: a header band of `HEADER` pixels, then a grid of `COLUMNS` columns of `TILE`-pixel squares separated
and surrounded by `GAP` pixels of `BACKGROUND`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

TILE = 240
GAP = 12
HEADER = 56
COLUMNS = 4
PER_SHEET = 16
"""Tiles per image: 4 × 4 keeps the numbers readable when Discord shows the sheet at chat width."""
BACKGROUND = (24, 26, 31)
TILE_BACKGROUND = (44, 47, 54)
LABEL_BACKGROUND = (0, 0, 0)
TEXT = (255, 255, 255)
MAX_PIXELS = 64_000_000  # a result larger than this is not thumbnailed (Ideogram's are far smaller)


@dataclass(frozen=True)
class Tile:
    """One result: its number in the session and its (first) image, encoded."""

    number: int
    image: bytes


def contact_sheets(tiles: Sequence[Tile], *, title: str) -> list[bytes]:
    """PNG sheets of `PER_SHEET` numbered thumbnails each, in order; none for no tiles."""
    pages = [tiles[start : start + PER_SHEET] for start in range(0, len(tiles), PER_SHEET)]
    return [
        _sheet(page, title if len(pages) == 1 else f"{title} — sheet {index} of {len(pages)}")
        for index, page in enumerate(pages, start=1)
    ]


def tile_origin(index: int) -> tuple[int, int]:
    """The top-left pixel of the `index`-th tile (0-based) of a sheet."""
    row, column = divmod(index, COLUMNS)
    return GAP + column * (TILE + GAP), HEADER + GAP + row * (TILE + GAP)


def _sheet(tiles: Sequence[Tile], title: str) -> bytes:
    columns = min(COLUMNS, len(tiles))
    rows = math.ceil(len(tiles) / COLUMNS)
    width = GAP + columns * (TILE + GAP)
    height = HEADER + GAP + rows * (TILE + GAP)
    sheet = Image.new("RGB", (max(width, 2 * TILE + 3 * GAP), height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((GAP, HEADER // 2), _fit(draw, title, sheet.width - 2 * GAP, 28), font=_font(28), fill=TEXT, anchor="lm")
    for index, tile in enumerate(tiles):
        x, y = tile_origin(index)
        draw.rectangle((x, y, x + TILE - 1, y + TILE - 1), fill=TILE_BACKGROUND)
        thumb = _thumbnail(tile.image)
        if thumb is not None:
            sheet.paste(thumb, (x + (TILE - thumb.width) // 2, y + (TILE - thumb.height) // 2))
        _label(draw, x, y, f"#{tile.number}")
    out = io.BytesIO()
    sheet.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _thumbnail(data: bytes) -> Image.Image | None:
    """The image shrunk to fit a tile, or None for bytes that are not a readable image (the tile stays plain)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                return None
            img.draft("RGB", (TILE, TILE))  # JPEG: decode at a reduced size directly
            img.thumbnail((TILE, TILE))
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def _label(draw: ImageDraw.ImageDraw, x: int, y: int, text: str) -> None:
    """The number, white on black in the tile's corner: readable on any image."""
    font = _font(30)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = 6
    draw.rectangle((x, y, x + right - left + 2 * pad, y + bottom - top + 2 * pad), fill=LABEL_BACKGROUND)
    draw.text((x + pad - left, y + pad - top), text, font=font, fill=TEXT)


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int) -> str:
    font = _font(size)
    while text and draw.textlength(text, font=font) > width:
        text = text[:-2] + "…"
    return text


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at `size` (FreeType builds), else its small bitmap font."""
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError):  # pragma: no cover - Pillow built without FreeType
        return ImageFont.load_default()
