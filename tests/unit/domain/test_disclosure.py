"""Disclosure control (issue 14): primary and complementary suppression, and the audit that
proves every release, including differencing against earlier releases. The adversary here
is independent of the audit: it solves the *integer* problem (scipy's MILP) from what was
published, and must never pin a protected value within the protection width."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from domain.statistics.disclosure import (
    Box,
    Cell,
    MicroCell,
    ProofTooSlow,
    Release,
    ReleaseRefused,
    audit,
    box,
    grid,
    microcells,
    primary,
    protect,
    structural,
)

K = 5


def attack(
    releases: Sequence[Release], structural_zeros: Sequence[Box] = ()
) -> dict[Box, tuple[float, float]]:
    """The integer range of every suppressed cell and every single microcell, from the
    published numbers alone, over the full cross of microcells (no free dimensions: the
    adversary knows nothing of the audit's reduction)."""
    micro = sorted({p for r in releases for c in r.cells for p in microcells(c.parts)})
    index = {p: n for n, p in enumerate(micro)}
    published = [c for r in releases for c in r.published()]
    matrix = np.zeros((len(published), len(micro)))
    for row, cell in enumerate(published):
        for part in microcells(cell.parts):
            matrix[row, index[part]] = 1
    values = np.array([c.value for c in published], dtype=float)
    constraints = [LinearConstraint(matrix, values, values)] if published else []
    zero = {p for z in structural_zeros for p in microcells(z)}
    upper = np.array([0 if p in zero else np.inf for p in micro])
    bounds = Bounds(np.zeros(len(micro)), upper)
    targets = {c.parts for r in releases for c in r.cells if c.key in r.suppressed}
    targets |= {box(*p) for p in micro}
    found = {}
    for parts in targets:
        objective = np.zeros(len(micro))
        for part in microcells(parts):
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
    return {
        next(microcells(c.parts)): c.value
        for r in releases
        for c in r.cells
        if all(len(values) == 1 for values in c.parts)
    }


def assert_safe(
    releases: Sequence[Release], width: float = K, structural_zeros: Sequence[Box] = ()
) -> None:
    values = truth(releases)
    ranges = attack(releases, structural_zeros)
    for release in releases:
        for cell in release.cells:
            if cell.key in release.suppressed:
                low, high = ranges[cell.parts]
                assert high - low >= width, (cell.key, low, high)
    for part, value in values.items():
        if value < K and not structural(box(*part), structural_zeros):  # a zero known to all
            low, high = ranges[box(*part)]
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
        structural = [box("SSPF", "18+")]  # SSPF ends at 17
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
            Cell(cell.key, (frozenset({"T1", "T2"}), *cell.parts[1:]), cell.value)
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
                Cell(("Totalt",), box({"a", "b"}), 6),
                Cell(("b",), box("b"), 5),
            ),
            suppressed=frozenset(),
        )
        cells = [Cell(("a",), box("a"), 1), Cell(("b",), box("b"), 5)]
        with pytest.raises(ReleaseRefused) as refused:
            protect(cells, k=K, earlier=[earlier])
        assert refused.value.exposures[0].parts == box("a")

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
            Cell(cell.key, (frozenset({"T1", "T2"}), *cell.parts[1:]), cell.value)
            for cell in grid(rows, columns, {k: t1[k] + t2[k] for k in t1}, prefix=("T1",))
        ]
        released.append(protect(both, k=K, earlier=released).release)
    except ReleaseRefused:
        pass  # refusing is always safe; what was released so far is attacked below
    assert_safe(released)


def test_a_sum_without_a_greatest_value_still_has_its_least() -> None:
    """Row a is hidden whole, so nothing published touches its cells and no hidden total has
    a greatest value; but row b is shown, and each total over it is at least b's part."""
    counts = {("a", "x"): 0, ("a", "y"): 0, ("b", "x"): 1, ("b", "y"): 2}
    cells = grid(["a", "b"], ["x", "y"], counts)
    hidden = frozenset(cell.key for cell in cells if "b" not in cell.key)
    _, intervals = audit([Release(tuple(cells), hidden)], k=K, width=0, free=frozenset())
    by_key = {cell.key: intervals[cell.parts] for cell in cells if cell.key in hidden}
    assert by_key == {
        ("a", "x"): (0.0, math.inf),
        ("a", "y"): (0.0, math.inf),
        ("a", "Totalt"): (0.0, math.inf),
        ("Totalt", "x"): (1.0, math.inf),
        ("Totalt", "y"): (2.0, math.inf),
        ("Totalt", "Totalt"): (3.0, math.inf),
    }


def test_a_proof_past_its_deadline_refuses_rather_than_publishes_unproven() -> None:
    counts = {("a", "x"): 3, ("a", "y"): 9, ("b", "x"): 8, ("b", "y"): 7}
    cells = grid(["a", "b"], ["x", "y"], counts)
    with pytest.raises(ProofTooSlow):
        protect(cells, k=K, deadline=time.monotonic() - 1)
    assert protect(cells, k=K, deadline=time.monotonic() + 60).release.suppressed


