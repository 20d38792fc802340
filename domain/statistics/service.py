"""The statistics service (issue 14 items 2–4): every built-in indicator of `INDICATORS` for
an activity's coverage and one follow-up period, as tables that are already safe.

What the indicators count (a coordinator's reading; the period is `[start, end)` in Stockholm
dates, and "the period's end" is the earlier of its end and `as_of`):
- cases_opened: cases opened in the period, by programme. cases_active: cases that had
  become active (consent complete) before the end and were not closed before the start.
  cases_closed: cases closed in the period, by outcome.
- young_people_flow, counted in distinct young people through pseudonyms scoped to the
  agreement: still active = active in the period with a case still open at its end;
  outflow = active in the period with no case open at its end; inflow = active in the period
  and in none of the agreement's earlier periods (from the first period's start).
- consents: records signed in the period by decision and signer; withdrawn = withdrawals made
  in the period, by the signer of the withdrawn record. consent_share: given of given and
  refused, in percent.
- meetings: meetings held in the period by kind (held = not cancelled, and final minutes or
  attendance recorded). Orossamtal (worry talks) are not a row of the catalogue and are left
  out. emergency_stop: the held emergency-stop meetings and the guardians who came to them
  (attendances). young_people_attending: distinct young people who came to a held meeting.
- cylinder_movement: per young person, from the first to the latest assessment before the
  end on the case with at least two assessments; "down" is towards a lower rank (less risk).
- commitments_done: done in the period; commitments_overdue: due before the end, not done by
  then, not cancelled; both by the kind of the agency that holds them.
- waiting_list: referrals on the waiting list at the end. days_waited: the median wait of the
  referrals that left the waiting list in the period.
- medians: days from referral to decision (decided in the period), to the first meeting (the
  first meeting in the period), case duration in Stockholm days (closed in the period).

Breakdowns: every fact carries the programme of its case and the young person's home area
(outside the grid's list: `OTHER_AREA`), school (`OTHER_SCHOOL`), gender and age band (age on
the period's last day). A young person counted once in a people indicator is placed by their
most recently opened case of the coverage that qualifies them.

Disclosure control: every count is a sum of microcells keyed (indicator, period code, row,
programme, area, school, gender, age band), the dimensions not in the grid collapsed to "*";
event counts (cases, consents, meetings, commitments, referrals) are computed for the whole
agreement, so the cells of every activity of one agreement are exact sums of the same
microcells and one audit covers them all. People counts depend on the covered programmes (a person
in two programmes is one person), so their indicator is namespaced by the programmes: activities
of the same programmes link, whatever schools or areas they cover. The audit is
solved per indicator and period: microcells of different indicators or periods never share a
cell, so the linear programs are independent and solving them apart is the same audit.
An earlier release of the same period that the current data contradicts (a correction after
late registration) is kept out of the linear program, and instead a cell it showed whose value
changed by 1..k−1 is suppressed in the new release (the differencing rule).
"""

from __future__ import annotations

import gc
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from common.clock import STOCKHOLM
from common.crypto import Pseudonymiser, PseudonymScope
from common.db import Sealed
from domain.people.models import GENDER_LABELS, Gender
from domain.people.personnummer import InvalidPersonnummer, parse_personnummer
from domain.referrals.rules import age_on, days_between
from domain.statistics.disclosure import Box, Cell, Release, box, protect
from domain.statistics.repository import Key, StatisticsFacts
from domain.statistics.spec import (
    AGE_BANDS,
    INDICATORS,
    OTHER_AREA,
    OTHER_SCHOOL,
    TOTAL,
    Breakdown,
    Coverage,
    IndicatorInfo,
    SafeFigure,
    SafeTable,
    StatisticsRequest,
    StatisticsResult,
)

ANY = "*"  # a dimension the grid does not break down by
PROGRAMMES = ("SSPF", "SIG")
PEOPLE_INDICATORS = frozenset({"young_people_flow", "young_people_attending", "cylinder_movement"})
NO_BREAKDOWN = ""
_NOUNS = {
    Breakdown.PROGRAMME: "insats",
    Breakdown.AREA: "område",
    Breakdown.SCHOOL: "skola",
    Breakdown.GENDER: "könsgrupp",
    Breakdown.AGE_BAND: "åldersgrupp",
}

