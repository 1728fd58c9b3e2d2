"""Tests for `bot.images`: every image here is made with Pillow in the test, nothing is read from disk."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image, ImageFile

from bot.images import (
    MAX_PIXELS,
    AnimatedImageError,
    CorruptImageError,
    DecompressionBombError,
    EmptyFileError,
    ImageError,
    ImageTooLargeError,
    NotAnImageError,
    fit_for_upload,
    format_size,
    prepare_reference,
    sanitize_filename,
    sniff_image_mime,
)
from bot.images import _encode as encoding

MB = 1024 * 1024

# --- helpers -----------------------------------------------------------------------------------------------


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def photo(width: int = 600, height: int = 400) -> Image.Image:
    """Something photo-like: smooth structure plus sensor noise, so lossless formats are large."""
    base = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 1.0, 1.2), 60)
    noise = Image.effect_noise((width, height), 40)
    gradient = Image.linear_gradient("L").resize((width, height))
    return Image.merge("RGB", (base, noise, gradient))


def noise_rgb(width: int, height: int) -> Image.Image:
    """Incompressible pixels: the worst case for every encoder."""
    return Image.merge("RGB", [Image.effect_noise((width, height), 120) for _ in range(3)])


def smooth(width: int = 400, height: int = 300) -> Image.Image:
    """A gradient: tiny as an optimized PNG, large when saved without compression."""
    return Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((width, height)),
            Image.radial_gradient("L").resize((width, height)),
            Image.new("L", (width, height), 90),
        ),
    )


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares any size, followed by a tiny IDAT: the shape of a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def single_colour_png(width: int, height: int) -> bytes:
    """A genuine, decodable single-colour greyscale PNG, built row by row so it never exists in memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "green", "blue")]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


# --- prepare_reference: what passes through untouched ----------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime", "ext"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")],
)
def test_supported_formats_pass_through_byte_for_byte(fmt: str, mime: str, ext: str) -> None:
    data = encode(photo(300, 200), fmt)

    prepared = prepare_reference(data, filename=f"ref.{ext}")

    assert prepared.data == data
    assert (prepared.mime_type, prepared.extension) == (mime, ext)
    assert (prepared.width, prepared.height) == (300, 200)
    assert not prepared.converted and not prepared.scaled and prepared.note is None


def test_format_comes_from_the_content_not_the_filename() -> None:
    data = encode(photo(64, 64), "JPEG")

    prepared = prepare_reference(data, filename="actually-a-jpeg.png")

    assert prepared.data == data
    assert prepared.mime_type == "image/jpeg" and prepared.extension == "jpg"


def test_phone_jpeg_with_embedded_pictures_is_a_still_jpeg() -> None:
    # Phones write MPO: a JPEG followed by more pictures. Pillow reports several "frames".
    data = encode(photo(120, 80), "MPO", save_all=True, append_images=[photo(60, 40)])
    assert decode(data).format == "MPO"

    prepared = prepare_reference(data, filename="IMG_0001.jpg")

    assert prepared.data == data
    assert prepared.mime_type == "image/jpeg"


def test_palette_png_with_transparency_passes_through() -> None:
    img = Image.new("P", (40, 40), 1)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    data = encode(img, "PNG", transparency=0)

    assert prepare_reference(data, filename="sticker.png").data == data


def test_sixteen_bit_png_passes_through() -> None:
    data = encode(Image.new("I;16", (50, 50), 40000), "PNG")

    assert prepare_reference(data, filename="depth.png").data == data


def test_exif_orientation_is_left_alone_when_passing_through() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° when displayed
    data = encode(photo(200, 100), "JPEG", exif=exif)

    prepared = prepare_reference(data, filename="phone.jpg")

    assert prepared.data == data
    assert (prepared.width, prepared.height) == (200, 100)


