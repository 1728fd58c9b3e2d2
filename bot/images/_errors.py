"""The image exception tree and the two results: a prepared reference and a file fitted to an upload limit."""

from __future__ import annotations

from dataclasses import dataclass


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
