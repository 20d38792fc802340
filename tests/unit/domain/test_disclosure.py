"""Disclosure control (issue 14): primary and complementary suppression, and the audit that
proves every release, including differencing against earlier releases. The adversary here
is independent of the audit: it solves the *integer* problem (scipy's MILP) from what was
published, and must never pin a protected value within the protection width."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from domain.statistics.disclosure import (
    Cell,
    MicroCell,
    ProofTooSlow,
    Release,
    ReleaseRefused,
    audit,
    grid,
    primary,
    protect,
)

K = 5


def attack(
    releases: Sequence[Release], structural_zeros: frozenset[MicroCell] = frozenset()
) -> dict[frozenset[MicroCell], tuple[float, float]]:
    """The integer range of every suppressed cell and every single microcell, from the
    published numbers alone."""
    micro = sorted({p for r in releases for c in r.cells for p in c.parts})
    index = {p: n for n, p in enumerate(micro)}
    published = [c for r in releases for c in r.published()]
    matrix = np.zeros((len(published), len(micro)))
    for row, cell in enumerate(published):
        for part in cell.parts:
            matrix[row, index[part]] = 1
    values = np.array([c.value for c in published], dtype=float)
    constraints = [LinearConstraint(matrix, values, values)] if published else []
    upper = np.array([0 if p in structural_zeros else np.inf for p in micro])
    bounds = Bounds(np.zeros(len(micro)), upper)
    targets = {c.parts for r in releases for c in r.cells if c.key in r.suppressed}
    targets |= {frozenset({p}) for p in micro}
    found = {}
    for parts in targets:
        objective = np.zeros(len(micro))
        for part in parts:
            objective[index[part]] = 1
        ends = []
        for sign in (1, -1):
            result = milp(
                sign * objective,
                integrality=np.ones(len(micro)),
                bounds=bounds,
                constraints=constraints,
            )
            # Not optimal means unbounded: the published numbers are the truth's, so feasible.
            ends.append(sign * result.fun if result.status == 0 else math.inf)
        found[parts] = (ends[0], ends[1])
    return found


def truth(releases: Sequence[Release]) -> dict[MicroCell, int]:
    return {next(iter(c.parts)): c.value for r in releases for c in r.cells if len(c.parts) == 1}


def assert_safe(releases: Sequence[Release], width: float = K) -> None:
    values = truth(releases)
    ranges = attack(releases)
    for release in releases:
        for cell in release.cells:
            if cell.key in release.suppressed:
                low, high = ranges[cell.parts]
                assert high - low >= width, (cell.key, low, high)
    for part, value in values.items():
        if value < K:
            low, high = ranges[frozenset({part})]
            assert high - low >= width, (part, value, low, high)


def shown(release: Release) -> dict[tuple[str, ...], int]:
    return {c.key: c.value for c in release.published()}


class TestSuppression:
    def test_the_row_total_does_not_give_a_small_cell_away(self) -> None:
        counts = {("Norr", "Pojkar"): 9, ("Norr", "Flickor"): 2}
        counts |= {("Söder", "Pojkar"): 7, ("Söder", "Flickor"): 8}
        cells = grid(["Norr", "Söder"], ["Pojkar", "Flickor"], counts)
        result = protect(cells, k=K)
        assert ("Norr", "Flickor") in result.primary
        assert ("Norr", "Flickor") not in shown(result.release)
        # 11 − 9 would give 2: a complement in the row is suppressed too
        assert len(result.release.suppressed) >= 4
        assert_safe([result.release])

    def test_small_totals_are_suppressed_like_cells(self) -> None:
        cells = grid(["Skola A"], ["Pojkar", "Flickor"], {("Skola A", "Pojkar"): 3})
        result = protect(cells, k=K)
        assert shown(result.release) == {}  # three young people: no number at all
        assert_safe([result.release])

    def test_zeros_are_shown_only_where_structural(self) -> None:
        counts = {("SIG", "13–17"): 6, ("SIG", "18+"): 7, ("SSPF", "13–17"): 8}
        structural = frozenset({("SSPF", "18+")})  # SSPF ends at 17
        cells = grid(["SIG", "SSPF"], ["13–17", "18+"], counts)
        assert ("SSPF", "18+") not in primary(cells, k=K, structural_zeros=structural)
        assert ("SSPF", "18+") in primary(cells, k=K)  # a zero that merely happened
        result = protect(cells, k=K, structural_zeros=structural)
        assert shown(result.release)[("SSPF", "18+")] == 0
        assert shown(result.release)[("Totalt", "Totalt")] == 21

    def test_large_counts_are_shown_untouched(self) -> None:
        counts = {
            (r, c): 10 + n
            for n, (r, c) in enumerate([("A", "x"), ("A", "y"), ("B", "x"), ("B", "y")])
        }
        result = protect(grid(["A", "B"], ["x", "y"], counts), k=K)
        assert result.release.suppressed == frozenset()


class TestAcrossReleases:
    def test_a_year_against_its_first_tertial_gives_no_small_count_away(self) -> None:
        t1 = {("A", "Pojkar"): 12, ("A", "Flickor"): 9, ("B", "Pojkar"): 10, ("B", "Flickor"): 11}
        t2 = {("A", "Pojkar"): 1, ("A", "Flickor"): 6, ("B", "Pojkar"): 7, ("B", "Flickor"): 5}
        rows, columns = ["A", "B"], ["Pojkar", "Flickor"]
        first = protect(grid(rows, columns, t1, prefix=("T1",)), k=K).release
        assert first.suppressed == frozenset()
        year = [
            Cell(
                cell.key,
                frozenset(p for part in cell.parts for p in (("T1", *part[1:]), ("T2", *part[1:]))),
                cell.value,
            )
            for cell in grid(rows, columns, {k: t1[k] + t2[k] for k in t1}, prefix=("T1",))
        ]
        t2_cells = grid(rows, columns, t2, prefix=("T2",))  # known to the protector only
        known = Release(cells=tuple(t2_cells), suppressed=frozenset(c.key for c in t2_cells))
        result = protect(year, k=K, earlier=[first, known])
        # 13 − 12 would give T2's 1: the year's cell is not shown as 13
        assert ("A", "Pojkar") not in shown(result.release)
        assert_safe([first, known, result.release])

    def test_an_earlier_release_that_gave_a_cell_away_refuses_the_new_one(self) -> None:
        earlier = Release(
            cells=(
                Cell(("Totalt",), frozenset({("a",), ("b",)}), 6),
                Cell(("b",), frozenset({("b",)}), 5),
            ),
            suppressed=frozenset(),
        )
        cells = [Cell(("a",), frozenset({("a",)}), 1), Cell(("b",), frozenset({("b",)}), 5)]
        with pytest.raises(ReleaseRefused) as refused:
            protect(cells, k=K, earlier=[earlier])
        assert refused.value.exposures[0].parts == frozenset({("a",)})

    def test_audit_reports_a_hand_made_unsafe_release(self) -> None:
        cells = grid(["N"], ["x", "y"], {("N", "x"): 9, ("N", "y"): 2})
        unsafe = Release(cells=tuple(cells), suppressed=frozenset({("N", "y")}))
        exposures, _ = audit([unsafe], k=K, width=K)
        assert {e.key for e in exposures} >= {("N", "y")}
        assert all(e.width < K for e in exposures)


small_count = st.integers(min_value=0, max_value=14).map(lambda n: n if n < 10 else n - 9)


@st.composite
def municipalities(draw: st.DrawFn) -> tuple[list[str], list[str], dict[tuple[str, str], int]]:
    rows = [f"skola-{n}" for n in range(draw(st.integers(1, 3)))]
    columns = [f"grupp-{n}" for n in range(draw(st.integers(1, 3)))]
    counts = {(r, c): draw(small_count) for r in rows for c in columns}
    return rows, columns, counts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(municipalities(), municipalities())
def test_an_integer_adversary_recovers_nothing(
    first: tuple[list[str], list[str], dict[tuple[str, str], int]],
    second: tuple[list[str], list[str], dict[tuple[str, str], int]],
) -> None:
    """Random small municipalities: a tertial, then the same grid for the next tertial and
    the two tertials together. Whatever the protector shows, the adversary pins no
    suppressed cell and no small microcell within the width, alone or by differencing."""
    rows, columns, t1 = first
    t2 = {(r, c): second[2].get((r, c), 0) for r in rows for c in columns}
    released: list[Release] = []
    try:
        released.append(protect(grid(rows, columns, t1, prefix=("T1",)), k=K).release)
        released.append(
            protect(grid(rows, columns, t2, prefix=("T2",)), k=K, earlier=released).release
        )
        both = [
            Cell(
                cell.key,
                frozenset(p for part in cell.parts for p in (("T1", *part[1:]), ("T2", *part[1:]))),
                cell.value,
            )
            for cell in grid(rows, columns, {k: t1[k] + t2[k] for k in t1}, prefix=("T1",))
        ]
        released.append(protect(both, k=K, earlier=released).release)
    except ReleaseRefused:
        pass  # refusing is always safe; what was released so far is attacked below
    assert_safe(released)


def test_a_proof_past_its_deadline_refuses_rather_than_publishes_unproven() -> None:
    counts = {("a", "x"): 3, ("a", "y"): 9, ("b", "x"): 8, ("b", "y"): 7}
    cells = grid(["a", "b"], ["x", "y"], counts)
    with pytest.raises(ProofTooSlow):
        protect(cells, k=K, deadline=time.monotonic() - 1)
    assert protect(cells, k=K, deadline=time.monotonic() + 60).release.suppressed
