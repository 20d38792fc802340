"""The follow-up report's files: JSON, CSV and PDF from one frozen document."""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from domain.statistics.render import from_json, to_csv, to_json, to_pdf
from domain.statistics.spec import (
    SUPPRESSED_LEGEND,
    SUPPRESSED_MARK,
    Breakdown,
    Coverage,
    Grid,
    ReportDocument,
    StatisticsRequest,
    TargetResult,
)
from tests.statistics_fake import AREAS, fake_result, sample_period


@pytest.fixture
def document() -> ReportDocument:
    period = sample_period()
    request = StatisticsRequest(
        agreement_id=uuid.uuid4(),
        coverage=Coverage(),
        period=period,
        agreement_periods=(period,),
        grid=Grid((Breakdown.AREA,), areas=AREAS),
    )
    result = fake_result(request)
    return ReportDocument(
        agreement="Samverkansöverenskommelse Västerås 2026–2028",
        activity="SSPF på Nybyggeskolan",
        period=period,
        k=5,
        tables=result.tables,
        figures=result.figures,
        targets=(
            TargetResult("young_people_flow", "Bryta loss minst 15 unga", "minst 15", "18", True),
            TargetResult("consent_share", "Minst 80 % samtycken", "minst 80 %", "71,4", False),
            TargetResult("days_referral_to_first_meeting", "Högst 14 dagar", "högst 14", "–", None),
        ),
        narrative='Målet är nått.\nVi har genomfört tre nätverksträffar; "bra" uppslutning.',
        notes=result.notes,
        published_at=datetime(2026, 9, 14, 8, 30, tzinfo=UTC),
        release_number=2,
        corrects=1,
    )


def _csv_lines(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


class TestCsv:
    def test_suppressed_cells_are_the_mark_and_shown_ones_numbers(
        self, document: ReportDocument
    ) -> None:
        lines = _csv_lines(to_csv(document))
        flow = document.tables[0]
        header = lines.index(["Kategori / område", *flow.columns])
        for offset, row in enumerate(flow.rows, start=1):
            expected = [
                SUPPRESSED_MARK if flow.values[(row, c)] is None else str(flow.values[(row, c)])
                for c in flow.columns
            ]
            assert lines[header + offset] == [row, *expected]
        assert any(flow.values[(r, c)] is None for r in flow.rows for c in flow.columns)

    def test_headers_are_swedish_and_the_legend_is_the_last_line(
        self, document: ReportDocument
    ) -> None:
        lines = _csv_lines(to_csv(document))
        assert ["Indikator", "Mål", "Utfall", "Är målet nått?"] in lines
        assert ["Bryta loss minst 15 unga", "minst 15", "18", "Ja"] in lines
        assert ["Högst 14 dagar", "högst 14", "–", "Kan inte bedömas"] in lines
        assert lines[-1] == [SUPPRESSED_LEGEND]
        assert ["Kommentar", document.narrative] in lines  # quoting keeps the newline and ;

    def test_a_withheld_median_is_the_mark(self, document: ReportDocument) -> None:
        lines = _csv_lines(to_csv(document))
        withheld = next(f for f in document.figures if f.value is None)
        assert [withheld.title, SUPPRESSED_MARK, "dagar", withheld.base_label] in lines
        assert ["Andel givna samtycken av givna och nekade", "71,4", "%", "samtycken"] in lines


class TestJson:
    def test_shape_and_null_for_suppressed(self, document: ReportDocument) -> None:
        data = json.loads(to_json(document))
        assert data["format"] == "samsyn.follow_up_report/1"
        assert data["period"] == {
            "code": "2026-T2",
            "label": "T2 2026 (maj–aug)",
            "start": "2026-05-01",
            "end_exclusive": "2026-09-01",
        }
        assert (data["release_number"], data["corrects"]) == (2, 1)
        assert data["published_at"] == "2026-09-14T08:30:00+00:00"
        assert data["legend"] == SUPPRESSED_LEGEND
        assert data["targets"][2] == {
            "indicator": "days_referral_to_first_meeting",
            "label": "Högst 14 dagar",
            "target": "högst 14",
            "actual": "–",
            "met": None,
            "met_label": "Kan inte bedömas",
        }
        flow = document.tables[0]
        table = data["tables"][0]
        assert table["rows"] == list(flow.rows)
        assert table["columns"] == list(flow.columns)
        for i, row in enumerate(flow.rows):
            for j, column in enumerate(flow.columns):
                assert table["values"][i][j] == flow.values[(row, column)]
        assert any(v is None for line in table["values"] for v in line)
        assert [f["value"] for f in data["figures"]] == [71.4, None, 143.5]

    def test_a_preview_has_no_number_and_no_date(self, document: ReportDocument) -> None:
        preview = replace(document, published_at=None, release_number=None, corrects=None)
        data = json.loads(to_json(preview))
        assert (data["published_at"], data["release_number"]) == (None, None)

    def test_same_document_same_bytes(self, document: ReportDocument) -> None:
        assert to_json(document) == to_json(replace(document))

    def test_read_back_gives_the_same_document(self, document: ReportDocument) -> None:
        again = from_json(to_json(document))
        assert again == document
        assert to_json(again) == to_json(document)

    def test_read_back_refuses_another_format(self) -> None:
        with pytest.raises(ValueError, match="not a follow-up report"):
            from_json(b'{"format": "other"}')


class TestPdf:
    def test_is_a_pdf_and_deterministic(self, document: ReportDocument) -> None:
        first = to_pdf(document)
        assert first.startswith(b"%PDF-")
        assert first == to_pdf(document)

    def test_the_creation_date_is_the_publication(self, document: ReportDocument) -> None:
        data = to_pdf(document)
        assert b"/CreationDate (D:20260914083000Z" in data

    def test_a_different_document_gives_different_bytes(self, document: ReportDocument) -> None:
        assert to_pdf(document) != to_pdf(replace(document, narrative="Målet är inte nått."))
