"""Decode, validate, convert and fit images to size limits.

Everything here is synchronous and CPU-bound: callers run it with `asyncio.to_thread`. Nothing here knows
about Discord or Scenario; the exceptions carry short sentences meant for the person who sent the file.
"""

from __future__ import annotations

import io
import logging
import math
import mimetypes
import re
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000
"""Refuse images with more pixels than this before decoding them.

A file's header can declare any size: a 20000×20000 PNG of one colour is a few hundred kilobytes on disk but
1.6 GB once decoded as RGBA (a "decompression bomb"). 40 megapixels (e.g. 7700×5200) is about 160 MB decoded,
which a small host can afford for a few concurrent uploads, and is far above what an image model uses as a
reference. Pillow's own guard (`Image.MAX_IMAGE_PIXELS`, ~89 MP warning, ~179 MP error) is process-wide and
too generous for untrusted files from many users; we check our own limit per call instead of changing it.
"""

LOSSY_QUALITY = 90
"""JPEG/WebP quality for lossy re-encodes: visually near-lossless at a fraction of PNG's size."""

MIN_SIDE = 64
"""Never scale an image's shorter side below this; give up instead (a thumbnail is no use to anyone)."""

_ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")
"""What Pillow may try. Deliberately short: EPS would run Ghostscript; exotic decoders are attack surface."""

_PASS_THROUGH = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
}
"""Formats Scenario takes as they are. MPO is how Pillow names a phone JPEG with extra embedded pictures."""

_LOSSLESS_SOURCES = frozenset({"PNG", "GIF", "BMP", "TIFF"})
_OUTPUT = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}
_HINT = "Please attach a PNG, JPEG or WebP."


class ImageError(Exception):
    """Base of every image problem; `str(error)` is a short sentence to show the user."""


class NotAnImageError(ImageError):
    """The file is not an image we can read (text, PDF, archive, unsupported format...)."""


class CorruptImageError(ImageError):
    """The file claims to be an image but cannot be fully decoded (truncated or damaged)."""


class DecompressionBombError(ImageError):
    """The image declares more pixels than we are willing to decode."""


class AnimatedImageError(ImageError):
    """The image has several frames where a still is required."""


class EmptyFileError(ImageError):
    """The file has no content at all."""


class ImageTooLargeError(ImageError):
    """The image cannot be made to fit a size limit."""


@dataclass(frozen=True)
class PreparedImage:
    """A reference image ready to upload.

    `extension` has no dot (`"png"`). `converted` means `data` is a re-encoding, not the bytes the user sent;
    `scaled` means the pixel size was reduced. `note` says what was done, in a sentence, or is None.
    """

    data: bytes
    mime_type: str
    extension: str
    width: int
    height: int
    converted: bool
    scaled: bool
    note: str | None


@dataclass(frozen=True)
class FittedFile:
    """A file that fits an upload limit; `note` is None when it is the original, unchanged."""

    data: bytes
    filename: str
    mime_type: str
    note: str | None


# --- public functions ------------------------------------------------------------------------------------


