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
    """The image is over a size limit and cannot be made to fit it (or was not sent, being over it).

    Raised here when shrinking fails, and by `ScenarioClient.upload_image` for an image over Scenario's
    upload limit. `size` and `limit` are in bytes, when known.
    """

    def __init__(self, message: str, *, size: int | None = None, limit: int | None = None) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


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