_ONE = {
    Breakdown.PROGRAMME: "en insats",
    Breakdown.AREA: "ett område",
    Breakdown.SCHOOL: "en skola",
    Breakdown.GENDER: "en könsgrupp",
    Breakdown.AGE_BAND: "en åldersgrupp",
}

# The label of each stored gender text (no enum member built for each of a city's facts).
_GENDER_BY_TEXT = {gender.value: label for gender, label in GENDER_LABELS.items()}

# A fact's place in the breakdowns: (programme, area, school, gender, age band).
Dims = tuple[str, str, str, str, str]


class _Person(NamedTuple):  # a tuple: a city's facts build tens of thousands
    birth_date: date
    gender: str
    sealed_area: Sealed | None  # opened only for a person a fact reaches
    school: uuid.UUID | None

    @property
    def area(self) -> str | None:
        return None if self.sealed_area is None else self.sealed_area.open()


class _Case(NamedTuple):
    id: Key
    person: Key
    programme: str
    outcome: str | None
    opened_at: datetime
    closed_at: datetime | None
    active_at: datetime | None


def _utc(day: date) -> datetime:
    """The start of a Stockholm day, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM).astimezone(UTC)


def _age_band(age: int) -> str:
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    return AGE_BANDS[-1][0] if age > 0 else AGE_BANDS[0][0]


_AGE_BAND_OF = [_age_band(age) for age in range(AGE_BANDS[-1][2] + 1)]  # by age in years


def _band(age: int | None) -> str:
    """The age band of an age in years (an unknown age: the oldest band)."""
    if age is None:
        return _AGE_BAND_OF[-1]
    return _AGE_BAND_OF[min(max(age, 0), len(_AGE_BAND_OF) - 1)]


class _Grid:
    """The agreement's dimensions: which are expanded, and a fact's bucket in each."""

    def __init__(self, request: StatisticsRequest, last_day: date) -> None:
        grid = request.grid
        self.breakdowns = grid.breakdowns
        self.last_day = last_day
        self.school_names = dict(grid.schools)
        self.areas = frozenset(grid.areas)
        self.by_area = Breakdown.AREA in grid.breakdowns or bool(grid.areas)
        self.by_school = Breakdown.SCHOOL in grid.breakdowns or bool(grid.schools)
        self.by_gender = Breakdown.GENDER in grid.breakdowns
        self.by_age = Breakdown.AGE_BAND in grid.breakdowns
        self.values: dict[Breakdown, tuple[str, ...]] = {
            Breakdown.PROGRAMME: PROGRAMMES,
            Breakdown.AREA: (*grid.areas, OTHER_AREA) if self.by_area else (ANY,),
            Breakdown.SCHOOL: (*(name for _, name in grid.schools), OTHER_SCHOOL)
            if self.by_school
            else (ANY,),
            Breakdown.GENDER: tuple(GENDER_LABELS[g] for g in Gender) if self.by_gender else (ANY,),
            Breakdown.AGE_BAND: tuple(label for label, _, _ in AGE_BANDS)
            if self.by_age
            else (ANY,),
        }

    def dims(self, programme: str, person: _Person | None, age: int | None = None) -> Dims:
        if person is None:
            area, school, gender = OTHER_AREA, OTHER_SCHOOL, GENDER_LABELS[Gender.UNKNOWN]
        else:
            home = person.area if self.by_area else None  # opened only where it is shown
            area = home if home in self.areas else OTHER_AREA
            school = (
                self.school_names.get(person.school, OTHER_SCHOOL)
                if person.school
                else OTHER_SCHOOL
            )
            gender = _GENDER_BY_TEXT.get(person.gender, GENDER_LABELS[Gender.UNKNOWN])
            age = age_on(person.birth_date, self.last_day)
        return (
            programme,
            area if self.by_area else ANY,
            school if self.by_school else ANY,
            gender if self.by_gender else ANY,
            _band(age) if self.by_age else ANY,
        )


class _Coverage:
    """Which microcells an activity's cells sum, and which facts it covers."""

    def __init__(self, coverage: Coverage, grid: _Grid, people: Mapping[Key, _Person]):
        self.coverage = coverage
        self.people = people
        names = grid.school_names
        self.programmes = tuple(
            p for p in PROGRAMMES if not coverage.programmes or p in coverage.programmes
        )

        def covered_buckets(
            values: tuple[str, ...], chosen: Iterable[str], expanded: bool, other: str
        ) -> tuple[str, ...]:
            chosen = tuple(chosen)
            if not expanded or not chosen:
                return values
            inside = tuple(v for v in values if v in chosen)
            outside = any(c not in values for c in chosen)
            return (*inside, other) if outside else inside

        self.values = dict(grid.values)
        self.values[Breakdown.PROGRAMME] = self.programmes
        self.values[Breakdown.AREA] = covered_buckets(
            grid.values[Breakdown.AREA], coverage.areas, grid.by_area, OTHER_AREA
        )
        self.values[Breakdown.SCHOOL] = covered_buckets(
            grid.values[Breakdown.SCHOOL],
            (names.get(s, f"{s}") for s in coverage.school_agency_ids),
            grid.by_school,
            OTHER_SCHOOL,
        )

    def covers(self, programme: str, person_id: Key | None) -> bool:
        c = self.coverage
        if c.programmes and programme not in c.programmes:
            return False
        if not c.school_agency_ids and not c.areas:
            return True
        person = self.people.get(person_id) if person_id else None
        if person is None:
            return False
        if c.school_agency_ids and person.school not in c.school_agency_ids:
            return False
        return not (c.areas and person.area not in c.areas)


