"""Adversarial test of the statistics service's release rules (issue 14 item 4): random
small-municipality tables over the service's microcells, a first release and a corrected
second release of the same period. An integer attacker (the MILP of test_disclosure) that
sees both must never pin a suppressed cell within k, and no cell shown in both may move by
1..k−1 (which would single out the people the correction added or removed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.statistics.disclosure import Box, Cell, Release, ReleaseRefused, box, protect
from domain.statistics.periods import parse
from domain.statistics.service import _earlier_for, _Microcells, _Places
from domain.statistics.spec import TOTAL, Coverage, Grid, StatisticsRequest
from tests.unit.domain.test_disclosure import attack

K = 5
PERIOD = parse("2025-T2")
ROWS = ("given", "refused")
AREAS = ("Norr", "Söder", "Väster")
Dims = tuple[str, str, str, str, str]


def dims(area: str) -> Dims:
    return ("SSPF", area, "*", "*", "*")


def cells_of(values: dict[tuple[str, Dims], int]) -> list[Cell]:
    def part(rows: Iterable[str], areas: Iterable[str]) -> Box:
        return box("consents", PERIOD.code, rows, "SSPF", areas, "*", "*", "*")

    cells = []
    for row in ROWS:
        for area in AREAS:
            value = values.get((row, dims(area)), 0)
            cells.append(Cell(("consents", "area", row, area), part({row}, {area}), value))
        value = sum(values.get((row, dims(a)), 0) for a in AREAS)
        cells.append(Cell(("consents", "area", row, TOTAL), part({row}, AREAS), value))
    for area in AREAS:
        value = sum(values.get((r, dims(area)), 0) for r in ROWS)
        cells.append(Cell(("consents", "area", TOTAL, area), part(ROWS, {area}), value))
    cells.append(Cell(("consents", "area", TOTAL, TOTAL), part(ROWS, AREAS), sum(values.values())))
    return cells


def _microcells(values: dict[tuple[str, Dims], int]) -> _Microcells:
    places = _Places()
    return _Microcells({(row, places.of(d)): n for (row, d), n in values.items()}, places)


counts = st.lists(st.integers(0, 12), min_size=6, max_size=6)
changes = st.lists(st.integers(0, 2), min_size=6, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts, changes)
def test_a_correction_gives_nobody_away(first: list[int], added: list[int]) -> None:
    keys = [(row, dims(area)) for row in ROWS for area in AREAS]
    before = dict(zip(keys, first, strict=True))
    after = {key: value + extra for key, value, extra in zip(keys, first, added, strict=True)}
    old = protect(cells_of(before), k=K).release
    request = StatisticsRequest(
        agreement_id=uuid.UUID(int=1),
        coverage=Coverage(),
        period=PERIOD,
        agreement_periods=(PERIOD,),
        grid=Grid(breakdowns=()),
        k=K,
        earlier=(old,),
    )
    new_cells = cells_of(after)
    linked, forced = _earlier_for(request, "consents", new_cells, _microcells(after), K)
    try:
        new = protect(new_cells, k=K, earlier=linked, forced=forced).release
    except ReleaseRefused:
        return  # refusing is safe
    shown_before = {c.parts: c.value for c in old.published()}
    for cell in new.published():
        if cell.parts in shown_before:
            assert abs(cell.value - shown_before[cell.parts]) not in range(1, K), cell.key
    ranges = attack([*linked, new])
    for cell in new.cells:
        if cell.key in new.suppressed:
            low, high = ranges[cell.parts]
            assert high - low >= K, (cell.key, low, high)


def test_a_release_from_the_ledger_is_audited_against_though_its_suppressed_values_are_gone() -> (
    None
):
    """The ledger keeps no suppressed value (a rebuilt cell holds 0): unchanged data must
    still count as consistent with it, so the audit links it rather than dropping it."""
    values = {(row, dims(area)): n for row, n in zip(ROWS, (2, 9), strict=True) for area in AREAS}
    old = protect(cells_of(values), k=K).release
    assert old.suppressed
    from_ledger = Release(
        cells=tuple(
            Cell(c.key, c.parts, 0 if c.key in old.suppressed else c.value) for c in old.cells
        ),
        suppressed=old.suppressed,
    )
    request = StatisticsRequest(
        agreement_id=uuid.UUID(int=1),
        coverage=Coverage(),
        period=PERIOD,
        agreement_periods=(PERIOD,),
        grid=Grid(breakdowns=()),
        k=K,
        earlier=(from_ledger,),
    )
    linked, forced = _earlier_for(request, "consents", cells_of(values), _microcells(values), K)
    assert [release.cells for release in linked] == [from_ledger.cells]
    assert not forced
