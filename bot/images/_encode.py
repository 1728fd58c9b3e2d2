"""Encoding: normalising modes, encoding without metadata, and shrinking or scaling an image to fit a limit."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageOps

from bot.images._errors import ImageTooLargeError
from bot.images._names import format_label, format_size

LOSSY_QUALITY = 90
"""JPEG/WebP quality for lossy re-encodes: visually near-lossless at a fraction of PNG's size."""

MIN_SIDE = 64
"""Never scale an image's shorter side below this; give up instead (a thumbnail is no use to anyone)."""

_SCALE_TRIES = 6
_GOOD_ENOUGH = 0.75
"""Stop searching once an encoding uses this share of the limit: a few percent more pixels aren't worth it."""


def shrink(
    img: Image.Image, limit: int, *, lossless_first: bool, name: str
) -> tuple[bytes, str, tuple[int, int], tuple[int, int] | None]:
    """Encode `img` within `limit` bytes: lossless, then lossy, then smaller and smaller.

    Returns the bytes, the output format, the (oriented) original size and the new size if scaled.
    """
    source_cmyk = img.mode == "CMYK"
    img = _normalize(ImageOps.exif_transpose(img))
    if source_cmyk:
        img.info.pop("icc_profile", None)  # a CMYK profile would mislabel the RGB pixels
    original = img.size

    if lossless_first:
        out = encode(img, "PNG")
        if len(out) <= limit:
            return out, "PNG", original, None
    lossy_fmt = "WEBP" if img.mode in ("LA", "RGBA") else "JPEG"
    img = _for_lossy(img, lossy_fmt)
    out = encode(img, lossy_fmt)
    if len(out) <= limit:
        return out, lossy_fmt, original, None

    scaled = _scale_to_fit(img, lossy_fmt, limit, first_size=len(out))
    if scaled is None:
        raise ImageTooLargeError(
            f"`{name}` can't be made small enough to fit the {format_size(limit)} limit.", limit=limit
        )
    out, size = scaled
    return out, lossy_fmt, original, size


def lossless_may_fit(size: int, img: Image.Image, limit: int) -> bool:
    """Whether re-compressing a lossless file at maximum effort could plausibly get it under `limit`.

    Maximum zlib effort rarely saves more than a third of an already compressed PNG, but a barely compressed
    one (over half its raw pixel size) can shrink several times. Skipping hopeless tries saves seconds.
    """
    raw = img.width * img.height * len(img.getbands())
    return size <= limit * 1.5 or size > raw * 0.5


def encode(img: Image.Image, fmt: str) -> bytes:
    """Encode without metadata except the colour profile (EXIF can hold the sender's location)."""
    buf = io.BytesIO()
    icc = img.info.get("icc_profile")
    if fmt == "PNG":
        img.save(buf, "PNG", optimize=True, icc_profile=icc)
    elif fmt == "JPEG":
        img.save(buf, "JPEG", quality=LOSSY_QUALITY, optimize=True, icc_profile=icc)
    else:
        img.save(buf, "WEBP", quality=LOSSY_QUALITY, icc_profile=icc)
    return buf.getvalue()


def encoding_label(fmt: str) -> str:
    """How an output format is described to the user: `PNG`, `JPEG (quality 90)`, `WebP (quality 90)`."""
    return "PNG" if fmt == "PNG" else f"{format_label(fmt)} (quality {LOSSY_QUALITY})"


def _scale_to_fit(img: Image.Image, fmt: str, limit: int, *, first_size: int) -> tuple[bytes, tuple[int, int]] | None:
    """The largest scaled-down encoding found within `limit` in a few tries, or None below `MIN_SIDE`.

    Encoded size follows roughly scale**k: k is 2 (bytes per pixel constant) for smooth pictures and more for
    noisy ones, whose detail averages away when shrunk. Start from k = 2, then re-estimate k from the last two
    tries, keeping every guess between the largest scale that fitted and the smallest that did not.
    """
    target = limit * 0.95
    points = [(1.0, first_size)]
    fitted_scale, too_big_scale = 0.0, 1.0
    best: tuple[bytes, tuple[int, int]] | None = None
    for _ in range(_SCALE_TRIES):
        s1, b1 = points[-1]
        k = 2.0
        if len(points) > 1:
            s0, b0 = points[-2]
            if b0 != b1:
                k = min(4.0, max(1.0, math.log(b0 / b1) / math.log(s0 / s1)))
        scale = s1 * (target / b1) ** (1 / k)
        scale = min(max(scale, fitted_scale * 1.02), too_big_scale * 0.98)
        if scale <= fitted_scale:
            break
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        if min(size) < MIN_SIDE:
            if best is not None:
                break
            return None
        out = encode(img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), fmt)
        points.append((scale, len(out)))
        if len(out) > limit:
            too_big_scale = scale
            continue
        fitted_scale, best = scale, (out, size)
        if len(out) >= limit * _GOOD_ENOUGH:
            break
    return best


def _normalize(img: Image.Image) -> Image.Image:
    """Convert to a mode every encoder takes (L, LA, RGB, RGBA; P for PNG), dropping all-opaque alpha."""
    mode = img.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        # Scale 16-bit/float grey to 8 bits; a plain convert("L") would clip almost everything to white.
        high = float(img.getextrema()[1] or 0)
        peak = 1.0 if mode == "F" and high <= 1.0 else 255.0 if high <= 255 else 65535.0
        img = img.convert("F" if mode == "F" else "I").point(lambda v: v * (255 / peak)).convert("L")
    elif mode == "1":
        img = img.convert("L")
    elif mode == "P":
        if img.info.get("transparency") is not None:
            img = img.convert("RGBA")
    elif mode in ("PA", "RGBa"):
        img = img.convert("RGBA")
    elif mode == "La":
        img = img.convert("LA")
    elif mode in ("L", "RGB") and img.info.get("transparency") is not None:
        img = img.convert("LA" if mode == "L" else "RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX...
    if img.mode in ("LA", "RGBA") and img.getchannel("A").getextrema()[0] == 255:
        img = img.convert("L" if img.mode == "LA" else "RGB")
    return img


def _for_lossy(img: Image.Image, fmt: str) -> Image.Image:
    """JPEG takes L or RGB, WebP RGB or RGBA; a palette image must be expanded before resampling anyway."""
    if img.mode == "P":
        return img.convert("RGB")
    if fmt == "WEBP" and img.mode == "LA":
        return img.convert("RGBA")
    return img
