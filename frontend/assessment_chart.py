"""The path over time as a server-rendered SVG step chart (issue 13 item 3).

`step_chart` is pure geometry: levels on the vertical axis in the configured order (the first
given at the bottom), time on the horizontal, one mark per assessment and a step line between
them (the level holds until the next assessment). `render_svg` turns it into inline SVG with
`role="img"`, a title and a description; the page shows the same data as a table, which is
what screen readers and print rely on. No script, no chart library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH = 640
ROW = 44  # vertical distance between two levels
LEFT = 48  # room for the level codes
RIGHT = 24
TOP = 20
BOTTOM = 44  # room for the dates


@dataclass(frozen=True)
class AxisLevel:
    code: str
    wording: str
    y: float


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    code: str
    day: date


@dataclass(frozen=True)
class StepChart:
    width: int
    height: int
    levels: Sequence[AxisLevel]  # bottom first
    marks: Sequence[Mark]  # oldest first
    path: str  # SVG path data of the step line ("" for fewer than two marks)
    ticks: Sequence[tuple[date, float]]  # dates shown under the time axis, and their x


def step_chart(
    points: Sequence[tuple[date, str]], axis: Sequence[tuple[str, str]], *, width: int = WIDTH
) -> StepChart:
    """`points`: (day, level code) per assessment; `axis`: (code, wording) bottom first, and
    it must hold every code the points use. Points on the same day keep their given order."""
    rows = max(len(axis), 1)
    height = TOP + (rows - 1) * ROW + BOTTOM
    y_of = {code: float(TOP + (rows - 1 - index) * ROW) for index, (code, _w) in enumerate(axis)}
    missing = {code for _day, code in points} - set(y_of)
    if missing:
        raise ValueError(f"levels not on the axis: {sorted(missing)}")
    ordered = sorted(points, key=lambda point: point[0])  # stable: same-day order is kept
    left, right = float(LEFT), float(width - RIGHT)
    marks: list[Mark] = []
    if ordered:
        first, last = ordered[0][0], ordered[-1][0]
        span = (last - first).days

        def x_of(day: date) -> float:
            if span == 0:
                return round((left + right) / 2, 1)
            return round(left + (day - first).days / span * (right - left), 1)

        marks = [Mark(x=x_of(day), y=y_of[code], code=code, day=day) for day, code in ordered]
    path = ""
    if len(marks) > 1:
        steps = [f"M{marks[0].x} {marks[0].y}"]
        steps += [f"H{mark.x} V{mark.y}" for mark in marks[1:]]
        path = " ".join(steps)
    ticks: list[tuple[date, float]] = []
    for mark in (marks[0], marks[-1]) if marks else ():
        if all(day != mark.day for day, _x in ticks):
            ticks.append((mark.day, mark.x))
    levels = [AxisLevel(code=code, wording=wording, y=y_of[code]) for code, wording in axis]
    return StepChart(width=width, height=height, levels=levels, marks=marks, path=path, ticks=ticks)


def render_svg(chart: StepChart, *, title: str, description: str, id_prefix: str) -> Markup:
    """Inline SVG for the page (presentation attributes only: the CSP allows no inline style)."""
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="step-chart" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {chart.width} {chart.height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
    ]
    for level in chart.levels:
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{chart.width - RIGHT}" y1="{level.y}" '
            f'y2="{level.y}" stroke="#b1b4b6" stroke-width="1"/>'
            f'<text x="{LEFT - 12}" y="{level.y + 5}" text-anchor="end" '
            f'font-size="15" font-weight="bold">{escape(level.code)}</text>'
        )
    base = chart.height - BOTTOM + 28
    for day, x in chart.ticks:
        parts.append(
            f'<text x="{x}" y="{base}" text-anchor="middle" font-size="13">{day.isoformat()}</text>'
        )
    if chart.path:
        parts.append(
            f'<path class="step-line" d="{chart.path}" fill="none" stroke="#1d70b8" '
            f'stroke-width="3"/>'
        )
    for mark in chart.marks:
        parts.append(
            f'<circle class="mark" cx="{mark.x}" cy="{mark.y}" r="7" fill="#0b0c0c">'
            f"<title>{mark.day.isoformat()}: {escape(mark.code)}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every text above is escaped