_AXIS = {
    Breakdown.PROGRAMME: 0,
    Breakdown.AREA: 1,
    Breakdown.SCHOOL: 2,
    Breakdown.GENDER: 3,
    Breakdown.AGE_BAND: 4,
}


def _median(values: Sequence[int], k: int) -> float | None:
    return float(statistics.median(values)) if len(values) >= max(k, 1) and values else None


def compute(
    session: Session,
    request: StatisticsRequest,
    pseudonyms: Pseudonymiser,
    *,
    as_of: datetime,
) -> StatisticsResult:
    """Every requested indicator for the activity and period, suppressed and audited against
    the agreement's earlier releases. Raises `ReleaseRefused` when no suppression protects it."""
    with _no_cycle_collection():
        return _compute(session, request, pseudonyms, as_of=as_of)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while a report runs. A report makes hundreds of
    thousands of small objects (a city's facts, their places, the count keys) and no
    reference cycles, and the collector would walk them again and again as they pile up: at
    50,000 cases, two full passes and ~500 young ones, about a tenth of the report
    (tests/perf/README.md). Reference counting frees everything as usual meanwhile; garbage
    with cycles made elsewhere in the process waits for the collector's next pass. A pause
    already in place (another report, or the embedding program) is left as it is."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _compute(
    session: Session,
    request: StatisticsRequest,
    pseudonyms: Pseudonymiser,
    *,
    as_of: datetime,
) -> StatisticsResult:
    wanted = request.indicators if request.indicators is not None else tuple(INDICATORS)
    unknown = [code for code in wanted if code not in INDICATORS]
    if unknown:
        raise ValueError(f"unknown indicators: {unknown}")
    period = request.period
    start_at = _utc(period.start)
    end_at = min(_utc(period.end), as_of)
    last_day = (end_at - timedelta(microseconds=1)).astimezone(STOCKHOLM).date()
    first_start = min((p.start for p in request.agreement_periods), default=period.start)
    facts = StatisticsFacts(session)
    grid = _Grid(request, last_day)
    people = {
        pid: _Person(birth, gender, area, school)
        for pid, birth, gender, area, school in facts.people()
    }
    cover = _Coverage(request.coverage, grid, people)
    scope = pseudonyms.scoped("young_people", str(request.agreement_id))
    places = _Places()
    counts: dict[str, dict[tuple[str, int], int]] = defaultdict(lambda: defaultdict(int))
    samples: dict[str, list[int]] = defaultdict(list)

    cases = [
        _Case(cid, pid, programme, outcome, opened, closed, active)
        for cid, pid, programme, _state, outcome, opened, closed, active in facts.cases(end_at)
    ]
    by_id = {c.id: c for c in cases}
    placed: dict[str, dict[Key, int]] = defaultdict(dict)  # programme -> young person -> place

    def place(programme: str, person: Key) -> int:
        known = placed[programme].get(person)
        if known is None:
            dims = grid.dims(programme, people.get(person))
            known = placed[programme][person] = places.of(dims)
        return known

    def case_place(case: _Case) -> int:
        return place(case.programme, case.person)

    # Cases: counted for the whole agreement (not the coverage), so activities link.
    for c in cases:
        if start_at <= c.opened_at < end_at:
            counts["cases_opened"][(c.programme, case_place(c))] += 1
        if _active_within(c, start_at, end_at):
            counts["cases_active"][(c.programme, case_place(c))] += 1
        if c.closed_at is not None and start_at <= c.closed_at < end_at:
            counts["cases_closed"][(c.outcome or "other", case_place(c))] += 1
            if cover.covers(c.programme, c.person):
                samples["case_duration"].append(days_between(c.opened_at, c.closed_at))

    # People: distinct young people of the coverage, through pseudonyms.
    covered = [c for c in cases if cover.covers(c.programme, c.person)]
    _people_flow(covered, scope, place, counts, start_at, end_at, _utc(first_start))

    for case_id, signer, decision, signed, withdrawn in facts.consents(
        period.start, period.end, start_at, end_at
    ):
        found = by_id.get(case_id)
        if found is None:
            continue
        signer_row = "young_person" if signer == "young_person" else "guardian"
        if signed and decision in ("given", "refused"):
            counts["consents"][(f"{decision}_{signer_row}", case_place(found))] += 1
        if withdrawn:
            counts["consents"][(f"withdrawn_{signer_row}", case_place(found))] += 1

    attended: dict[Key, _Case] = {}
    meeting_rows = frozenset(code for code, _ in INDICATORS["meetings"].rows)
    for case_id, kind, held, guardians, came in facts.meetings(start_at, end_at):
        found = by_id.get(case_id)
        if found is None:
            continue
        dims = case_place(found)
        if kind in meeting_rows:
            counts["meetings"][(kind, dims)] += int(held)
        if kind == "emergency_stop":
            counts["emergency_stop"][("meetings", dims)] += int(held)
            counts["emergency_stop"][("guardians_attending", dims)] += int(guardians or 0)
        if came and cover.covers(found.programme, found.person):
            known = attended.get(found.person)
            if known is None or known.opened_at < found.opened_at:
                attended[found.person] = found
    for person, c in attended.items():
        del person
        counts[_namespaced("young_people_attending", request)][("attended", case_place(c))] += 1

    movement: dict[Key, tuple[_Case, str]] = {}
    for case_id, first, latest in facts.assessments(period.end):
        found = by_id.get(case_id)
        if found is None or not cover.covers(found.programme, found.person):
            continue
        if not _active_within(found, start_at, end_at):
            continue
        row = "down" if latest < first else "up" if latest > first else "same"
        known_move = movement.get(found.person)
        if known_move is None or known_move[0].opened_at < found.opened_at:
            movement[found.person] = (found, row)
    for c, row in movement.values():
        counts[_namespaced("cylinder_movement", request)][(row, case_place(c))] += 1

    for case_id, agency_kind, done, overdue in facts.commitments(start_at, end_at, period.end):
        found = by_id.get(case_id)
        if found is None:
            continue
        dims = case_place(found)
        if done:
            counts["commitments_done"][(agency_kind, dims)] += 1
        if overdue:
            counts["commitments_overdue"][(agency_kind, dims)] += 1

    for (
        wished,
        chosen,
        person_id,
        _created,
        decided_at,
        to_decision,
        first_meeting_at,
        to_first,
        waiting_since,
        status,
        birth_year,
        personnummer,
    ) in facts.referrals(start_at, end_at):
        programme = chosen or wished
        if programme not in PROGRAMMES:
            programme = "SSPF" if wished == "SSPF" else "SIG" if wished == "SIG" else ""
        in_cover = bool(programme) and cover.covers(programme, person_id)
        if in_cover and to_decision is not None and _within(decided_at, start_at, end_at):
            samples["days_referral_to_decision"].append(to_decision)
        if in_cover and to_first is not None and _within(first_meeting_at, start_at, end_at):
            samples["days_referral_to_first_meeting"].append(to_first)
        if waiting_since is None or not programme:
            continue
        left_at = decided_at if status != "waiting" else None
        if waiting_since < end_at and (left_at is None or left_at >= end_at):
            registered = people.get(person_id) if person_id else None
            age = None if registered else _unregistered_age(birth_year, personnummer, last_day)
            waiting = places.of(grid.dims(programme, registered, age))
            counts["waiting_list"][("waiting", waiting)] += 1
        if left_at is not None and start_at <= left_at < end_at and in_cover:
            samples["days_waited"].append(days_between(waiting_since, left_at))

    return _release(request, wanted, grid, cover, places, counts, samples)


