"""The dashboard's SVG charts: well-formed, labelled, and a suppressed value is no bar."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from frontend.charts import Series, grouped_bars, line_series

SVG = "{http://www.w3.org/2000/svg}"


def _tip(element: ET.Element) -> str | None:
    """The tooltip title a mark carries."""
    found = element.find(f"{SVG}title")
    return None if found is None else found.text


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 - our own markup, parsed to check it is well-formed


class TestGroupedBars:
    def test_well_formed_and_labelled(self) -> None:
        svg = _parse(
            grouped_bars(
                ["Givna", "Nekade"],
                [Series("Den unga", [12, 3]), Series("Vårdnadshavare <&>", [15, 9])],
                title="Samtycken",
                description="Givna och nekade samtycken",
                id_prefix="consents",
            )
        )
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == "consents-title consents-desc"
        assert _tip(svg) == "Samtycken"
        assert [e.get("id") for e in svg.iter(f"{SVG}desc")] == ["consents-desc"]
        assert not [e for e in svg.iter() if "style" in e.attrib or e.tag == f"{SVG}script"]

    def test_a_suppressed_value_is_no_bar_but_the_mark(self) -> None:
        svg = _parse(
            grouped_bars(
                ["Bäckby", "Skultuna"],
                [Series("Nya", [9, None]), Series("Avslutade", [6, 7])],
                title="Inflöde",
                description="d",
                id_prefix="flow",
            )
        )
        bars = [_tip(e) for e in svg.iter(f"{SVG}rect") if e.get("class") == "bar"]
        assert bars == ["Bäckby, Nya: 9", "Bäckby, Avslutade: 6", "Skultuna, Avslutade: 7"]
        marks = [e for e in svg.iter(f"{SVG}text") if e.get("class") == "suppressed"]
        assert [m.text for m in marks] == ["–"]
        assert _tip(marks[0]) == "Skultuna, Nya: – (visas inte)"

    def test_bar_heights_follow_the_values(self) -> None:
        svg = _parse(
            grouped_bars(
                ["A", "B"], [Series("s", [10, 5])], title="t", description="d", id_prefix="p"
            )
        )
        heights = [
            float(e.get("height", "0")) for e in svg.iter(f"{SVG}rect") if e.get("class") == "bar"
        ]
        assert heights[0] == pytest.approx(2 * heights[1])

    def test_everything_suppressed_still_draws(self) -> None:
        svg = _parse(
            grouped_bars(["A"], [Series("s", [None])], title="t", description="d", id_prefix="p")
        )
        assert not [e for e in svg.iter(f"{SVG}rect") if e.get("class") == "bar"]

    def test_values_must_match_categories(self) -> None:
        with pytest.raises(ValueError, match="has 1 values"):
            grouped_bars(["A", "B"], [Series("s", [1])], title="t", description="d", id_prefix="p")


class TestLineSeries:
    def test_a_suppressed_period_breaks_the_line(self) -> None:
        svg = _parse(
            line_series(
                ["T1 2026", "T2 2026", "T3 2026", "T1 2027"],
                [Series("Inflöde", [9, None, 7, 8])],
                title="Inflöde per tertial",
                description="d",
                id_prefix="inflow",
            )
        )
        points = [_tip(e) for e in svg.iter(f"{SVG}circle")]
        assert points == ["T1 2026, Inflöde: 9", "T3 2026, Inflöde: 7", "T1 2027, Inflöde: 8"]
        lines = [e.get("d", "") for e in svg.iter(f"{SVG}path")]
        assert len(lines) == 1
        assert lines[0].count("L") == 1
        assert [e.text for e in svg.iter(f"{SVG}text") if e.get("class") == "suppressed"] == ["–"]
