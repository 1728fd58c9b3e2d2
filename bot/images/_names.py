"""File names and sizes as users see them: safe attachment names, names echoed back, byte counts, format labels."""

from __future__ import annotations

import re
import unicodedata

_MAX_NAME = 64


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


def format_size(n: int) -> str:
    """A byte count the way Discord users read it: `8 MB`, `9.5 MB`, `512 KB` (binary units)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} bytes"


def display_name(filename: str) -> str:
    """The file's name as shown back to its sender: no directories, no backticks or control characters."""
    base = re.split(r"[/\\]", filename)[-1]
    base = "".join(c for c in base if c.isprintable() and c != "`").strip()
    return (base[:60] + "…" if len(base) > 61 else base) or "file"


def format_label(fmt: str) -> str:
    """Pillow's format name as people know it: `JPEG` for MPO, `WebP` for WEBP."""
    return {"MPO": "JPEG", "WEBP": "WebP"}.get(fmt, fmt)


def with_extension(filename: str, ext: str) -> str:
    """`filename` with its extension replaced by (or, when it has none, extended with) `ext`."""
    stem, dot, old = filename.rpartition(".")
    base = stem if dot and stem and "/" not in old and "\\" not in old else filename
    return f"{base}.{ext}"