def _within(moment: datetime | None, start_at: datetime, end_at: datetime) -> bool:
    return moment is not None and start_at <= moment < end_at


def _active_within(case: _Case, start_at: datetime, end_at: datetime) -> bool:
    return (
        case.active_at is not None
        and case.active_at < end_at
        and (case.closed_at is None or case.closed_at >= start_at)
    )


def _open_at(case: _Case, moment: datetime) -> bool:
    return case.opened_at < moment and (case.closed_at is None or case.closed_at >= moment)


def _unregistered_age(birth_year: int | None, personnummer: str | None, day: date) -> int | None:
    if personnummer:
        try:
            return age_on(parse_personnummer(personnummer, today=day).birth_date, day)
        except InvalidPersonnummer:
            pass
    return day.year - birth_year if birth_year else None


def _namespaced(indicator: str, request: StatisticsRequest) -> str:
    """People counts are not sums over programmes: a young person in SSPF and in SIG is one
    person in an activity covering both. They are sums over the person's own attributes (area,
    school, gender, age band), so the microcells are namespaced by the covered programmes only:
    activities of the same programmes (all SSPF, SSPF at one school) share them, and one audit
    sees the difference of two such activities."""
    programmes = ",".join(sorted(request.coverage.programmes)) or "*"
    return f"{indicator}@{programmes}"