def prepare_reference(
    data: bytes, *, filename: str, max_bytes: int = 6 * 1024 * 1024, max_pixels: int = MAX_PIXELS
) -> PreparedImage:
    """Validate an attached image and make it an uploadable still PNG, JPEG or WebP within `max_bytes`.

    PNG, JPEG and WebP within the limit are returned byte for byte. Raises an `ImageError` subclass whose
    message can be shown to the user.
    """
    name = _display_name(filename)
    img = _open(data, name, max_pixels)
    if _is_animated(img):
        raise AnimatedImageError(f"`{name}` is animated, but a reference must be a still image. {_HINT}")
    _decode(img, name)
    fmt = img.format or "?"
    cmyk = img.mode == "CMYK"
    if fmt in _PASS_THROUGH and not cmyk and len(data) <= max_bytes:
        mime, ext = _PASS_THROUGH[fmt]
        return PreparedImage(data, mime, ext, img.width, img.height, False, False, None)

    # Model pipelines expect RGB; a CMYK JPEG is often shown with inverted colours, so it is converted too.
    must_convert = fmt not in _PASS_THROUGH or cmyk
    lossless_first = fmt in _LOSSLESS_SOURCES
    out, out_fmt, original, scaled_to = _shrink(img, max_bytes, lossless_first=lossless_first, name=name)
    mime, ext = _OUTPUT[out_fmt]
    width, height = scaled_to or original
    if cmyk:
        done = f"converted from CMYK to RGB colour as {_encoding_label(out_fmt)}"
    elif must_convert:
        done = f"converted from {_format_label(fmt)} to {_encoding_label(out_fmt)}"
    elif out_fmt == "PNG":
        done = "re-compressed losslessly"
    else:
        done = f"re-encoded as {_encoding_label(out_fmt)}"
    note = done
    if scaled_to:
        note = f"scaled down from {original[0]}×{original[1]} to {width}×{height} and {done}"
    # Say "to fit" only when the size, not the format, forced a change.
    if scaled_to or not must_convert or (lossless_first and out_fmt != "PNG"):
        note += f" to fit Scenario's {format_size(max_bytes)} limit"
    log.debug("prepared reference %s: %s (%d → %d bytes)", name, note, len(data), len(out))
    return PreparedImage(out, mime, ext, width, height, True, scaled_to is not None, note)


def fit_for_upload(data: bytes, *, filename: str, limit: int) -> FittedFile:
    """Return the image unchanged if it fits `limit` bytes, else the closest smaller version that does.

    Tries a lossless re-compression, then a high-quality lossy encoding, then scaling down. Raises
    `ImageTooLargeError` when even a small version cannot fit.
    """
    if len(data) <= limit:
        return FittedFile(data, filename, _guess_mime(data, filename), None)
    name = _display_name(filename)
    img = _open(data, name, MAX_PIXELS)
    if _is_animated(img):
        raise ImageTooLargeError(
            f"`{name}` is an animation larger than the {format_size(limit)} upload limit, "
            "and it can't be shrunk without losing frames."
        )
    _decode(img, name)
    fmt = img.format or "?"
    lossless_first = fmt in _LOSSLESS_SOURCES and _lossless_may_fit(len(data), img, limit)
    out, out_fmt, original, scaled_to = _shrink(img, limit, lossless_first=lossless_first, name=name)
    mime, ext = _OUTPUT[out_fmt]
    if out_fmt != "PNG":
        done = f"re-encoded as {_encoding_label(out_fmt)}"
    else:
        done = "re-compressed losslessly" + ("" if fmt == "PNG" else " as PNG")
    if scaled_to:
        done = f"scaled down from {original[0]}×{original[1]} to {scaled_to[0]}×{scaled_to[1]} and {done}"
    note = f"{done} to fit the {format_size(limit)} upload limit"
    log.debug("fitted %s: %s (%d → %d bytes)", name, note, len(data), len(out))
    return FittedFile(out, _with_extension(filename, ext), mime, note)


def sanitize_filename(name: str, *, default: str = "image") -> str:
    """A safe attachment name: ASCII letters, digits and `._-`, no directories, at most 64 characters.

    The extension is kept (lower-cased) when it looks like one; an empty result becomes `default`.
    """
    base = re.split(r"[/\\]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, ext = base.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,8}", ext):
        stem, ext = base, ""
    suffix = f".{ext.lower()}" if ext else ""
    # Leading dots would hide the file or climb directories; leading dashes look like options.
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)
    stem = re.sub(r"_{2,}", "_", stem).strip("._-")
    stem = stem[: _MAX_NAME - len(suffix)].rstrip("._-") or default
    return stem + suffix


_MAX_NAME = 64


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


