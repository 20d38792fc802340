"""What passes between the agreement follow-up (`domain.agreements`), the statistics service
(`domain.statistics.service`) and the renderers (`domain.statistics.render`, the dashboard).

Nothing here holds a row, an id of a case or person, a date of an event or free text about a
young person: a `SafeTable` is what may be shown to a steering group, already suppressed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.statistics.disclosure import Release
from domain.statistics.periods import Period

DEFAULT_K = 5
SUPPRESSED_MARK = "–"  # how a suppressed number is shown everywhere: pages, CSV, PDF, charts
SUPPRESSED_LEGEND = "– = uppgiften visas inte, för att ingen enskild ung person ska kunna pekas ut"
TOTAL = "Totalt"


class Breakdown(StrEnum):
    PROGRAMME = "programme"
    AREA = "area"
    SCHOOL = "school"
    GENDER = "gender"
    AGE_BAND = "age_band"


BREAKDOWN_LABELS = {
    Breakdown.PROGRAMME: "Insats",
    Breakdown.AREA: "Område",
    Breakdown.SCHOOL: "Skola",
    Breakdown.GENDER: "Kön",
    Breakdown.AGE_BAND: "Åldersgrupp",
}

# Age at the end of the period. Fixed, so that bands never move between releases.
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("12 år eller yngre", 0, 12),
    ("13–14 år", 13, 14),
    ("15–17 år", 15, 17),
    ("18–20 år", 18, 20),
    ("21 år eller äldre", 21, 200),
)
OTHER_AREA = "Övriga områden"  # a home area outside the agreement's list, or none recorded
OTHER_SCHOOL = "Övriga skolor"  # a school outside the agreement's list, or none recorded


class TargetKind(StrEnum):
    COUNT = "count"  # a count over the period, e.g. "bryta loss minst 15 unga"
    SHARE = "share"  # a share in percent, e.g. "80 % har samtycke"
    MEDIAN_DAYS = "median_days"  # e.g. "högst 14 dagar till första mötet"


class Comparison(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


@dataclass(frozen=True)
class Coverage:
    """What an activity covers; an empty set means no restriction on that dimension."""

    programmes: frozenset[str] = frozenset()
    school_agency_ids: frozenset[uuid.UUID] = frozenset()
    areas: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Grid:
    """The agreement's fixed breakdowns and their values, chosen before data is seen."""

    breakdowns: tuple[Breakdown, ...]
    areas: tuple[str, ...] = ()
    schools: tuple[tuple[uuid.UUID, str], ...] = ()  # (school agency id, name) in order


@dataclass(frozen=True)
class StatisticsRequest:
    agreement_id: uuid.UUID  # the pseudonym scope: people link across this agreement's periods
    coverage: Coverage
    period: Period
    agreement_periods: tuple[Period, ...]  # every period of the agreement of the same kind
    grid: Grid
    k: int = DEFAULT_K
    indicators: tuple[str, ...] | None = None  # None: every built-in indicator
    # What the agreement has already published, for the audit of this release.
    earlier: Sequence[Release] = ()
    # Seconds the disclosure proof may take before the release is refused (None: no limit).
    # A request must not hang on a grid too fine to prove; the benchmark passes None.
    proof_budget_s: float | None = 30.0


@dataclass(frozen=True)
class SafeTable:
    """One indicator broken down one way: rows are the indicator's categories (or a single
    row), columns the breakdown's values, each with `TOTAL`. A value of None is suppressed."""

    indicator: str
    title: str
    breakdown: Breakdown | None
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: Mapping[tuple[str, str], int | None]
    unit: str = "antal"


@dataclass(frozen=True)
class SafeFigure:
    """A median or a share, withheld (value None) when its base is suppressed or below k."""

    indicator: str
    title: str
    value: float | None
    unit: str  # "dagar" or "%"
    base_label: str  # what the base counts, e.g. "avslutade ärenden"


@dataclass(frozen=True)
class StatisticsResult:
    tables: tuple[SafeTable, ...]
    figures: tuple[SafeFigure, ...]
    # The disclosure view of this release (cells over microcells, which were suppressed),
    # kept by the release ledger so that later releases are audited against it. Never
    # published: it holds the suppressed values.
    release: Release
    # Statements for the report when a whole breakdown had to be withheld, e.g. "Färre än 5
    # unga i Nybyggeskolan: siffrorna per skola visas inte."
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetResult:
    indicator: str
    label: str  # "Bryta loss minst 15 unga"
    target: str  # "minst 15"
    actual: str  # "17", or SUPPRESSED_MARK
    met: bool | None  # None: "kan inte bedömas" (withheld)