# --- prepare_reference: conversions ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_formats_are_converted_to_png_without_changing_pixels(fmt: str) -> None:
    source = Image.new("RGB", (64, 48), (200, 30, 90))
    source.paste((10, 220, 40), (10, 10, 30, 30))
    data = encode(source, fmt)

    prepared = prepare_reference(data, filename=f"drawing.{fmt.lower()}")

    assert prepared.mime_type == "image/png" and prepared.extension == "png"
    assert prepared.converted and not prepared.scaled
    assert prepared.note == f"converted from {fmt} to PNG"
    out = decode(prepared.data)
    assert out.format == "PNG" and out.size == (64, 48)
    assert out.convert("RGB").tobytes() == source.tobytes()


def test_transparent_gif_keeps_its_transparency_as_png() -> None:
    img = Image.new("P", (20, 20), 1)
    img.putpalette([0, 0, 0, 255, 255, 0] + [0] * 762)
    img.paste(0, (0, 0, 10, 20))
    data = encode(img, "GIF", transparency=0)

    out = decode(prepare_reference(data, filename="cut-out.gif").data).convert("RGBA")

    assert out.getpixel((2, 2))[3] == 0
    assert out.getpixel((15, 5)) == (255, 255, 0, 255)


def test_cmyk_jpeg_becomes_an_rgb_jpeg_with_the_same_colour() -> None:
    data = encode(Image.new("CMYK", (80, 60), (0, 255, 255, 0)), "JPEG", quality=95)
    assert decode(data).mode == "CMYK"

    prepared = prepare_reference(data, filename="print.jpg")

    assert prepared.mime_type == "image/jpeg" and prepared.converted
    assert prepared.note is not None and "CMYK" in prepared.note
    out = decode(prepared.data)
    assert out.mode == "RGB"
    red, green, blue = out.getpixel((40, 30))
    assert red > 230 and green < 30 and blue < 30


def test_sixteen_bit_grey_is_scaled_not_clipped_when_converted() -> None:
    data = encode(Image.new("I;16", (30, 30), 32768), "TIFF")

    out = decode(prepare_reference(data, filename="scan.tiff").data)

    assert out.mode == "L"
    assert out.getpixel((5, 5)) == pytest.approx(128, abs=2)


def test_exif_orientation_is_applied_when_converting() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {2: (48.0, 51.0, 30.0)}  # GPS latitude: must not leak into a re-encoded copy
    data = encode(photo(400, 200), "JPEG", quality=100, exif=exif)

    prepared = prepare_reference(data, filename="phone.jpg", max_bytes=len(data) - 1)

    assert (prepared.width, prepared.height) == (200, 400)
    out = decode(prepared.data)
    assert out.size == (200, 400)
    assert not out.getexif()


# --- prepare_reference: fitting Scenario's limit ---------------------------------------------------------


def test_uncompressed_png_over_the_limit_is_recompressed_losslessly() -> None:
    source = smooth()
    data = encode(source, "PNG", compress_level=0)
    limit = len(data) // 4

    prepared = prepare_reference(data, filename="flat.png", max_bytes=limit)

    assert prepared.mime_type == "image/png" and len(prepared.data) <= limit
    assert prepared.converted and not prepared.scaled
    assert prepared.note == f"re-compressed losslessly to fit Scenario's {format_size(limit)} limit"
    assert decode(prepared.data).tobytes() == source.tobytes()


def test_photo_over_the_limit_becomes_a_high_quality_jpeg_at_full_size() -> None:
    data = encode(photo(800, 600), "PNG")
    limit = len(data) // 2

    prepared = prepare_reference(data, filename="photo.png", max_bytes=limit)

    assert prepared.mime_type == "image/jpeg" and prepared.extension == "jpg"
    assert len(prepared.data) <= limit
    assert (prepared.width, prepared.height) == (800, 600) and not prepared.scaled
    assert prepared.note == f"re-encoded as JPEG (quality 90) to fit Scenario's {format_size(limit)} limit"


