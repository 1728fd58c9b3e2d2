"""Small pictures for the library: a thumbnail kept with each saved character, and the `/characters list` sheet.

CPU-bound (Pillow): callers run these with `asyncio.to_thread`.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont, ImageOps

from bot.images import MAX_PIXELS, ImageError
from bot.images._decode import open_image

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 128
COLUMNS = 5
LABEL_HEIGHT = 22
PADDING = 8
MAX_TILES = 40
"""A sheet shows at most this many characters (the reply's text names every one)."""


def make_thumbnail(data: bytes, name: str = "image") -> bytes | None:
    """A JPEG at most 128 by 128 pixels of an image already checked (a reference or an output); None if unreadable."""
    try:
        with open_image(data, name, MAX_PIXELS) as img:
            img.seek(0)
            small = ImageOps.contain(img.convert("RGB"), (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    except (ImageError, OSError, ValueError) as exc:
        log.info("No thumbnail for %s: %s", name, exc)
        return None
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85)
    return out.getvalue()


def character_sheet(items: Sequence[tuple[str, bytes | None]]) -> bytes:
    """One PNG: a tile per (name, thumbnail), the name under each, in rows of five."""
    tiles = list(items)[:MAX_TILES]
    columns = max(1, min(COLUMNS, len(tiles)))
    rows = max(1, -(-len(tiles) // columns))
    cell_w, cell_h = THUMBNAIL_SIDE + PADDING, THUMBNAIL_SIDE + LABEL_HEIGHT + PADDING
    sheet = Image.new("RGB", (columns * cell_w + PADDING, rows * cell_h + PADDING), (43, 45, 49))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=13)
    for index, (name, thumbnail) in enumerate(tiles):
        x = PADDING + (index % columns) * cell_w
        y = PADDING + (index // columns) * cell_h
        picture = _open_thumbnail(thumbnail)
        if picture is None:
            draw.rectangle((x, y, x + THUMBNAIL_SIDE - 1, y + THUMBNAIL_SIDE - 1), fill=(64, 68, 75))
            draw.text((x + THUMBNAIL_SIDE // 2, y + THUMBNAIL_SIDE // 2), "?", fill="white", font=font, anchor="mm")
        else:
            left = x + (THUMBNAIL_SIDE - picture.width) // 2
            top = y + (THUMBNAIL_SIDE - picture.height) // 2
            sheet.paste(picture, (left, top))
        draw.text((x + THUMBNAIL_SIDE // 2, y + THUMBNAIL_SIDE + 4), _fit(draw, name, font), fill="white",
                  font=font, anchor="ma")  # fmt: skip
    out = io.BytesIO()
    sheet.save(out, "PNG", optimize=True)
    return out.getvalue()


def _open_thumbnail(data: bytes | None) -> Image.Image | None:
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG", "PNG")) as img:
            return ImageOps.contain(img.convert("RGB"), (THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    except (OSError, ValueError):
        return None


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> str:
    """The name, shortened with "…" to the tile's width."""
    if draw.textlength(text, font=font) <= THUMBNAIL_SIDE:
        return text
    while text and draw.textlength(text + "…", font=font) > THUMBNAIL_SIDE:
        text = text[:-1]
    return text + "…"
