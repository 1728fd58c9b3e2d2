"""The contact sheet (Pillow): a numbered tile per result, several sheets when many, readable numbers, and a
plain tile rather than a lost sheet when one image cannot be read."""

from __future__ import annotations

import io

from PIL import Image

from bot.jobs.models import Command, JobRecord
from bot.sessions import summary
from bot.sessions.sheet import BACKGROUND, LABEL_BACKGROUND, PER_SHEET, TILE, Tile, contact_sheets, tile_origin
from tests.images import png_bytes


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def tiles_on(image: Image.Image) -> int:
    count, index = 0, 0
    while True:
        x, y = tile_origin(index)
        if y + TILE > image.height:
            return count
        if x + TILE <= image.width and image.getpixel((x + TILE // 2, y + TILE - 4)) != BACKGROUND:
            count += 1
        index += 1


def test_many_results_take_several_sheets_in_order_with_every_tile() -> None:
    colours = ["red", "green", "blue", "orange"]
    tiles = [Tile(n, png_bytes((300, 200), colours[n % 4])) for n in range(1, PER_SHEET + 4)]

    sheets = [decode(data) for data in contact_sheets(tiles, title="A long session")]

    assert [tiles_on(sheet) for sheet in sheets] == [PER_SHEET, 3]
    x, y = tile_origin(0)
    assert sheets[0].getpixel((x + TILE // 2, y + TILE // 2)) == (0, 128, 0)  # tile #1 is the green image
    assert contact_sheets([], title="empty") == []


def test_numbers_are_large_labels_and_an_unreadable_image_leaves_a_plain_tile() -> None:
    [data] = contact_sheets([Tile(7, b"not an image"), Tile(12, png_bytes((64, 64), "white"))], title="t")
    sheet = decode(data)

    assert tiles_on(sheet) == 2
    for index in range(2):
        x, y = tile_origin(index)
        label_height = 0
        while sheet.getpixel((x + 1, y + label_height)) == LABEL_BACKGROUND:
            label_height += 1
        assert label_height >= 30  # a number at least 30 px tall, on black: readable at chat width
        assert any(sheet.getpixel((x + dx, y + 15)) == (255, 255, 255) for dx in range(4, 40))  # the digits


def test_the_index_and_the_favourites() -> None:
    def job(number: int, prompt: str, seed: int | None) -> JobRecord:
        return JobRecord(
            command=Command.IMAGINE, model_id="m", inputs={"prompt": prompt}, user_id=number, session_id=1,
            session_number=number, output_asset_ids=["a"], seeds=[seed],
        )  # fmt: skip

    jobs = [job(1, "a fox " * 30, 11), job(2, "an owl", None), job(3, "a robot", 33)]
    votes = {jobs[2].id: 2, jobs[1].id: 2}
    lines = summary.index_lines(jobs, votes)

    assert lines[0].startswith("**#1** · <@1> · “a fox a fox") and lines[0].endswith("…” · seed 11 · 👍 0")
    assert lines[1] == "**#2** · <@2> · “an owl” · seed ? · 👍 2"
    assert [j.session_number for j in summary.top(jobs, votes)] == [2, 3, 1]  # ties: the earlier idea first