def test_far_over_the_limit_is_scaled_down_keeping_the_aspect_ratio() -> None:
    data = encode(noise_rgb(1200, 800), "PNG")
    limit = 60_000

    prepared = prepare_reference(data, filename="huge.png", max_bytes=limit)

    assert len(prepared.data) <= limit
    assert prepared.scaled and prepared.converted
    out = decode(prepared.data)
    assert out.size == (prepared.width, prepared.height)
    assert out.width < 1200 and out.width / out.height == pytest.approx(1.5, abs=0.01)
    assert prepared.note == (
        f"scaled down from 1200×800 to {out.width}×{out.height} and re-encoded as JPEG (quality 90) "
        f"to fit Scenario's {format_size(limit)} limit"
    )


def test_transparent_image_over_the_limit_keeps_its_alpha() -> None:
    img = photo(500, 400).convert("RGBA")
    img.putalpha(Image.linear_gradient("L").resize((500, 400)))
    data = encode(img, "PNG")

    prepared = prepare_reference(data, filename="cutout.png", max_bytes=len(data) // 3)

    assert prepared.mime_type in ("image/png", "image/webp")
    out = decode(prepared.data).convert("RGBA")
    assert out.getpixel((10, 0))[3] < 10
    assert out.getpixel((10, out.height - 1))[3] > 245


# --- prepare_reference: refusals --------------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    with pytest.raises(EmptyFileError, match=r"`blank\.png` is empty"):
        prepare_reference(b"", filename="blank.png")


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"Shopping list:\n- eggs\n- flour\n", "a text file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n", "a PDF document"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(40), "a ZIP archive"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "an SVG drawing"),
        (b"\x00\x00\x00\x18ftypisom" + bytes(40), "a video"),
    ],
)
def test_non_images_named_png_say_what_they_look_like(data: bytes, looks_like: str) -> None:
    with pytest.raises(NotAnImageError) as caught:
        prepare_reference(data, filename="image.png")

    message = str(caught.value)
    assert message.startswith("`image.png` is not an image")
    assert looks_like in message
    assert "PNG, JPEG or WebP" in message


def test_heic_photo_gets_advice_instead_of_not_an_image() -> None:
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(40)

    with pytest.raises(NotAnImageError) as caught:
        prepare_reference(data, filename="IMG_4242.HEIC")

    assert str(caught.value).startswith("`IMG_4242.HEIC` is a HEIC photo, which I can't read.")
    assert "Most Compatible" in str(caught.value)


def test_unknown_binary_is_not_an_image() -> None:
    with pytest.raises(NotAnImageError, match=r"`blob\.png` is not an image I can read"):
        prepare_reference(bytes(range(256)) * 4, filename="blob.png")