def _people_flow(
    covered: Sequence[_Case],
    scope: PseudonymScope,
    place: Callable[[str, Key], int],
    counts: dict[str, dict[tuple[str, int], int]],
    start_at: datetime,
    end_at: datetime,
    agreement_start_at: datetime,
) -> None:
    earlier: set[bytes] = set()
    placed: dict[bytes, _Case] = {}
    still_open: set[bytes] = set()
    for c in covered:
        active_earlier = agreement_start_at < start_at and _active_within(
            c, agreement_start_at, start_at
        )
        active = _active_within(c, start_at, end_at)
        open_at_end = _open_at(c, end_at)
        if not (active_earlier or active or open_at_end):
            continue  # no pseudonym for a case that counts nowhere
        pseudonym = scope.of(c.person)
        if active_earlier:
            earlier.add(pseudonym)
        if active:
            known = placed.get(pseudonym)
            if known is None or known.opened_at < c.opened_at:
                placed[pseudonym] = c
        if open_at_end:
            still_open.add(pseudonym)
    flow = counts["__flow__"]
    for pseudonym, c in placed.items():
        where = place(c.programme, c.person)
        if pseudonym not in earlier:
            flow[("inflow", where)] += 1
        flow[("still_active" if pseudonym in still_open else "outflow", where)] += 1