def format_size(n: int) -> str:
    """A byte count the way Discord users read it: `8 MB`, `9.5 MB`, `512 KB` (binary units)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} bytes"


# --- decoding and validation -----------------------------------------------------------------------------

_BMP_HEADERS = frozenset({12, 40, 52, 56, 64, 108, 124})


def _open(data: bytes, name: str, max_pixels: int) -> Image.Image:
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


def _is_animated(img: Image.Image) -> bool:
    # A phone JPEG (MPO) carries extra pictures, not frames of an animation.
    return img.format != "MPO" and getattr(img, "n_frames", 1) > 1


def _decode(img: Image.Image, name: str) -> None:
    """Decode every pixel, so a truncated or damaged file fails here and not later at Scenario."""
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(f"`{name}` is far too large in pixels to open safely.") from exc
    except Exception as exc:
        log.debug("decoding %s failed: %r", name, exc)
        kind = _format_label(img.format or "image")
        raise CorruptImageError(
            f"`{name}` looks like a {kind} but is damaged or incomplete, so it can't be read. "
            "Please export or save it again and retry."
        ) from exc


def _unreadable(data: bytes, name: str) -> ImageError:
    """The error for a file Pillow does not recognise, saying what it looks like when that is cheap."""
    mime = sniff_image_mime(data)
    if mime is not None:
        kind = _format_label(mime.removeprefix("image/").upper())
        return CorruptImageError(
            f"`{name}` looks like a {kind} but is damaged or incomplete, so it can't be read. "
            "Please export or save it again and retry."
        )
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1"):
        return NotAnImageError(
            f"`{name}` is a HEIC photo, which I can't read. {_HINT} "
            "(On an iPhone: Settings → Camera → Formats → Most Compatible.)"
        )
    looks_like = _describe(data)
    if looks_like:
        return NotAnImageError(f"`{name}` is not an image (it looks like {looks_like}). {_HINT}")
    return NotAnImageError(f"`{name}` is not an image I can read. {_HINT}")


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


# --- encoding and shrinking ------------------------------------------------------------------------------


def _shrink(
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
        out = _encode(img, "PNG")
        if len(out) <= limit:
            return out, "PNG", original, None
    lossy_fmt = "WEBP" if img.mode in ("LA", "RGBA") else "JPEG"
    img = _for_lossy(img, lossy_fmt)
    out = _encode(img, lossy_fmt)
    if len(out) <= limit:
        return out, lossy_fmt, original, None

    scaled = _scale_to_fit(img, lossy_fmt, limit, first_size=len(out))
    if scaled is None:
        raise ImageTooLargeError(f"`{name}` can't be made small enough to fit the {format_size(limit)} limit.")
    out, size = scaled
    return out, lossy_fmt, original, size


_SCALE_TRIES = 6
_GOOD_ENOUGH = 0.75
"""Stop searching once an encoding uses this share of the limit: a few percent more pixels aren't worth it."""


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
        out = _encode(img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0), fmt)
        points.append((scale, len(out)))
        if len(out) > limit:
            too_big_scale = scale
            continue
        fitted_scale, best = scale, (out, size)
        if len(out) >= limit * _GOOD_ENOUGH:
            break
    return best


def _lossless_may_fit(size: int, img: Image.Image, limit: int) -> bool:
    """Whether re-compressing a lossless file at maximum effort could plausibly get it under `limit`.

    Maximum zlib effort rarely saves more than a third of an already compressed PNG, but a barely compressed
    one (over half its raw pixel size) can shrink several times. Skipping hopeless tries saves seconds.
    """
    raw = img.width * img.height * len(img.getbands())
    return size <= limit * 1.5 or size > raw * 0.5


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


def _encode(img: Image.Image, fmt: str) -> bytes:
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


# --- small helpers ---------------------------------------------------------------------------------------


def _display_name(filename: str) -> str:
    """The file's name as shown back to its sender: no directories, no backticks or control characters."""
    base = re.split(r"[/\\]", filename)[-1]
    base = "".join(c for c in base if c.isprintable() and c != "`").strip()
    return (base[:60] + "…" if len(base) > 61 else base) or "file"


def _format_label(fmt: str) -> str:
    return {"MPO": "JPEG", "WEBP": "WebP"}.get(fmt, fmt)


def _encoding_label(fmt: str) -> str:
    return "PNG" if fmt == "PNG" else f"{_format_label(fmt)} (quality {LOSSY_QUALITY})"


def _with_extension(filename: str, ext: str) -> str:
    stem, dot, old = filename.rpartition(".")
    base = stem if dot and stem and "/" not in old and "\\" not in old else filename
    return f"{base}.{ext}"


def _guess_mime(data: bytes, filename: str) -> str:
    return sniff_image_mime(data) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
