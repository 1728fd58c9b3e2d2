"""What `/usage scope:server` shows: a month's spend, its top spenders, a daily bar chart and a CSV of its jobs."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageDraw

from bot.jobs.spend import Charge

CHART_SIZE = (640, 240)
CSV_COLUMNS = ("job_id", "created_at", "user_id", "user_name", "state", "estimate_cu", "cost_cu", "charged_cu")


@dataclass(frozen=True, slots=True)
class Spender:
    """One person's spend in the report."""

    user_id: int
    name: str
    spent: float
    jobs: int


def total(charges: Sequence[Charge]) -> float:
    """The CU charged (or reserved, for jobs still running) over these jobs."""
    return sum(charge.charge for charge in charges)


def top_spenders(charges: Sequence[Charge], count: int = 5) -> list[Spender]:
    """Who spent the most, most first (a person's latest display name)."""
    spent: dict[int, float] = defaultdict(float)
    jobs: dict[int, int] = defaultdict(int)
    names: dict[int, str] = {}
    for charge in charges:
        spent[charge.user_id] += charge.charge
        jobs[charge.user_id] += 1
        names[charge.user_id] = charge.user_name or str(charge.user_id)
    ranked = sorted(spent, key=lambda user: (-spent[user], user))
    return [Spender(user, names[user], spent[user], jobs[user]) for user in ranked[:count] if spent[user] > 0]


def daily(charges: Sequence[Charge], month_start: datetime, days: int) -> list[float]:
    """CU per day of the month (index 0 = the 1st), UTC."""
    per_day = [0.0] * days
    for charge in charges:
        day = (charge.created_at - month_start).days
        if 0 <= day < days:
            per_day[day] += charge.charge
    return per_day


def daily_chart(per_day: Sequence[float]) -> bytes:
    """A small PNG bar chart of CU per day (Pillow): one bar a day, the busiest day full height."""
    width, height = CHART_SIZE
    image = Image.new("RGB", CHART_SIZE, (47, 49, 54))
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 40, width - 10, 24, height - 24
    peak = max(per_day, default=0.0) or 1.0
    slot = (right - left) / max(len(per_day), 1)
    for index, value in enumerate(per_day):
        bar_top = bottom - (bottom - top) * value / peak
        x0 = left + index * slot + 1
        draw.rectangle((x0, bar_top, x0 + max(slot - 2, 1), bottom), fill=(88, 101, 242))
        if index % 5 == 0:
            draw.text((x0, bottom + 6), str(index + 1), fill=(185, 187, 190))
    draw.line((left, bottom, right, bottom), fill=(185, 187, 190))
    draw.text((left, 6), f"CU per day (UTC) - busiest day {max(per_day, default=0):g} CU", fill=(220, 221, 222))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jobs_csv(charges: Sequence[Charge]) -> bytes:
    """The month's jobs, one row each (UTF-8 with a header), for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for c in charges:
        writer.writerow(
            [
                c.job_id, c.created_at.isoformat(timespec="seconds"), c.user_id, c.user_name, c.state,
                _number(c.estimate_cu), _number(c.cost), _number(c.charge),
            ]
        )  # fmt: skip
    return out.getvalue().encode("utf-8")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
