"""Pillow work for the fake: render sandbox images, decode uploads, apply CDN transforms."""

from __future__ import annotations

import colorsys
import functools
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

_FORMAT_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
_TRANSFORM_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


class ImageDecodeError(ValueError):
    """The bytes are not an image Pillow can decode."""


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _palette(seed: int) -> list[int]:
    """Background, band and text colours derived from the seed."""
    hue = (seed * 0.6180339887) % 1.0
    background = colorsys.hsv_to_rgb(hue, 0.55, 0.85)
    band = colorsys.hsv_to_rgb(hue, 0.65, 0.55)
    luminance = 0.299 * background[0] + 0.587 * background[1] + 0.114 * background[2]
    text = (0.08, 0.08, 0.08) if luminance > 0.6 else (1.0, 1.0, 1.0)
    return [round(c * 255) for colour in (background, band, text) for c in colour]


def render_image(width: int, height: int, prompt: str, seed: int) -> bytes:
    """A PNG of the requested size showing "sandbox" and the wrapped prompt on a seed-coloured background.

    Palette mode and compression level 1 keep it to a few milliseconds, so benchmarks with
    thousands of jobs stay cheap.
    """
    image = Image.new("P", (width, height), 0)
    image.putpalette(_palette(seed))
    draw = ImageDraw.Draw(image)
    margin = max(width // 20, 4)
    band_height = max(height // 6, 12)
    draw.rectangle((0, height - band_height, width, height), fill=1)

    title_size = max(min(width, height) // 8, 10)
    title = _font(title_size)
    draw.text((margin, margin), "sandbox", font=title, fill=2)
    body_size = max(min(width, height) // 28, 8)
    body = _font(body_size)
    chars_per_line = max(int((width - 2 * margin) / (body_size * 0.55)), 8)
    top = margin + title_size + margin // 2
    max_lines = max((height - band_height - top) // (body_size + 4), 1)
    lines = textwrap.wrap(prompt, chars_per_line)[:max_lines]
    for index, line in enumerate(lines):
        draw.text((margin, top + index * (body_size + 4)), line, font=body, fill=2)
    draw.text((margin, height - band_height + band_height // 4), f"seed {seed}", font=body, fill=2)

    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def inspect_image(data: bytes) -> tuple[str, int, int]:
    """Mime type, width and height of an image; raises ImageDecodeError if Pillow cannot decode it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            fmt, size = image.format or "", image.size
    except Exception as exc:  # Pillow raises many types for bad data
        raise ImageDecodeError(str(exc)) from exc
    mime = _FORMAT_MIME.get(fmt) or Image.MIME.get(fmt) or "application/octet-stream"
    return mime, size[0], size[1]


def transform(data: bytes, width: str | None, height: str | None, fmt: str | None) -> tuple[bytes, str] | None:
    """Apply the CDN's `width`/`height`/`format` query loosely (fit inside); None means serve as is."""
    target_format = _TRANSFORM_FORMATS.get((fmt or "").lower())
    w = int(width) if width and width.isdigit() and int(width) > 0 else None
    h = int(height) if height and height.isdigit() and int(height) > 0 else None
    if target_format is None and w is None and h is None:
        return None
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        out_format = target_format or image.format or "PNG"
        if w or h:
            image.thumbnail((w or image.width, h or image.height))
        if out_format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, out_format)
    return buffer.getvalue(), _FORMAT_MIME[out_format]