def _cells(
    code: str,
    namespace: str,
    period_code: str,
    row_codes: Sequence[str],
    micro: _Microcells,
    grid: _Grid,
    cover: _Coverage,
) -> list[Cell]:
    """The indicator's cells in every table: the table with no breakdown (rows × Totalt) and
    one per breakdown, each with row, column and grand totals; every cell a box over the
    microcells (namespace, period, row, programme, area, school, gender, age band)."""
    dimensions = tuple(frozenset(cover.values[b]) for b in _AXIS)
    inside = micro.chosen((frozenset(row_codes), *dimensions))

    def cell_box(rows: Iterable[str], axis: int | None = None, value: str = "") -> Box:
        dims = list(dimensions)
        if axis is not None:
            dims[axis] = frozenset({value})
        return (frozenset({namespace}), frozenset({period_code}), frozenset(rows), *dims)

    row_values = micro.by_row(inside)
    cells: list[Cell] = []
    for breakdown in (None, *grid.breakdowns):
        tag = breakdown.value if breakdown else NO_BREAKDOWN
        if breakdown is not None:
            axis = _AXIS[breakdown]
            counted = micro.by_row_and(inside, 1 + axis)
            columns = cover.values[breakdown]
            for row in row_codes:
                for column in columns:
                    cells.append(
                        Cell(
                            (code, tag, row, column),
                            cell_box({row}, axis, column),
                            counted.get((row, column), 0),
                        )
                    )
            for column in columns:
                cells.append(
                    Cell(
                        (code, tag, TOTAL, column),
                        cell_box(row_codes, axis, column),
                        sum(counted.get((row, column), 0) for row in row_codes),
                    )
                )
        for row in row_codes:
            cells.append(Cell((code, tag, row, TOTAL), cell_box({row}), row_values.get(row, 0)))
        cells.append(Cell((code, tag, TOTAL, TOTAL), cell_box(row_codes), sum(row_values.values())))
    return cells


def _release(
    request: StatisticsRequest,
    wanted: Sequence[str],
    grid: _Grid,
    cover: _Coverage,
    places: _Places,
    counts: dict[str, dict[tuple[str, int], int]],
    samples: Mapping[str, list[int]],
) -> StatisticsResult:
    k = request.k
    budget = request.proof_budget_s
    deadline = None if budget is None else time.monotonic() + budget
    period = request.period
    counts[_namespaced("young_people_flow", request)] = counts.pop("__flow__", defaultdict(int))
    all_cells: list[Cell] = []
    all_suppressed: set[tuple[str, ...]] = set()
    layouts: list[tuple[IndicatorInfo, Breakdown | None, tuple[str, ...], tuple[str, ...]]] = []
    notes: list[str] = []
    withheld_columns: dict[Breakdown, int] = defaultdict(int)

    for code in wanted:
        info = INDICATORS[code]
        if info.is_figure:
            continue
        namespace = _namespaced(code, request) if code in PEOPLE_INDICATORS else code
        row_codes = tuple(row for row, _ in info.rows)

        structural: list[Box] = []
        if code in ("cases_opened", "cases_active"):  # a case's row is its programme
            everything = [frozenset(grid.values[b]) for b in _AXIS]
            for row in row_codes:
                others = frozenset(PROGRAMMES) - {row}
                structural.append(box(namespace, period.code, row, others, *everything[1:]))
        micro = _Microcells(counts.get(namespace, {}), places)
        cells = _cells(code, namespace, period.code, row_codes, micro, grid, cover)
        for breakdown in (None, *grid.breakdowns):
            columns = (*cover.values[breakdown], TOTAL) if breakdown else (TOTAL,)
            labels = tuple(info.row_label(r) for r in row_codes)
            layouts.append((info, breakdown, labels, columns))
        earlier, forced = _earlier_for(request, namespace, cells, micro, k)
        protected = protect(
            cells,
            k=k,
            earlier=earlier,
            structural_zeros=structural,
            forced=forced,
            deadline=deadline,
        )
        all_cells.extend(cells)
        all_suppressed |= protected.release.suppressed
        for cell in cells:
            _, tag, row, column = cell.key
            if (
                tag
                and row == TOTAL
                and column != TOTAL
                and cell.key in protected.release.suppressed
            ):
                withheld_columns[Breakdown(tag)] += 1

    release = Release(cells=tuple(all_cells), suppressed=frozenset(all_suppressed))
    by_key = {cell.key: cell for cell in all_cells}
    tables_out: list[SafeTable] = []
    for info, breakdown, row_labels, columns in layouts:
        tag = breakdown.value if breakdown else NO_BREAKDOWN
        label_to_code = {label: code for code, label in info.rows}
        values_out: dict[tuple[str, str], int | None] = {}
        for label in (*row_labels, TOTAL):
            row = label_to_code.get(label, TOTAL)
            for column in columns:
                key = (info.code, tag, row, column)
                if key not in by_key:
                    continue
                values_out[(label, column)] = None if key in all_suppressed else by_key[key].value
        title = info.title if breakdown is None else f"{info.title} per {_NOUNS[breakdown]}"
        tables_out.append(
            SafeTable(
                indicator=info.code,
                title=title,
                breakdown=breakdown,
                rows=(*row_labels, TOTAL),
                columns=columns,
                values=values_out,
                unit=info.unit,
            )
        )

    figures = [
        _figure(INDICATORS[code], samples, release, k)
        for code in wanted
        if INDICATORS[code].is_figure
    ]
    for breakdown, count in withheld_columns.items():
        if count:
            notes.append(
                f"I minst {_ONE[breakdown]} är de unga för få för att redovisas; "
                f"deras siffror visas som –."
            )
    return StatisticsResult(
        tables=tuple(tables_out), figures=tuple(figures), release=release, notes=tuple(notes)
    )