def test_a_real_but_unsupported_format_is_not_an_image() -> None:
    data = encode(Image.new("RGB", (8, 8)), "PPM")

    with pytest.raises(NotAnImageError):
        prepare_reference(data, filename="old.ppm")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image_is_corrupt_even_though_its_header_is_fine(fmt: str) -> None:
    data = encode(photo(300, 300), fmt)
    truncated = data[: len(data) // 2]
    Image.open(io.BytesIO(truncated))  # the header alone opens without complaint

    with pytest.raises(CorruptImageError, match="damaged or incomplete") as caught:
        prepare_reference(truncated, filename=f"half.{fmt.lower()}")
    assert f"looks like a {fmt}" in str(caught.value)


def test_png_cut_inside_its_header_is_corrupt_not_unknown() -> None:
    data = encode(photo(30, 30), "PNG")[:20]

    with pytest.raises(CorruptImageError, match="looks like a PNG"):
        prepare_reference(data, filename="cut.png")


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animations_are_refused_as_references(fmt: str) -> None:
    with pytest.raises(AnimatedImageError, match="must be a still image"):
        prepare_reference(animated(fmt), filename=f"dance.{fmt.lower()}")


def test_declared_dimensions_over_the_limit_are_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    data = png_header_only(8000, 6000)  # 48 MP: under Pillow's own limit, over ours

    with pytest.raises(DecompressionBombError) as caught:
        prepare_reference(data, filename="bomb.png")
    assert "8000×6000" in str(caught.value) and "40 megapixels" in str(caught.value)


def test_pillows_own_bomb_guard_becomes_our_error() -> None:
    data = png_header_only(20000, 20000)  # 400 MP: Pillow itself refuses to open it

    with pytest.raises(DecompressionBombError, match="too large"):
        prepare_reference(data, filename="bomb.png", max_pixels=10**12)


def test_a_small_file_that_decodes_to_many_pixels_is_refused() -> None:
    data = single_colour_png(3000, 3000)
    assert len(data) < 50_000

    with pytest.raises(DecompressionBombError, match="3000×3000"):
        prepare_reference(data, filename="flat.png", max_pixels=4_000_000)
    # The same file within the limit is fine: the check is about pixels, not bytes.
    assert prepare_reference(data, filename="flat.png", max_pixels=9_000_000).data == data


def test_global_pillow_limit_is_not_touched() -> None:
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(DecompressionBombError):
        prepare_reference(png_header_only(8000, 6000), filename="bomb.png")
    after = Image.MAX_IMAGE_PIXELS
    assert after == before
    assert MAX_PIXELS == 40_000_000


def test_filename_in_messages_has_no_path_or_backticks() -> None:
    with pytest.raises(ImageError) as caught:
        prepare_reference(b"hello", filename="C:\\Users\\me\\`evil`.png")

    assert str(caught.value).startswith("`evil.png` is not an image")


# --- fit_for_upload ---------------------------------------------------------------------------------------


def test_fit_leaves_a_file_within_the_limit_untouched() -> None:
    data = encode(photo(200, 200), "PNG")

    fitted = fit_for_upload(data, filename="result.png", limit=len(data))

    assert fitted.data is data
    assert (fitted.filename, fitted.mime_type, fitted.note) == ("result.png", "image/png", None)


def test_fit_tries_lossless_first() -> None:
    source = smooth()
    data = encode(source, "PNG", compress_level=0)

    fitted = fit_for_upload(data, filename="result.png", limit=len(data) // 4)

    assert fitted.filename == "result.png" and fitted.mime_type == "image/png"
    assert len(fitted.data) <= len(data) // 4
    assert decode(fitted.data).tobytes() == source.tobytes()
    assert fitted.note == f"re-compressed losslessly to fit the {format_size(len(data) // 4)} upload limit"


def test_fit_uses_high_quality_jpeg_when_lossless_is_not_enough() -> None:
    data = encode(photo(800, 600), "PNG")
    limit = len(data) // 2

    fitted = fit_for_upload(data, filename="result.png", limit=limit)

    assert fitted.filename == "result.jpg" and fitted.mime_type == "image/jpeg"
    assert len(fitted.data) <= limit
    assert decode(fitted.data).size == (800, 600)
    assert fitted.note == f"re-encoded as JPEG (quality 90) to fit the {format_size(limit)} upload limit"


def test_fit_uses_webp_to_keep_transparency() -> None:
    img = photo(600, 400).convert("RGBA")
    img.putalpha(Image.radial_gradient("L").resize((600, 400)))
    data = encode(img, "PNG")

    fitted = fit_for_upload(data, filename="sticker.png", limit=len(data) // 2)

    assert fitted.filename == "sticker.webp" and fitted.mime_type == "image/webp"
    assert decode(fitted.data).mode == "RGBA"


def test_fit_scales_down_when_needed_in_few_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, tuple[int, int]]] = []
    real_encode = encoding.encode

    def counting(img: Image.Image, fmt: str) -> bytes:
        calls.append((fmt, img.size))
        return real_encode(img, fmt)

    monkeypatch.setattr(encoding, "encode", counting)
    data = encode(noise_rgb(1600, 1600), "PNG")
    limit = 200_000

    fitted = fit_for_upload(data, filename="grid.png", limit=limit)

    out = decode(fitted.data)
    assert len(fitted.data) <= limit
    assert out.width == out.height < 1600
    assert fitted.filename == "grid.jpg"
    assert fitted.note == (
        f"scaled down from 1600×1600 to {out.width}×{out.height} and re-encoded as JPEG (quality 90) "
        f"to fit the {format_size(limit)} upload limit"
    )
    # The scale is estimated from the size ratio, not searched one step at a time: at most a lossless try,
    # a full-size lossy try and three scaled ones.
    assert len(calls) <= 5
    # Nor does it overshoot into a needlessly small picture.
    assert len(fitted.data) > limit * 0.75


def test_fit_to_a_realistic_discord_limit() -> None:
    data = encode(noise_rgb(2200, 1700), "PNG")
    assert len(data) > 8 * MB

    fitted = fit_for_upload(data, filename="upscaled.png", limit=8 * MB)

    assert len(fitted.data) <= 8 * MB
    assert fitted.note is not None and fitted.note.endswith("to fit the 8 MB upload limit")


def test_fit_gives_up_when_even_a_small_picture_is_too_big() -> None:
    data = encode(noise_rgb(600, 600), "PNG")

    with pytest.raises(ImageTooLargeError, match=r"`result\.png` can't be made small enough") as caught:
        fit_for_upload(data, filename="result.png", limit=1000)
    assert caught.value.limit == 1000


def test_fit_refuses_to_mangle_an_animation() -> None:
    data = animated("GIF")

    with pytest.raises(ImageTooLargeError, match="animation") as caught:
        fit_for_upload(data, filename="loop.gif", limit=len(data) - 1)
    assert (caught.value.size, caught.value.limit) == (len(data), len(data) - 1)


# --- sanitize_filename, sniff_image_mime, format_size -----------------------------------------------------

SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\cmd.exe", "cmd.exe"),
        ("café à la crème.PNG", "cafe_a_la_creme.png"),
        ("🎨🖌️.png", "image.png"),
        ("日本語", "image"),
        ("-rf .jpg", "rf.jpg"),
        ("...", "image"),
        ("a\x00b\nc.webp", "a_b_c.webp"),
        ("my.photo.v2.jpeg", "my.photo.v2.jpeg"),
        ("report.tar.gz", "report.tar.gz"),
        ("", "image"),
    ],
)
def test_sanitize_filename(name: str, expected: str) -> None:
    assert sanitize_filename(name) == expected


