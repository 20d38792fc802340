"""A stand-in for the statistics service (`domain.statistics.service.compute`) for the follow-up
report's tests: realistic safe tables, protected by the real disclosure control (so that the
earlier releases the report passes on are really audited), from fixed counts instead of case
data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from domain.statistics.disclosure import Cell, Release, grid, protect
from domain.statistics.periods import Period
from domain.statistics.spec import (
    INDICATORS,
    TOTAL,
    Breakdown,
    SafeFigure,
    SafeTable,
    StatisticsRequest,
    StatisticsResult,
)

AREAS = ("Bäckby", "Skultuna", "Vallby")
# (indicator, row code) -> counts per area, in AREAS order
COUNTS: dict[str, dict[str, tuple[int, ...]]] = {
    "young_people_flow": {
        "inflow": (9, 2, 7),
        "outflow": (6, 6, 1),
        "still_active": (14, 8, 11),
    },
    "consents": {
        "given_young_person": (12, 7, 9),
        "given_guardian": (15, 9, 3),
        "refused_young_person": (1, 0, 6),
        "refused_guardian": (2, 5, 5),
        "withdrawn_young_person": (0, 0, 0),
        "withdrawn_guardian": (0, 1, 0),
    },
    "meetings": {
        "start": (10, 6, 8),
        "network": (12, 5, 9),
        "team": (30, 12, 20),
        "follow_up": (7, 3, 6),
        "emergency_stop": (2, 0, 5),
    },
}


def safe_table(
    indicator: str,
    counts: Mapping[str, tuple[int, ...]],
    period: Period,
    *,
    k: int,
    earlier: Sequence[Release],
    scale: int = 0,
) -> tuple[SafeTable, list[Cell], frozenset[tuple[str, ...]]]:
    info = INDICATORS[indicator]
    rows = [label for _code, label in info.rows]
    by_label = dict(info.rows)
    values = {
        (by_label[code], area): count + scale
        for code, per_area in counts.items()
        for area, count in zip(AREAS, per_area, strict=True)
    }
    cells = grid(rows, AREAS, values, prefix=(period.code, indicator))
    protected = protect(cells, k=k, earlier=earlier)
    shown: dict[tuple[str, str], int | None] = {}
    for cell in cells:
        row, column = cell.key
        shown[(row, column)] = None if cell.key in protected.release.suppressed else cell.value
    table = SafeTable(
        indicator=indicator,
        title=info.title,
        breakdown=Breakdown.AREA,
        rows=(*rows, TOTAL),
        columns=(*AREAS, TOTAL),
        values=shown,
    )
    keyed = [Cell((indicator, *c.key), c.parts, c.value) for c in cells]
    suppressed = frozenset((indicator, *key) for key in protected.release.suppressed)
    return table, keyed, suppressed


@dataclass
class FakeStatistics:
    """Call it like the real one; it keeps each request it was given. `scale` adds to every
    count (a later correction with different data); `refuse` raises ReleaseRefused."""

    scale: int = 0
    requests: list[StatisticsRequest] = field(default_factory=list)

    def __call__(self, session: Session, request: StatisticsRequest) -> StatisticsResult:
        self.requests.append(request)
        return fake_result(request, scale=self.scale)


def fake_result(request: StatisticsRequest, *, scale: int = 0) -> StatisticsResult:
    tables: list[SafeTable] = []
    cells: list[Cell] = []
    suppressed: set[tuple[str, ...]] = set()
    for indicator, counts in COUNTS.items():
        earlier = [
            Release(
                cells=[c for c in r.cells if c.key[0] == indicator],
                suppressed=frozenset(s for s in r.suppressed if s[0] == indicator),
            )
            for r in request.earlier
        ]
        stripped = [
            Release(
                cells=[Cell(c.key[1:], c.parts, c.value) for c in r.cells],
                suppressed=frozenset(s[1:] for s in r.suppressed),
            )
            for r in earlier
        ]
        table, keyed, hidden = safe_table(
            indicator, counts, request.period, k=request.k, earlier=stripped, scale=scale
        )
        tables.append(table)
        cells += keyed
        suppressed |= hidden
    figures = (
        SafeFigure("consent_share", INDICATORS["consent_share"].title, 71.4, "%", "samtycken"),
        SafeFigure(
            "days_referral_to_first_meeting",
            INDICATORS["days_referral_to_first_meeting"].title,
            None,
            "dagar",
            "aktualiseringar",
        ),
        SafeFigure("case_duration", INDICATORS["case_duration"].title, 143.5, "dagar", "ärenden"),
    )
    return StatisticsResult(
        tables=tuple(tables),
        figures=figures,
        release=Release(cells=tuple(cells), suppressed=frozenset(suppressed)),
        notes=("Färre än 5 unga i Skultuna: vissa siffror per område visas inte.",),
    )


def sample_period() -> Period:
    return Period(date(2026, 5, 1), date(2026, 9, 1), "2026-T2", "T2 2026 (maj–aug)")