_BASES = {
    "days_referral_to_decision": "beslutade aktualiseringar",
    "days_referral_to_first_meeting": "aktualiseringar med första möte",
    "case_duration": "avslutade ärenden",
    "days_waited": "unga som lämnat väntelistan",
    "consent_share": "givna och nekade samtycken",
}


def _figure(
    info: IndicatorInfo, samples: Mapping[str, list[int]], release: Release, k: int
) -> SafeFigure:
    base = _BASES[info.code]
    if info.code != "consent_share":
        value = _median(samples.get(info.code, []), k)
        return SafeFigure(info.code, info.title, value, info.unit, base)
    # The share is shown only when the four totals it is made of are shown: then it tells
    # nothing the table does not, and it is withheld when their sum is below k.
    totals = {}
    for cell in release.cells:
        code, tag, row, column = cell.key
        if code == "consents" and tag == NO_BREAKDOWN and column == TOTAL and row != TOTAL:
            totals[row] = None if cell.key in release.suppressed else cell.value
    parts = [
        totals.get(f"{d}_{s}") for d in ("given", "refused") for s in ("young_person", "guardian")
    ]
    if any(p is None for p in parts):
        return SafeFigure(info.code, info.title, None, info.unit, base)
    given = sum(p or 0 for p in parts[:2])
    whole = given + sum(p or 0 for p in parts[2:])
    value = round(100 * given / whole, 1) if whole >= k and whole > 0 else None
    return SafeFigure(info.code, info.title, value, info.unit, base)


def _earlier_for(
    request: StatisticsRequest,
    namespace: str,
    cells: Sequence[Cell],
    micro: _Microcells,
    k: int,
) -> tuple[list[Release], frozenset[tuple[str, ...]]]:
    """The earlier releases' cells of this indicator and period, to audit against; and the
    cells to suppress by the differencing rule when an earlier release is contradicted."""
    code = request.period.code
    linked: list[Release] = []
    forced: set[tuple[str, ...]] = set()
    by_parts = {cell.parts: cell for cell in cells}

    for release in request.earlier:
        origin = (frozenset({namespace}), frozenset({code}))
        mine = [c for c in release.cells if c.parts[:2] == origin]
        if not mine:
            continue
        # Only the shown values are known: the ledger keeps no suppressed value (it gives 0).
        consistent = all(
            micro.total(c.parts[2:]) == c.value for c in mine if c.key not in release.suppressed
        )
        if consistent:
            linked.append(Release(cells=tuple(mine), suppressed=release.suppressed))
            continue
        for old in mine:
            if old.key in release.suppressed:
                continue
            new = by_parts.get(old.parts)
            if new is not None and 0 < abs(new.value - old.value) < k:
                forced.add(new.key)
    return linked, frozenset(forced)