# --- free dimensions: the audit's reduction is exact ---------------------------------------

GENDERS = ("flickor", "pojkar")
AGES = ("13–14", "15–17", "18–20")
FREE = frozenset({3, 4})  # (row, area, school, gender, age): gender and age are free
# Row b never has the oldest age band, nor anyone in Skola 2 (combinations that cannot occur).
ZEROS = (
    box("b", {"Norr", "Söder", "Väster"}, {"Skola 1", "Skola 2"}, GENDERS, "18–20"),
    box("b", {"Norr", "Söder", "Väster"}, "Skola 2", GENDERS, AGES),
)


@st.composite
def cities(draw: st.DrawFn) -> list[Cell]:
    """One indicator of a small city, as the statistics service builds it: for each
    activity (a set of areas, schools and age bands), the table with no breakdown and one table per
    breakdown (area, school, gender, age), each with row, column and grand totals."""
    rows = ["a", "b"][: draw(st.integers(1, 2))]
    areas = ["Norr", "Söder", "Väster"][: draw(st.integers(1, 3))]
    schools = ["Skola 1", "Skola 2"]
    counts = {
        (r, a, s, g, age): 0 if structural(box(r, a, s, g, age), ZEROS) else draw(small_count)
        for r in rows
        for a in areas
        for s in schools
        for g in GENDERS
        for age in AGES
    }
    # Activities: areas, schools and (like "SIG 15–17") age bands each may cover a part of.
    coverages = [(frozenset(areas), frozenset(schools), frozenset(AGES))]
    for _ in range(draw(st.integers(0, 2))):
        chosen_areas = frozenset(draw(st.sets(st.sampled_from(areas), min_size=1)))
        chosen_schools = frozenset(draw(st.sets(st.sampled_from(schools), min_size=1)))
        chosen_ages = frozenset(draw(st.sets(st.sampled_from(AGES), min_size=1)))
        coverages.append((chosen_areas, chosen_schools, chosen_ages))
    cells: list[Cell] = []
    for number, (covered_areas, covered_schools, covered_ages) in enumerate(coverages):
        universe = [covered_areas, covered_schools, frozenset(GENDERS), covered_ages]

        def value(rows_: frozenset[str], dims: Sequence[frozenset[str]]) -> int:
            return sum(
                n
                for (r, *rest), n in counts.items()
                if r in rows_ and all(v in d for v, d in zip(rest, dims, strict=True))
            )

        for axis in (None, 0, 1, 2, 3):
            tag = f"{number}/{axis}"
            columns = sorted(universe[axis]) if axis is not None else []
            for row_set, row_key in [*((frozenset({r}), r) for r in rows), (frozenset(rows), "T")]:
                for column in columns:
                    dims = list(universe)
                    dims[axis] = frozenset({column})  # type: ignore[index]
                    cells.append(
                        Cell((tag, row_key, column), (row_set, *dims), value(row_set, dims))
                    )
                cells.append(
                    Cell((tag, row_key, "T"), (row_set, *universe), value(row_set, universe))
                )
    return cells


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities(), st.data())
def test_free_dimensions_give_the_intervals_of_the_full_cross(
    cells: list[Cell], data: st.DataObject
) -> None:
    """Whatever is suppressed, the reduced program (gender and age free, or the free
    dimensions the audit chooses; an activity covering some age bands splits them into
    classes) finds for every protected value exactly the interval the program over every
    microcell finds."""
    keys = sorted({c.key for c in cells})
    hidden = frozenset(data.draw(st.sets(st.sampled_from(keys), max_size=len(keys))))
    release = Release(cells=tuple(cells), suppressed=hidden)
    _, full = audit([release], k=K, width=0, free=frozenset(), structural_zeros=ZEROS)
    for free in (FREE, None):  # gender and age; the dimensions the audit chooses itself
        _, reduced = audit([release], k=K, width=0, free=free, structural_zeros=ZEROS)
        assert reduced.keys() == full.keys()
        for parts, (low, high) in full.items():
            got_low, got_high = reduced[parts]
            assert math.isclose(got_low, low, abs_tol=1e-6), (free, parts, got_low, low)
            assert got_high == high or math.isclose(got_high, high, abs_tol=1e-6), parts


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cities())
def test_an_integer_adversary_recovers_nothing_from_a_release_proved_with_free_dimensions(
    cells: list[Cell],
) -> None:
    try:
        release = protect(cells, k=K, structural_zeros=ZEROS).release  # free ones chosen
    except ReleaseRefused:
        return
    assert_safe([release], structural_zeros=ZEROS)


def test_the_proof_prints_nothing_to_the_servers_output() -> None:
    """HiGHS prints a banner to the process's standard output at its first solver call unless
    output is off by then; in a server, that is a stray line in the log stream."""
    program = (
        "from domain.statistics.disclosure import grid, protect\n"
        "counts = {('A', 'x'): 9, ('A', 'y'): 2, ('B', 'x'): 7, ('B', 'y'): 8}\n"
        "protect(grid(['A', 'B'], ['x', 'y'], counts), k=5)\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own program
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.stdout == ""
