"""The SVG step chart of the path over time: pure geometry, then the markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from frontend.assessment_chart import BOTTOM, LEFT, RIGHT, ROW, TOP, render_svg, step_chart

AXIS = [("0", "Ingen känd risk"), ("D", "Utkanten"), ("C", "C"), ("B", "B"), ("A", "Mest aktiv")]
SVG = "{http://www.w3.org/2000/svg}"


def test_levels_run_from_the_first_at_the_bottom_to_the_last_at_the_top() -> None:
    chart = step_chart([], AXIS)
    ys = [level.y for level in chart.levels]
    assert [level.code for level in chart.levels] == ["0", "D", "C", "B", "A"]
    assert ys == sorted(ys, reverse=True)  # SVG y grows downwards: 0 lowest on screen
    assert ys[0] == TOP + 4 * ROW
    assert ys[-1] == TOP
    assert chart.height == TOP + 4 * ROW + BOTTOM
    assert chart.marks == []
    assert chart.path == ""


def test_one_mark_per_assessment_placed_by_day_and_level() -> None:
    points = [(date(2026, 9, 1), "D"), (date(2026, 10, 1), "B"), (date(2026, 11, 30), "C")]
    chart = step_chart(points, AXIS, width=640)
    assert len(chart.marks) == 3
    first, middle, last = chart.marks
    assert (first.x, last.x) == (LEFT, 640 - RIGHT)
    span = (date(2026, 11, 30) - date(2026, 9, 1)).days
    assert middle.x == round(LEFT + 30 / span * (640 - RIGHT - LEFT), 1)
    y = {level.code: level.y for level in chart.levels}
    assert [m.y for m in chart.marks] == [y["D"], y["B"], y["C"]]


def test_the_step_line_holds_a_level_until_the_next_assessment() -> None:
    points = [(date(2026, 9, 1), "D"), (date(2026, 10, 1), "A")]
    chart = step_chart(points, AXIS, width=640)
    a, b = chart.marks
    assert chart.path == f"M{a.x} {a.y} H{b.x} V{b.y}"


def test_points_are_ordered_by_day_keeping_same_day_order() -> None:
    points = [(date(2026, 10, 1), "C"), (date(2026, 9, 1), "D"), (date(2026, 10, 1), "B")]
    chart = step_chart(points, AXIS)
    assert [(m.day.month, m.code) for m in chart.marks] == [(9, "D"), (10, "C"), (10, "B")]
    assert [tick for tick, _x in chart.ticks] == [date(2026, 9, 1), date(2026, 10, 1)]


def test_a_single_assessment_sits_in_the_middle() -> None:
    chart = step_chart([(date(2026, 9, 1), "0")], AXIS, width=640)
    assert chart.marks[0].x == (LEFT + 640 - RIGHT) / 2
    assert chart.path == ""


def test_a_level_missing_from_the_axis_is_refused() -> None:
    with pytest.raises(ValueError, match="X"):
        step_chart([(date(2026, 9, 1), "X")], AXIS)


def test_svg_is_an_image_with_a_title_a_description_and_escaped_text() -> None:
    points = [(date(2026, 9, 1), "D"), (date(2026, 10, 1), "B"), (date(2026, 11, 1), "C")]
    markup = render_svg(
        step_chart(points, AXIS),
        title="Nivå <över> tid",
        description="Tre bedömningar & en tabell",
        id_prefix="p",
    )
    root = ET.fromstring(str(markup))  # noqa: S314 - our own markup
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "p-title p-desc"
    assert root.find(f"{SVG}title").text == "Nivå <över> tid"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "Tre bedömningar & en tabell"  # type: ignore[union-attr]
    assert len(root.findall(f"{SVG}circle")) == 3
    assert len(root.findall(f"{SVG}path")) == 1
    assert "<script" not in markup
    assert "style=" not in markup