class _Places:
    """The places facts are counted at, (programme, area, school, gender, age band), each
    numbered once: a count's key is then a row and a number, cheap to make and to hash, and
    the microcells read each place's dimensions once rather than once per count."""

    def __init__(self) -> None:
        self.dims: list[Dims] = []
        self._numbers: dict[Dims, int] = {}
        self._columns: tuple[list[dict[str, int]], list[npt.NDArray[np.intp]]] | None = None

    def of(self, dims: Dims) -> int:
        number = self._numbers.get(dims)
        if number is None:
            number = self._numbers[dims] = len(self.dims)
            self.dims.append(dims)
            self._columns = None
        return number

    def columns(self) -> tuple[list[dict[str, int]], list[npt.NDArray[np.intp]]]:
        """Per dimension: its values' codes, and each place's code."""
        if self._columns is None:
            names: list[dict[str, int]] = [{} for _ in _AXIS]
            codes = (
                [
                    np.asarray([named.setdefault(v, len(named)) for v in column], dtype=np.intp)
                    for named, column in zip(names, zip(*self.dims, strict=True), strict=True)
                ]
                if self.dims
                else [np.empty(0, dtype=np.intp) for _ in _AXIS]
            )
            self._columns = names, codes
        return self._columns


class _Microcells:
    """An indicator's microcell counts as arrays: for the row and each breakdown dimension, a
    code per microcell into that dimension's values. Any box's sum, and the sums by row and
    by one dimension that make a table, are then a few array operations rather than a pass
    over every count in Python (a city has tens of thousands of microcells an indicator)."""

    def __init__(self, values: Mapping[tuple[str, int], int], places: _Places) -> None:
        self.counts = np.fromiter(values.values(), dtype=np.int64, count=len(values))
        rows: dict[str, int] = {}
        row_codes = [rows.setdefault(row, len(rows)) for row, _ in values]
        numbers = np.fromiter((number for _, number in values), dtype=np.intp, count=len(values))
        names, codes = places.columns()
        self._names = [rows, *names]  # per dimension: value -> code
        self._codes = [np.asarray(row_codes, dtype=np.intp), *(c[numbers] for c in codes)]

    def chosen(self, parts: Sequence[frozenset[str]]) -> npt.NDArray[np.bool_]:
        """Which microcells a box over (row, programme, area, school, gender, age band) holds."""
        chosen = np.ones(len(self.counts), dtype=bool)
        for names, codes, values in zip(self._names, self._codes, parts, strict=True):
            if names.keys() <= values:
                continue
            allowed = np.zeros(len(names), dtype=bool)
            allowed[[names[v] for v in values & names.keys()]] = True
            chosen &= allowed[codes]
        return chosen

    def total(self, parts: Sequence[frozenset[str]]) -> int:
        return int(self.counts[self.chosen(parts)].sum())

    def by_row(self, chosen: npt.NDArray[np.bool_]) -> dict[str, int]:
        sums = self._sums(chosen, self._codes[0], len(self._names[0]))
        return {row: int(sums[code]) for row, code in self._names[0].items()}

    def by_row_and(
        self, chosen: npt.NDArray[np.bool_], dimension: int
    ) -> dict[tuple[str, str], int]:
        width = len(self._names[dimension])
        combined = self._codes[0] * width + self._codes[dimension]
        sums = self._sums(chosen, combined, len(self._names[0]) * width)
        return {
            (row, value): int(sums[r * width + c])
            for row, r in self._names[0].items()
            for value, c in self._names[dimension].items()
        }

    def _sums(
        self, chosen: npt.NDArray[np.bool_], codes: npt.NDArray[np.intp], length: int
    ) -> npt.NDArray[np.int64]:
        # `bincount` adds in float64: exact for any count a municipality has (below 2**53).
        weights = np.where(chosen, self.counts, 0)
        return np.bincount(codes, weights=weights, minlength=length).astype(np.int64)
