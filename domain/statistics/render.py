"""A follow-up report as the files a steering group downloads: JSON, CSV and PDF (issue 14
item 5). Pure: the same `ReportDocument` gives the same bytes, which is what lets the release
ledger fingerprint a publication and anyone re-render it to check.

Everything shown comes from the document, which holds only safe tables: a suppressed value is
None and is shown as `SUPPRESSED_MARK` ("–") with `SUPPRESSED_LEGEND`, in every format.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from domain.statistics.periods import Period
from domain.statistics.spec import (
    BREAKDOWN_LABELS,
    SUPPRESSED_LEGEND,
    SUPPRESSED_MARK,
    Breakdown,
    ReportDocument,
    SafeFigure,
    SafeTable,
    TargetResult,
)

FORMAT = "samsyn.follow_up_report/1"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PREVIEW_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # a preview's PDF date: fixed, so it is pure
MET_LABELS = {True: "Ja", False: "Nej", None: "Kan inte bedömas"}
TITLE = "Uppföljning av samverkansöverenskommelsen"


def number(value: float | None) -> str:
    """A value as shown to people: "–" when suppressed, a Swedish decimal comma otherwise."""
    if value is None:
        return SUPPRESSED_MARK
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", ",")


def published_label(doc: ReportDocument) -> str:
    if doc.published_at is None:
        return "Förhandsgranskning, inte publicerad"
    return doc.published_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def row_header(table: SafeTable) -> str:
    if table.breakdown is None:
        return "Kategori"
    return f"Kategori / {BREAKDOWN_LABELS[table.breakdown].lower()}"


# --- JSON --------------------------------------------------------------------------------


def document_dict(doc: ReportDocument) -> dict[str, Any]:
    """The JSON form: numbers as numbers, a suppressed value as null (shown as "–")."""
    return {
        "format": FORMAT,
        "agreement": doc.agreement,
        "activity": doc.activity,
        "period": {
            "code": doc.period.code,
            "label": doc.period.label,
            "start": doc.period.start.isoformat(),
            "end_exclusive": doc.period.end.isoformat(),
        },
        "k": doc.k,
        "release_number": doc.release_number,
        "corrects": doc.corrects,
        "published_at": (
            doc.published_at.astimezone(UTC).isoformat() if doc.published_at else None
        ),
        "targets": [_target_dict(target) for target in doc.targets],
        "narrative": doc.narrative,
        "notes": list(doc.notes),
        "tables": [_table_dict(table) for table in doc.tables],
        "figures": [_figure_dict(figure) for figure in doc.figures],
        "suppressed_mark": SUPPRESSED_MARK,
        "legend": SUPPRESSED_LEGEND,
        "extra": dict(sorted(doc.extra.items())),
    }


def _target_dict(target: TargetResult) -> dict[str, Any]:
    return {
        "indicator": target.indicator,
        "label": target.label,
        "target": target.target,
        "actual": target.actual,
        "met": target.met,
        "met_label": MET_LABELS[target.met],
    }


def _table_dict(table: SafeTable) -> dict[str, Any]:
    return {
        "indicator": table.indicator,
        "title": table.title,
        "breakdown": table.breakdown.value if table.breakdown else None,
        "unit": table.unit,
        "rows": list(table.rows),
        "columns": list(table.columns),
        "values": [[table.values.get((r, c)) for c in table.columns] for r in table.rows],
    }


def _figure_dict(figure: SafeFigure) -> dict[str, Any]:
    return {
        "indicator": figure.indicator,
        "title": figure.title,
        "value": figure.value,
        "unit": figure.unit,
        "base": figure.base_label,
    }


def to_json(doc: ReportDocument) -> bytes:
    return json.dumps(document_dict(doc), ensure_ascii=False, indent=2).encode() + b"\n"


def from_json(data: bytes) -> ReportDocument:
    """The document a release's frozen JSON holds (the dashboard and the release pages show
    the frozen file, never a recomputation). `to_json(from_json(b)) == b` for what `to_json`
    wrote."""
    raw = json.loads(data)
    if raw.get("format") != FORMAT:
        raise ValueError(f"not a follow-up report: {raw.get('format')!r}")
    period = raw["period"]
    tables = tuple(
        SafeTable(
            indicator=t["indicator"],
            title=t["title"],
            breakdown=Breakdown(t["breakdown"]) if t["breakdown"] else None,
            rows=tuple(t["rows"]),
            columns=tuple(t["columns"]),
            values={
                (row, column): line[j]
                for row, line in zip(t["rows"], t["values"], strict=True)
                for j, column in enumerate(t["columns"])
            },
            unit=t["unit"],
        )
        for t in raw["tables"]
    )
    return ReportDocument(
        agreement=raw["agreement"],
        activity=raw["activity"],
        period=Period(
            start=date.fromisoformat(period["start"]),
            end=date.fromisoformat(period["end_exclusive"]),
            code=period["code"],
            label=period["label"],
        ),
        k=raw["k"],
        tables=tables,
        figures=tuple(
            SafeFigure(f["indicator"], f["title"], f["value"], f["unit"], f["base"])
            for f in raw["figures"]
        ),
        targets=tuple(
            TargetResult(t["indicator"], t["label"], t["target"], t["actual"], t["met"])
            for t in raw["targets"]
        ),
        narrative=raw["narrative"],
        notes=tuple(raw["notes"]),
        published_at=(datetime.fromisoformat(raw["published_at"]) if raw["published_at"] else None),
        release_number=raw["release_number"],
        corrects=raw["corrects"],
        extra=dict(raw["extra"]),
    )


# --- CSV ---------------------------------------------------------------------------------


def csv_rows(doc: ReportDocument) -> list[list[str]]:
    """The report as lines of cells, Swedish headers, "–" for a suppressed value, the legend
    last."""
    lines: list[list[str]] = [
        ["Rapport", TITLE],
        ["Överenskommelse", doc.agreement],
        ["Aktivitet", doc.activity],
        ["Period", f"{doc.period.label} ({doc.period.code})"],
        ["Publicerad", published_label(doc)],
        ["Publicering nr", "" if doc.release_number is None else str(doc.release_number)],
        ["Rättar publicering nr", "" if doc.corrects is None else str(doc.corrects)],
        ["Minsta visade antal (k)", str(doc.k)],
        [],
        ["Är målet nått?"],
        ["Indikator", "Mål", "Utfall", "Är målet nått?"],
    ]
    lines += [[t.label, t.target, t.actual, MET_LABELS[t.met]] for t in doc.targets]
    lines += [[], ["Kommentar", doc.narrative]]
    for note in doc.notes:
        lines.append(["Notering", note])
    for table in doc.tables:
        lines += [[], [f"{table.title} ({table.unit})"], [row_header(table), *table.columns]]
        for row in table.rows:
            lines.append([row, *(number(table.values.get((row, c))) for c in table.columns)])
    if doc.figures:
        lines += [[], ["Mått", "Värde", "Enhet", "Bas"]]
        lines += [[f.title, number(f.value), f.unit, f.base_label] for f in doc.figures]
    lines += [[], [SUPPRESSED_LEGEND]]
    return lines


def to_csv(doc: ReportDocument) -> bytes:
    """Semicolon-separated UTF-8 with a byte-order mark: what a Swedish spreadsheet opens
    without an import dialog (a comma is the decimal separator here)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerows(csv_rows(doc))
    return ("\ufeff" + buffer.getvalue()).encode()


