"""Image files the tests attach: ordinary ones, a decompression bomb and an animation, made with Pillow."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(size: tuple[int, int] = (64, 48), colour: str = "teal", fmt: str = "PNG") -> bytes:
    """A plain image of one colour in the given format (PNG, JPEG, BMP…)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


def bomb_png() -> bytes:
    """12000 by 12000 one-bit pixels: a small file that would take hundreds of megabytes to decode."""
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000), 0).save(buffer, format="PNG")
    return buffer.getvalue()


def animated_gif() -> bytes:
    """Three frames: an animation, which is no use as a character reference."""
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue", "green")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()