@dataclass(frozen=True)
class ReportDocument:
    """A follow-up report as frozen at publication: everything the JSON, CSV, PDF and the
    dashboard show, and nothing else."""

    agreement: str
    activity: str
    period: Period
    k: int
    tables: tuple[SafeTable, ...]
    figures: tuple[SafeFigure, ...]
    targets: tuple[TargetResult, ...]
    narrative: str  # the coordinator's text: "Är målet nått? Vilka aktiviteter har genomförts?"
    notes: tuple[str, ...] = ()
    published_at: datetime | None = None  # None in a preview
    release_number: int | None = None  # 1, 2, ... within the agreement; None in a preview
    corrects: int | None = None  # the release number this one corrects
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IndicatorInfo:
    """A built-in indicator. A table indicator counts, in `rows` (code, Swedish label), and is
    broken down by every breakdown of the grid; a figure indicator is one median or share.
    A target names an indicator, for a table one of its row codes (or None for the total)."""

    code: str
    title: str
    rows: tuple[tuple[str, str], ...] = ()  # empty for a figure
    unit: str = "antal"  # "antal", "dagar" or "%"
    target_kinds: frozenset[TargetKind] = frozenset({TargetKind.COUNT})

    @property
    def is_figure(self) -> bool:
        return not self.rows

    def row_label(self, code: str | None) -> str:
        return TOTAL if code is None else dict(self.rows)[code]


_COUNT = frozenset({TargetKind.COUNT})
_SHARE = frozenset({TargetKind.SHARE})
_MEDIAN = frozenset({TargetKind.MEDIAN_DAYS})
_PROGRAMMES = (("SSPF", "SSPF"), ("SIG", "SIG"))
_AGENCY_KINDS = (
    ("social_services", "Socialtjänst"),
    ("school", "Skola"),
    ("police", "Polis"),
    ("leisure", "Fritid"),
    ("other", "Annan aktör"),
)

# Every indicator the statistics service computes; the service must implement each code.
INDICATORS: dict[str, IndicatorInfo] = {
    info.code: info
    for info in (
        IndicatorInfo("cases_opened", "Ärenden som öppnats", _PROGRAMMES),
        IndicatorInfo("cases_active", "Ärenden aktiva under perioden", _PROGRAMMES),
        IndicatorInfo(
            "cases_closed",
            "Avslutade ärenden efter utfall",
            (
                ("goals_met", "Målen uppnådda"),
                ("consent_withdrawn", "Samtycket återkallat"),
                ("moved", "Flyttat"),
                ("age_limit", "Åldersgräns"),
                ("transferred", "Överfört till andra insatser"),
                ("other", "Annat"),
            ),
        ),
        IndicatorInfo(
            "young_people_flow",
            "Unga in och ut (inflöde och utflöde)",
            (
                ("inflow", "Nya under perioden"),
                ("outflow", "Avslutade under perioden"),
                ("still_active", "Kvar vid periodens slut"),
            ),
        ),
        IndicatorInfo(
            "consents",
            "Samtycken efter beslut och vem som undertecknat",
            (
                ("given_young_person", "Givna – den unga"),
                ("given_guardian", "Givna – vårdnadshavare"),
                ("refused_young_person", "Nekade – den unga"),
                ("refused_guardian", "Nekade – vårdnadshavare"),
                ("withdrawn_young_person", "Återkallade – den unga"),
                ("withdrawn_guardian", "Återkallade – vårdnadshavare"),
            ),
        ),
        IndicatorInfo(
            "consent_share",
            "Andel givna samtycken av givna och nekade",
            unit="%",
            target_kinds=_SHARE,
        ),
        IndicatorInfo(
            "meetings",
            "Hållna möten efter typ",
            (
                ("start", "Uppstart / kartläggande samtal"),
                ("network", "Nätverksmöte"),
                ("team", "Teammöte"),
                ("follow_up", "Uppföljning"),
                ("emergency_stop", "Nödstoppsmöte"),
            ),
        ),
        IndicatorInfo(
            "emergency_stop",
            "Nödstoppsmöten och närvarande vårdnadshavare",
            (("meetings", "Nödstoppsmöten"), ("guardians_attending", "Närvarande vårdnadshavare")),
        ),
        IndicatorInfo(
            "young_people_attending",
            "Unga som deltagit i minst ett möte",
            (("attended", "Unga som deltagit"),),
        ),
        IndicatorInfo(
            "days_referral_to_decision",
            "Dagar från aktualisering till beslut (median)",
            unit="dagar",
            target_kinds=_MEDIAN,
        ),
        IndicatorInfo(
            "days_referral_to_first_meeting",
            "Dagar från aktualisering till första möte (median)",
            unit="dagar",
            target_kinds=_MEDIAN,
        ),
        IndicatorInfo(
            "case_duration", "Ärendenas längd i dagar (median)", unit="dagar", target_kinds=_MEDIAN
        ),
        IndicatorInfo(
            "cylinder_movement",
            "Förflyttning i cylindermodellen mellan första och senaste bedömning",
            (("down", "Mot lägre risk"), ("same", "Oförändrad"), ("up", "Mot högre risk")),
        ),
        IndicatorInfo("commitments_done", "Åtaganden klara, per aktör", _AGENCY_KINDS),
        IndicatorInfo("commitments_overdue", "Åtaganden försenade, per aktör", _AGENCY_KINDS),
        IndicatorInfo(
            "waiting_list",
            "Väntelista vid periodens slut",
            (("waiting", "Väntande"),),
        ),
        IndicatorInfo(
            "days_waited", "Dagar på väntelistan (median)", unit="dagar", target_kinds=_MEDIAN
        ),
    )
}