def test_sanitize_filename_truncates_but_keeps_the_extension() -> None:
    name = sanitize_filename("x" * 300 + ".png")

    assert len(name) <= 64 and name.endswith(".png") and name.startswith("xxx")


def test_sanitize_filename_uses_the_default_and_always_looks_safe() -> None:
    assert sanitize_filename("////", default="result") == "result"
    for nasty in ("../../etc/passwd", " .. ", "\u202egnp.exe", "CON", "a" * 1000, "%00.png", "$(rm -rf).png"):
        assert SAFE.fullmatch(sanitize_filename(nasty)), nasty


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_sniff_image_mime(fmt: str, mime: str) -> None:
    assert sniff_image_mime(encode(Image.new("RGB", (4, 4)), fmt)) == mime


@pytest.mark.parametrize("data", [b"", b"BMW is a car brand", b"%PDF-1.4", b"RIFF\x00\x00\x00\x00WAVEfmt "])
def test_sniff_image_mime_says_none_for_non_images(data: bytes) -> None:
    assert sniff_image_mime(data) is None


@pytest.mark.parametrize(
    ("size", "text"),
    [(10 * MB, "10 MB"), (8 * MB, "8 MB"), (6 * MB, "6 MB"), (int(9.5 * MB), "9.5 MB"), (512 * 1024, "512 KB")],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text
