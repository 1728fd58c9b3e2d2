"""The two entry points: prepare a reference image for Scenario, and fit an image to Discord's upload limit."""

from __future__ import annotations

import logging

from bot.images._decode import HINT, MAX_PIXELS, decode, guess_mime, is_animated, open_image
from bot.images._encode import encoding_label, lossless_may_fit, shrink
from bot.images._errors import AnimatedImageError, FittedFile, ImageTooLargeError, PreparedImage
from bot.images._names import display_name, format_label, format_size, with_extension

log = logging.getLogger(__name__)

_PASS_THROUGH = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
}
"""Formats Scenario takes as they are. MPO is how Pillow names a phone JPEG with extra embedded pictures."""

_LOSSLESS_SOURCES = frozenset({"PNG", "GIF", "BMP", "TIFF"})
_OUTPUT = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}


def prepare_reference(
    data: bytes, *, filename: str, max_bytes: int = 6 * 1024 * 1024, max_pixels: int = MAX_PIXELS
) -> PreparedImage:
    """Validate an attached image and make it an uploadable still PNG, JPEG or WebP within `max_bytes`.

    PNG, JPEG and WebP within the limit are returned byte for byte. Raises an `ImageError` subclass whose
    message can be shown to the user.
    """
    name = display_name(filename)
    img = open_image(data, name, max_pixels)
    if is_animated(img):
        raise AnimatedImageError(f"`{name}` is animated, but a reference must be a still image. {HINT}")
    decode(img, name)
    fmt = img.format or "?"
    cmyk = img.mode == "CMYK"
    if fmt in _PASS_THROUGH and not cmyk and len(data) <= max_bytes:
        mime, ext = _PASS_THROUGH[fmt]
        return PreparedImage(data, mime, ext, img.width, img.height, False, False, None)

    # Model pipelines expect RGB; a CMYK JPEG is often shown with inverted colours, so it is converted too.
    must_convert = fmt not in _PASS_THROUGH or cmyk
    lossless_first = fmt in _LOSSLESS_SOURCES
    out, out_fmt, original, scaled_to = shrink(img, max_bytes, lossless_first=lossless_first, name=name)
    mime, ext = _OUTPUT[out_fmt]
    width, height = scaled_to or original
    if cmyk:
        done = f"converted from CMYK to RGB colour as {encoding_label(out_fmt)}"
    elif must_convert:
        done = f"converted from {format_label(fmt)} to {encoding_label(out_fmt)}"
    elif out_fmt == "PNG":
        done = "re-compressed losslessly"
    else:
        done = f"re-encoded as {encoding_label(out_fmt)}"
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
        return FittedFile(data, filename, guess_mime(data, filename), None)
    name = display_name(filename)
    img = open_image(data, name, MAX_PIXELS)
    if is_animated(img):
        raise ImageTooLargeError(
            f"`{name}` is an animation larger than the {format_size(limit)} upload limit, "
            "and it can't be shrunk without losing frames.",
            size=len(data),
            limit=limit,
        )
    decode(img, name)
    fmt = img.format or "?"
    lossless_first = fmt in _LOSSLESS_SOURCES and lossless_may_fit(len(data), img, limit)
    out, out_fmt, original, scaled_to = shrink(img, limit, lossless_first=lossless_first, name=name)
    mime, ext = _OUTPUT[out_fmt]
    if out_fmt != "PNG":
        done = f"re-encoded as {encoding_label(out_fmt)}"
    else:
        done = "re-compressed losslessly" + ("" if fmt == "PNG" else " as PNG")
    if scaled_to:
        done = f"scaled down from {original[0]}×{original[1]} to {scaled_to[0]}×{scaled_to[1]} and {done}"
    note = f"{done} to fit the {format_size(limit)} upload limit"
    log.debug("fitted %s: %s (%d → %d bytes)", name, note, len(data), len(out))
    return FittedFile(out, with_extension(filename, ext), mime, note)
