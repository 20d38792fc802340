"""The follow-up report's pure rules: targets judged on published figures only, the ledger's
disclosure view without suppressed values, and the release fingerprint."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from common.errors import ValidationFailed
from domain.reports import rules
from domain.statistics.disclosure import Cell, Release, box, grid, microcells, protect
from domain.statistics.spec import TOTAL, Breakdown, SafeFigure, SafeTable, TargetResult


def _flow(inflow_total: int | None) -> SafeTable:
    return SafeTable(
        indicator="young_people_flow",
        title="Unga in och ut",
        breakdown=Breakdown.AREA,
        rows=("Nya under perioden", TOTAL),
        columns=("Bäckby", TOTAL),
        values={
            ("Nya under perioden", "Bäckby"): None,
            ("Nya under perioden", TOTAL): inflow_total,
            (TOTAL, "Bäckby"): None,
            (TOTAL, TOTAL): inflow_total,
        },
    )


class TestEvaluate:
    def _judge(self, table: SafeTable, comparison: str, value: float) -> TargetResult:
        return rules.evaluate(
            indicator="young_people_flow",
            row_code="inflow",
            kind="count",
            comparison=comparison,
            value=value,
            label="Minst 15 nya",
            tables=[table],
            figures=[],
        )

    def test_at_least_and_at_most(self) -> None:
        assert self._judge(_flow(17), "at_least", 15).met is True
        assert self._judge(_flow(14), "at_least", 15).met is False
        assert self._judge(_flow(14), "at_most", 14).met is True
        assert self._judge(_flow(17), "at_least", 15).target == "minst 15"

    def test_a_withheld_value_cannot_be_judged(self) -> None:
        result = self._judge(_flow(None), "at_least", 15)
        assert (result.actual, result.met) == ("–", None)

    def test_a_median_target_reads_the_figure(self) -> None:
        result = rules.evaluate(
            indicator="case_duration",
            row_code=None,
            kind="median_days",
            comparison="at_most",
            value=180,
            label="Högst 180 dagar",
            tables=[],
            figures=[SafeFigure("case_duration", "Längd", 143.5, "dagar", "ärenden")],
        )
        assert (result.target, result.actual, result.met) == ("högst 180 dagar", "143,5", True)


class TestNarrative:
    def test_trimmed(self) -> None:
        assert rules.narrative("  Målet är nått.\r\n") == "Målet är nått."

    @pytest.mark.parametrize("text", ["x" * (rules.MAX_NARRATIVE + 1), "nul\x00tecken"])
    def test_bad_text_is_422_naming_narrative(self, text: str) -> None:
        with pytest.raises(ValidationFailed) as error:
            rules.narrative(text)
        assert [e.field for e in error.value.errors] == ["narrative"]


class TestDisclosureView:
    def test_suppressed_values_are_not_kept_and_the_release_rebuilds(self) -> None:
        counts = {("a", "x"): 2, ("a", "y"): 9, ("b", "x"): 8, ("b", "y"): 7}
        cells = grid(["a", "b"], ["x", "y"], counts, prefix=("2026-T1",))
        protected = protect(cells, k=5)
        stored = rules.disclosure_json(protected.release)
        assert ["a", "x"] in stored["suppressed"]
        hidden = [c for c in stored["cells"] if c["key"] in stored["suppressed"]]
        assert hidden
        assert all(c["value"] is None for c in hidden)
        rebuilt = rules.release_from_json(stored)
        assert rebuilt.suppressed == protected.release.suppressed
        assert {c.key: c.value for c in rebuilt.published()} == {
            c.key: c.value for c in protected.release.published()
        }
        # A later release audited against the rebuilt one is refused the same way as against
        # the original: showing the hidden cell's row again would give it away.
        again = protect(cells, k=5, earlier=[rebuilt])
        assert again.release.suppressed >= protected.release.suppressed

    def test_a_release_the_first_ledger_format_kept_is_read_as_boxes(self) -> None:
        cells = grid(["a", "b"], ["x", "y"], {("a", "x"): 6, ("b", "y"): 7}, prefix=("T1",))
        release = Release(cells=tuple(cells), suppressed=frozenset())
        first_format = {  # every microcell listed, no format number
            "cells": [
                {
                    "key": list(c.key),
                    "parts": sorted(map(list, microcells(c.parts))),
                    "value": c.value,
                }
                for c in cells
            ],
            "suppressed": [],
        }
        assert rules.release_from_json(first_format) == rules.release_from_json(
            rules.disclosure_json(release)
        )
        first_format["cells"][0]["parts"] = [["T1", "a", "x"], ["T1", "b", "y"]]  # no box
        with pytest.raises(ValueError, match="not a box"):
            rules.release_from_json(first_format)

    def test_a_shown_cell_without_a_value_is_refused(self) -> None:
        release = Release(cells=[Cell(("a",), box("a"), 7)], suppressed=frozenset())
        stored = rules.disclosure_json(release)
        stored["cells"][0]["value"] = None
        with pytest.raises(ValueError, match="without a value"):
            rules.release_from_json(stored)


def test_the_release_digest_changes_with_any_part() -> None:
    base = {
        "agreement_id": uuid.UUID(int=1),
        "number": 1,
        "activity_id": uuid.UUID(int=2),
        "period_code": "2026-T2",
        "corrects": None,
        "json_sha256": "a" * 64,
        "csv_sha256": "b" * 64,
        "pdf_sha256": "c" * 64,
        "checkpoint_size": 10,
        "checkpoint_root": "d" * 64,
        "published_by": uuid.UUID(int=3),
        "published_at": datetime(2026, 9, 1, 8, tzinfo=UTC),
    }
    digest = rules.release_digest(**base)  # type: ignore[arg-type]
    assert digest == rules.release_digest(**base)  # type: ignore[arg-type]
    for name, other in (("number", 2), ("pdf_sha256", "e" * 64), ("checkpoint_size", 11)):
        assert rules.release_digest(**{**base, name: other}) != digest  # type: ignore[arg-type]
