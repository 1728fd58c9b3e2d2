"""Decode, validate, convert and fit images to size limits.

Everything here is synchronous and CPU-bound: callers run it with `asyncio.to_thread`. Nothing here knows
about Discord or Scenario; the exceptions carry short sentences meant for the person who sent the file.

`_api` holds the two entry points, `prepare_reference` and `fit_for_upload`; `_decode` opens untrusted files
safely, `_encode` re-encodes and shrinks them, `_names` handles file names and sizes, `_errors` holds the
exception tree and the result types.
"""

from bot.images._api import fit_for_upload, prepare_reference
from bot.images._decode import MAX_PIXELS, sniff_image_mime
from bot.images._encode import LOSSY_QUALITY, MIN_SIDE
from bot.images._errors import (
    AnimatedImageError,
    CorruptImageError,
    DecompressionBombError,
    EmptyFileError,
    FittedFile,
    ImageError,
    ImageTooLargeError,
    NotAnImageError,
    PreparedImage,
)
from bot.images._names import format_size, sanitize_filename

__all__ = [
    "LOSSY_QUALITY",
    "MAX_PIXELS",
    "MIN_SIDE",
    "AnimatedImageError",
    "CorruptImageError",
    "DecompressionBombError",
    "EmptyFileError",
    "FittedFile",
    "ImageError",
    "ImageTooLargeError",
    "NotAnImageError",
    "PreparedImage",
    "fit_for_upload",
    "format_size",
    "prepare_reference",
    "sanitize_filename",
    "sniff_image_mime",
]
