"""The fixed grid of follow-up periods (DESIGN §7): tertials, half-years, school terms and
years, always on calendar boundaries, so that two releases can never be cut to overlap in a
way that differences out a few people. Pure: no database.

A period is half-open, `[start, end)`, in dates of Europe/Stockholm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class PeriodKind(StrEnum):
    TERTIAL = "tertial"
    HALF_YEAR = "half_year"
    SCHOOL_TERM = "school_term"
    YEAR = "year"


PERIOD_KIND_LABELS = {
    PeriodKind.TERTIAL: "Tertial",
    PeriodKind.HALF_YEAR: "Halvår",
    PeriodKind.SCHOOL_TERM: "Termin",
    PeriodKind.YEAR: "År",
}


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # exclusive
    code: str  # "2025-T2", "2025-H1", "HT2025", "2025"
    label: str  # "T2 2025 (maj–aug)"

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end


# Each kind's periods within one calendar year: (code pattern, label, first month, end month).
_SLICES: dict[PeriodKind, tuple[tuple[str, str, int, int], ...]] = {
    PeriodKind.TERTIAL: (
        ("{y}-T1", "T1 {y} (jan–apr)", 1, 5),
        ("{y}-T2", "T2 {y} (maj–aug)", 5, 9),
        ("{y}-T3", "T3 {y} (sep–dec)", 9, 13),
    ),
    PeriodKind.HALF_YEAR: (
        ("{y}-H1", "Första halvåret {y}", 1, 7),
        ("{y}-H2", "Andra halvåret {y}", 7, 13),
    ),
    # Terms on half-year boundaries, so the grid covers the whole year: VT January–June,
    # HT July–December (the summer holiday counts to the autumn term).
    PeriodKind.SCHOOL_TERM: (
        ("VT{y}", "Vårterminen {y}", 1, 7),
        ("HT{y}", "Hösterminen {y}", 7, 13),
    ),
    PeriodKind.YEAR: (("{y}", "År {y}", 1, 13),),
}


def _month_start(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 13 else date(year, month, 1)


def periods(kind: PeriodKind, start: date, end: date) -> list[Period]:
    """The periods of `kind` that lie wholly within `[start, end)`, in order."""
    found: list[Period] = []
    for year in range(start.year, end.year + 1):
        for code, label, first, last in _SLICES[kind]:
            period = Period(
                start=_month_start(year, first),
                end=_month_start(year, last),
                code=code.format(y=year),
                label=label.format(y=year),
            )
            if start <= period.start and period.end <= end:
                found.append(period)
    return found


_CODE = re.compile(r"^(?:(\d{4})(?:-(T[1-3]|H[12]))?|(VT|HT)(\d{4}))$")


def parse(code: str) -> Period:
    """The period a code names; ValueError when it names none."""
    match = _CODE.match(code)
    if match is None:
        raise ValueError(f"not a period code: {code!r}")
    year_text, part, term, term_year = match.groups()
    if term is not None:
        kind, year, wanted = PeriodKind.SCHOOL_TERM, int(term_year), f"{term}{term_year}"
    elif part is None:
        kind, year, wanted = PeriodKind.YEAR, int(year_text), year_text
    else:
        kind = PeriodKind.TERTIAL if part.startswith("T") else PeriodKind.HALF_YEAR
        year, wanted = int(year_text), f"{year_text}-{part}"
    year_periods = periods(kind, date(year, 1, 1), date(year + 1, 1, 1))
    [period] = (p for p in year_periods if p.code == wanted)
    return period


def kind_of(period: Period) -> PeriodKind:
    code = period.code
    if code.startswith(("VT", "HT")):
        return PeriodKind.SCHOOL_TERM
    if "-T" in code:
        return PeriodKind.TERTIAL
    if "-H" in code:
        return PeriodKind.HALF_YEAR
    return PeriodKind.YEAR