# --- PDF ---------------------------------------------------------------------------------


class _Report(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", size=8)
        self.cell(0, 6, f"Sida {self.page_no()}/{{nb}}", align="C")


def to_pdf(doc: ReportDocument) -> bytes:
    """An A4 PDF: title, period, the targets ("Är målet nått?"), the narrative, every table and
    figure with "–" and the legend. Deterministic: the creation date is `published_at` (a fixed
    date for a preview) and the file id is derived from the content."""
    pdf = _Report(format="A4")
    pdf.set_creation_date(doc.published_at or PREVIEW_EPOCH)
    pdf.set_title(f"{TITLE}: {doc.activity}, {doc.period.label}")
    pdf.set_author("Samsyn")
    pdf.set_creator("Samsyn")
    pdf.set_lang("sv")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(width, 8, TITLE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", size=10)
    facts = [
        ("Överenskommelse", doc.agreement),
        ("Aktivitet", doc.activity),
        ("Period", f"{doc.period.label} ({doc.period.code})"),
        ("Publicerad", published_label(doc)),
    ]
    if doc.release_number is not None:
        facts.append(("Publicering nr", str(doc.release_number)))
    if doc.corrects is not None:
        facts.append(("Rättar publicering nr", str(doc.corrects)))
    for label, value in facts:
        pdf.multi_cell(width, 5.5, f"{label}: {value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _heading(pdf, "Är målet nått?")
    if doc.targets:
        _table(
            pdf,
            ["Indikator", "Mål", "Utfall", "Är målet nått?"],
            [[t.label, t.target, t.actual, MET_LABELS[t.met]] for t in doc.targets],
            widths=(0.46, 0.18, 0.14, 0.22),
        )
    else:
        _paragraph(pdf, "Aktiviteten har inga mål att följa upp.")

    _heading(pdf, "Kommentar: Är målet nått? Vilka aktiviteter har genomförts?")
    _paragraph(pdf, doc.narrative or "Ingen kommentar skriven.")
    for note in doc.notes:
        _paragraph(pdf, note)

    for table in doc.tables:
        _heading(pdf, f"{table.title} ({table.unit})")
        rows = [
            [row, *(number(table.values.get((row, c))) for c in table.columns)]
            for row in table.rows
        ]
        first = 0.34 if table.columns else 1.0
        rest = (1 - first) / max(len(table.columns), 1)
        _table(
            pdf,
            [row_header(table), *table.columns],
            rows,
            widths=(first, *([rest] * len(table.columns))),
        )

    if doc.figures:
        _heading(pdf, "Medianer och andelar")
        _table(
            pdf,
            ["Mått", "Värde", "Enhet", "Bas"],
            [[f.title, number(f.value), f.unit, f.base_label] for f in doc.figures],
            widths=(0.5, 0.14, 0.12, 0.24),
        )

    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(width, 5, SUPPRESSED_LEGEND, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(pdf.epw, 6.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", size=9)


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(pdf.epw, 5.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(
    pdf: FPDF, header: Sequence[str], rows: Iterable[Sequence[str]], *, widths: Sequence[float]
) -> None:
    pdf.set_font("DejaVu", size=8)
    columns = tuple(round(pdf.epw * w, 2) for w in widths)
    with pdf.table(
        col_widths=columns, text_align="LEFT", line_height=4.5, first_row_as_headings=True
    ) as grid:
        heading = grid.row()
        for text in header:
            heading.cell(text)
        for values in rows:
            line = grid.row()
            for text in values:
                line.cell(text)
