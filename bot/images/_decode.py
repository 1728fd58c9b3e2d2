"""Opening untrusted files: format and pixel-count checks before decoding, and saying what a non-image is."""

from __future__ import annotations

import io
import logging
import mimetypes

from PIL import Image

from bot.images._errors import CorruptImageError, DecompressionBombError, EmptyFileError, ImageError, NotAnImageError
from bot.images._names import format_label

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000
"""Refuse images with more pixels than this before decoding them.

A file's header can declare any size: a 20000×20000 PNG of one colour is a few hundred kilobytes on disk but
1.6 GB once decoded as RGBA (a "decompression bomb"). 40 megapixels (e.g. 7700×5200) is about 160 MB decoded,
which a small host can afford for a few concurrent uploads, and is far above what an image model uses as a
reference. Pillow's own guard (`Image.MAX_IMAGE_PIXELS`, ~89 MP warning, ~179 MP error) is process-wide and
too generous for untrusted files from many users; we check our own limit per call instead of changing it.
"""

HINT = "Please attach a PNG, JPEG or WebP."

_ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")
"""What Pillow may try. Deliberately short: EPS would run Ghostscript; exotic decoders are attack surface."""

_BMP_HEADERS = frozenset({12, 40, 52, 56, 64, 108, 124})


def open_image(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Identify the format from the content and refuse oversized images, without decoding pixels yet."""
    if not data:
        raise EmptyFileError(f"`{name}` is empty (0 bytes). Please attach the image again.")
    try:
        img = Image.open(io.BytesIO(data), formats=_ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"`{name}` is far too large in pixels to open safely.") from exc
    except Exception as exc:
        raise _unreadable(data, name) from exc

    width, height = img.size
    if width * height > max_pixels:
        raise DecompressionBombError(
            f"`{name}` is {width}×{height} ({width * height / 1e6:.1f} megapixels), more than the "
            f"{max_pixels / 1e6:g} megapixels I can safely open. Please resize it and try again."
        )
    return img


def is_animated(img: Image.Image) -> bool:
    """Whether `img` is an animation: several frames, not one picture with extras embedded."""
    # A phone JPEG (MPO) carries extra pictures, not frames of an animation.
    return img.format != "MPO" and getattr(img, "n_frames", 1) > 1


def decode(img: Image.Image, name: str) -> None:
    """Decode every pixel, so a truncated or damaged file fails here and not later at Scenario."""
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"`{name}` is far too large in pixels to open safely.") from exc
    except Exception as exc:
        log.debug("decoding %s failed: %r", name, exc)
        kind = format_label(img.format or "image")
        raise CorruptImageError(
            f"`{name}` looks like a {kind} but is damaged or incomplete, so it can't be read. "
            "Please export or save it again and retry."
        ) from exc


def sniff_image_mime(data: bytes) -> str | None:
    """The image MIME type its magic number announces (PNG, JPEG, WebP, GIF, BMP, TIFF), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:2] == b"BM" and len(data) >= 18 and int.from_bytes(data[14:18], "little") in _BMP_HEADERS:
        return "image/bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return None


def guess_mime(data: bytes, filename: str) -> str:
    """The MIME type the content announces, else the one the file name suggests, else a generic one."""
    return sniff_image_mime(data) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _unreadable(data: bytes, name: str) -> ImageError:
    """The error for a file Pillow does not recognise, saying what it looks like when that is cheap."""
    mime = sniff_image_mime(data)
    if mime is not None:
        kind = format_label(mime.removeprefix("image/").upper())
        return CorruptImageError(
            f"`{name}` looks like a {kind} but is damaged or incomplete, so it can't be read. "
            "Please export or save it again and retry."
        )
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1"):
        return NotAnImageError(
            f"`{name}` is a HEIC photo, which I can't read. {HINT} "
            "(On an iPhone: Settings → Camera → Formats → Most Compatible.)"
        )
    looks_like = _describe(data)
    if looks_like:
        return NotAnImageError(f"`{name}` is not an image (it looks like {looks_like}). {HINT}")
    return NotAnImageError(f"`{name}` is not an image I can read. {HINT}")


_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"%!PS", "a PostScript file"),
    (b"8BPS", "a Photoshop file"),
    (b"\x1aE\xdf\xa3", "a video"),
    (b"OggS", "an audio or video file"),
    (b"ID3", "an audio file"),
    (b"fLaC", "an audio file"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
)


def _describe(data: bytes) -> str | None:
    """A short guess at what a non-image file is, from its first bytes, or None."""
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return what
    if data[4:8] == b"ftyp":
        return "a video"
    if data[:4] == b"RIFF":
        return {b"WAVE": "an audio file", b"AVI ": "a video"}.get(data[8:12])
    head = data[:4096]
    if b"<svg" in head[:1024].lower():
        return "an SVG drawing"
    if b"\x00" not in head:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the 4096-byte boundary is still text.
            text = head[: exc.start].decode("utf-8") if exc.start > len(head) - 4 else ""
        if text and sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.95 * len(text):
            return "a text file"
    return None
