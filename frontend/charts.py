"""Charts of published follow-up figures as server-rendered SVG (issue 14 item 6).

Pure functions from numbers to markup: no script, no inline `style` (the CSP allows only the
site's stylesheet; presentation attributes are not styles), a `<title>` and `<desc>` named by
`aria-labelledby`. The page always shows the same numbers as a table beside the chart; that
table is what screen readers and print rely on. A suppressed value (None) is drawn as no bar
or no point, with the mark "–" where it would have been, so a chart never shows what the
table hides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from domain.statistics.spec import SUPPRESSED_MARK

WIDTH = 640
HEIGHT = 300
LEFT = 48  # room for the value axis
RIGHT = 16
TOP = 16
BOTTOM = 64  # room for the category labels and the legend
# Colours that keep a 3:1 contrast against white and between neighbours (GOV.UK palette).
PALETTE = ("#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#f47738", "#5694ca", "#6f777b")
INK = "#0b0c0c"
GRID = "#b1b4b6"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int | float | None]  # one per category; None: suppressed


def _nice_max(largest: float) -> float:
    """The top of the value axis: 4, 8 or 20 times a power of ten, at least the largest value,
    so the axis's four steps are whole counts (1, 2, 5 times a power of ten)."""
    if largest <= 0:
        return 4.0
    step = 4.0
    while True:
        for factor in (1.0, 2.0, 5.0):
            if largest <= step * factor:
                return step * factor
        step *= 10


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def _frame(title: str, description: str, id_prefix: str, css_class: str) -> list[str]:
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" role="img" '
        f'aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]


def _axis(top_value: float) -> list[str]:
    parts = []
    bottom = HEIGHT - BOTTOM
    for index in range(5):
        value = top_value * index / 4
        y = round(bottom - (bottom - TOP) * index / 4, 1)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="{GRID}" '
            f'stroke-width="1"/><text x="{LEFT - 6}" y="{y + 4}" text-anchor="end" '
            f'font-size="12" fill="{INK}">{_fmt(value)}</text>'
        )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    x = float(LEFT)
    y = HEIGHT - 14
    for index, one in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y}" font-size="12" fill="{INK}">{escape(one.name)}</text>'
        )
        x += 28 + 7 * len(one.name)
    return parts


def _check(categories: Sequence[str], series: Sequence[Series]) -> None:
    for one in series:
        if len(one.values) != len(categories):
            raise ValueError(
                f"series {one.name!r} has {len(one.values)} values, not {len(categories)}"
            )
        if any(v is not None and v < 0 for v in one.values):
            raise ValueError(f"series {one.name!r} has a negative value")


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    id_prefix: str,
) -> Markup:
    """One group per category (a period, an area, a kind of meeting), one bar per series."""
    _check(categories, series)
    shown = [v for one in series for v in one.values if v is not None]
    top_value = _nice_max(max(shown, default=0))
    bottom = HEIGHT - BOTTOM
    parts = _frame(title, description, id_prefix, "bar-chart") + _axis(top_value)
    group = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    bar = group * 0.8 / max(len(series), 1)
    for c_index, category in enumerate(categories):
        x0 = LEFT + group * c_index + group * 0.1
        for s_index, one in enumerate(series):
            value = one.values[c_index]
            x = round(x0 + bar * s_index, 1)
            centre = round(x + bar / 2, 1)
            label = f"{category}, {one.name}: "
            if value is None:
                parts.append(
                    f'<text class="suppressed" x="{centre}" y="{bottom - 4}" '
                    f'text-anchor="middle" font-size="14" fill="{INK}">{SUPPRESSED_MARK}'
                    f"<title>{escape(label)}{SUPPRESSED_MARK} (visas inte)</title></text>"
                )
                continue
            height = round((bottom - TOP) * value / top_value, 1)
            colour = PALETTE[s_index % len(PALETTE)]
            parts.append(
                f'<rect class="bar" x="{x}" y="{round(bottom - height, 1)}" '
                f'width="{round(bar * 0.9, 1)}" height="{height}" fill="{colour}">'
                f"<title>{escape(label)}{_fmt(value)}</title></rect>"
            )
        parts.append(
            f'<text x="{round(LEFT + group * (c_index + 0.5), 1)}" y="{bottom + 16}" '
            f'text-anchor="middle" font-size="12" fill="{INK}">{escape(category)}</text>'
        )
    parts += _legend(series)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every text above is escaped


def line_series(
    periods: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    id_prefix: str,
) -> Markup:
    """Values over periods as lines with a point per period. A suppressed value is no point
    and breaks the line, with "–" at the foot of the chart where the point would be."""
    _check(periods, series)
    shown = [v for one in series for v in one.values if v is not None]
    top_value = _nice_max(max(shown, default=0))
    bottom = HEIGHT - BOTTOM
    parts = _frame(title, description, id_prefix, "line-chart") + _axis(top_value)
    step = (WIDTH - LEFT - RIGHT) / max(len(periods), 1)

    def x_of(index: int) -> float:
        return round(LEFT + step * (index + 0.5), 1)

    for s_index, one in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for index, value in enumerate(one.values):
            if value is None:
                runs.append([])
                continue
            y = round(bottom - (bottom - TOP) * value / top_value, 1)
            runs[-1].append(f"{x_of(index)} {y}")
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<path class="line" d="M{" L".join(run)}" fill="none" stroke="{colour}" '
                    f'stroke-width="3"/>'
                )
        for index, value in enumerate(one.values):
            label = f"{periods[index]}, {one.name}: "
            if value is None:
                parts.append(
                    f'<text class="suppressed" x="{x_of(index)}" '
                    f'y="{bottom - 4 - 14 * s_index}" text-anchor="middle" font-size="14" '
                    f'fill="{colour}">{SUPPRESSED_MARK}'
                    f"<title>{escape(label)}{SUPPRESSED_MARK} (visas inte)</title></text>"
                )
                continue
            y = round(bottom - (bottom - TOP) * value / top_value, 1)
            parts.append(
                f'<circle class="point" cx="{x_of(index)}" cy="{y}" r="5" fill="{colour}">'
                f"<title>{escape(label)}{_fmt(value)}</title></circle>"
            )
    for index, period in enumerate(periods):
        parts.append(
            f'<text x="{x_of(index)}" y="{bottom + 16}" text-anchor="middle" font-size="12" '
            f'fill="{INK}">{escape(period)}</text>'
        )
    parts += _legend(series)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every text above is escaped
