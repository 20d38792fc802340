"""Disclosure control for the steering groups' tables (DESIGN §7, issue 14). Pure: no database.

A published table is a set of cells, each the sum of some *microcells*: the finest counts the
statistics service computed (for example period × area × gender). An interior cell is one
microcell; a row total, a column total or the grand total is the sum of several. Describing
every cell by its microcells lets one audit cover this table and every earlier release of the
same agreement, whose cells are sums over the same microcells (a year over its tertials, a
total over its areas).

`protect` decides what is shown:
1. primary suppression: counts 1..k−1, and zeros that are not certain structural zeros;
2. complementary suppression until the audit passes;
3. the audit (`audit`): for each suppressed cell, the least and greatest value consistent with
   everything published (this table and the earlier releases, every microcell ≥ 0, the
   structural zeros 0), each a linear program solved by HiGHS. The release is safe only when
   every suppressed cell's interval is at least `width` wide.

The linear programs are the relaxation of the integer problem, the standard audit of
τ-ARGUS; the protection width is what makes the relaxation's answer a safe margin.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
from scipy.sparse import csc_matrix

MicroCell = tuple[str, ...]


@dataclass(frozen=True)
class Cell:
    """One published number: `key` names it in its table, `parts` are the microcells it sums."""

    key: tuple[str, ...]
    parts: frozenset[MicroCell]
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError(f"a count is never negative: {self.key} = {self.value}")
        if not self.parts:
            raise ValueError(f"a cell sums at least one microcell: {self.key}")


@dataclass(frozen=True)
class Release:
    """What a release showed: its cells and which of them were suppressed."""

    cells: Sequence[Cell]
    suppressed: frozenset[tuple[str, ...]]

    def published(self) -> Iterable[Cell]:
        return (cell for cell in self.cells if cell.key not in self.suppressed)


@dataclass(frozen=True)
class Exposure:
    """A protected value that the published numbers pin down too closely: a suppressed cell
    (`key` in its table) or a small microcell (`key` is the microcell)."""

    key: tuple[str, ...]
    parts: frozenset[MicroCell]
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class Protected:
    release: Release
    primary: frozenset[tuple[str, ...]]
    intervals: Mapping[frozenset[MicroCell], tuple[float, float]] = field(default_factory=dict)


class ProofTooSlow(Exception):
    """The audit did not finish within its time budget. Nothing unproven may be published, so
    this refuses the release as surely as an exposure does; a coarser grid proves faster."""


class ReleaseRefused(Exception):
    """No suppression of this table protects every cell, given what is already published."""

    def __init__(self, exposures: Sequence[Exposure]) -> None:
        super().__init__(
            "a suppressed cell can be recovered from what is published: "
            + ", ".join(f"{'/'.join(e.key)} in [{e.low:g}, {e.high:g}]" for e in exposures)
        )
        self.exposures = tuple(exposures)


def grid(
    rows: Sequence[str],
    columns: Sequence[str],
    counts: Mapping[tuple[str, str], int],
    *,
    prefix: MicroCell = (),
    total: str = "Totalt",
) -> list[Cell]:
    """A two-way table with its row, column and grand totals. `prefix` places the microcells
    (for example the period), so tables of different periods never share one."""
    cells = [
        Cell((row, column), frozenset({(*prefix, row, column)}), counts.get((row, column), 0))
        for row in rows
        for column in columns
    ]
    for row in rows:
        parts = frozenset((*prefix, row, column) for column in columns)
        value = sum(counts.get((row, column), 0) for column in columns)
        cells.append(Cell((row, total), parts, value))
    for column in columns:
        parts = frozenset((*prefix, row, column) for row in rows)
        value = sum(counts.get((row, column), 0) for row in rows)
        cells.append(Cell((total, column), parts, value))
    everything = frozenset((*prefix, row, column) for row in rows for column in columns)
    grand = sum(counts.get((row, column), 0) for row in rows for column in columns)
    cells.append(Cell((total, total), everything, grand))
    return cells


def primary(
    cells: Sequence[Cell], *, k: int, structural_zeros: frozenset[MicroCell] = frozenset()
) -> frozenset[tuple[str, ...]]:
    """Counts 1..k−1, and zeros unless every microcell of the cell is a structural zero (a
    combination that cannot occur): a zero that merely happened is a fact about people too.
    With k = 1 nothing is protected, zeros included (exact tables for the coordinator's checks)."""
    return frozenset(
        cell.key
        for cell in cells
        if 0 < cell.value < k or (k > 1 and cell.value == 0 and not cell.parts <= structural_zeros)
    )


def audit(
    releases: Sequence[Release],
    *,
    k: int,
    width: float,
    structural_zeros: frozenset[MicroCell] = frozenset(),
    first_only: bool = False,
    settled: Mapping[frozenset[MicroCell], tuple[float, float]] | None = None,
    deadline: float | None = None,
) -> tuple[list[Exposure], dict[frozenset[MicroCell], tuple[float, float]]]:
    """The interval of every protected value given everything published in `releases`:
    every suppressed cell of every release (a new release must not give away an old
    suppression), and every microcell below k that a single-microcell cell counted (so that
    differencing two releases, say a year against its tertials, gives no small count away).
    The exposures are the intervals narrower than `width` (with `first_only`, the first).
    `settled` holds intervals already known to be wide enough for a subset of what is now
    published; they are taken as they are (publishing less only widens an interval)."""
    # One equation per published sum: a total shown in several tables (or releases) is one
    # equation, unless the values differ (then the contradiction must reach the solver).
    published = list(
        dict.fromkeys(
            (cell.parts, cell.value) for release in releases for cell in release.published()
        )
    )
    # Only microcells some published number touches are variables: any other is free (≥ 0,
    # in no equation), so a target holding one is unbounded and is decided without a solve,
    # and a target without one does not depend on it (a structural zero outside every
    # equation is 0). The linear programs are the same, smaller.
    micro = sorted({part for parts, _ in published for part in parts})
    column = {part: number for number, part in enumerate(micro)}
    rows: list[int] = []
    cols: list[int] = []
    right: list[float] = []
    for parts, value in published:
        rows.extend([len(right)] * len(parts))
        cols.extend(column[part] for part in parts)
        right.append(value)
    constrained = column.keys()
    program: _Program | None = None  # built at the first target that needs a solve
    exposures: list[Exposure] = []
    intervals: dict[frozenset[MicroCell], tuple[float, float]] = {}
    for key, parts in _targets(releases, k=k, structural_zeros=structural_zeros):
        if parts in intervals:
            continue
        if settled is not None and parts in settled:
            intervals[parts] = settled[parts]
            continue
        if any(part not in constrained and part not in structural_zeros for part in parts):
            intervals[parts] = (0.0, math.inf)  # a part no published number touches
            continue
        if not any(part in constrained for part in parts):
            intervals[parts] = (0.0, 0.0)  # structural zeros only
            if width > 0:
                exposures.append(Exposure(key, parts, 0.0, 0.0))
                if first_only:
                    break
            continue
        if deadline is not None and time.monotonic() > deadline:
            raise ProofTooSlow()
        if program is None:
            program = _Program(micro, rows, cols, right, structural_zeros)
        chosen = sorted(column[part] for part in parts if part in constrained)
        low, high = program.interval(np.asarray(chosen, dtype=np.int32))
        intervals[parts] = (low, high)
        if high - low < width:
            exposures.append(Exposure(key, parts, low, high))
            if first_only:
                break
    return exposures, intervals


def _targets(
    releases: Sequence[Release], *, k: int, structural_zeros: frozenset[MicroCell]
) -> Iterable[tuple[tuple[str, ...], frozenset[MicroCell]]]:
    for release in reversed(releases):  # the newest first: its cells are the ones to fix
        for cell in release.cells:
            if cell.key in release.suppressed:
                yield cell.key, cell.parts
    for release in releases:
        for cell in release.cells:
            [part] = cell.parts if len(cell.parts) == 1 else (None,)
            if part is not None and part not in structural_zeros and cell.value < k:
                yield part, cell.parts


class _Program:
    """The published equations (every microcell ≥ 0, structural zeros 0) as one HiGHS model.
    Only the objective changes from one target to the next, so each solve starts from the
    basis the last one left: far cheaper than building the program again for every bound."""

    def __init__(
        self,
        micro: Sequence[MicroCell],
        rows: Sequence[int],
        cols: Sequence[int],
        right: Sequence[float],
        structural_zeros: frozenset[MicroCell],
    ) -> None:
        matrix = csc_matrix(
            (np.ones(len(rows)), (np.asarray(rows), np.asarray(cols))),
            shape=(len(right), len(micro)),
        )
        lp = highspy.HighsLp()
        lp.num_col_ = len(micro)
        lp.num_row_ = len(right)
        lp.col_cost_ = np.zeros(len(micro))
        lp.col_lower_ = np.zeros(len(micro))
        lp.col_upper_ = np.array(
            [0.0 if part in structural_zeros else highspy.kHighsInf for part in micro]
        )
        lp.row_lower_ = lp.row_upper_ = np.asarray(right, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        self._highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self._highs.setOptionValue("output_flag", False)
        self._highs.passModel(lp)
        self._costed: npt.NDArray[np.int32] = np.empty(0, dtype=np.int32)

    def interval(self, columns: npt.NDArray[np.int32]) -> tuple[float, float]:
        """The least and greatest sum of `columns` the equations allow."""
        highs = self._highs
        if len(self._costed):
            highs.changeColsCost(len(self._costed), self._costed, np.zeros(len(self._costed)))
        highs.changeColsCost(len(columns), columns, np.ones(len(columns)))
        self._costed = columns
        return (
            self._extreme(highspy.ObjSense.kMinimize),
            self._extreme(highspy.ObjSense.kMaximize),
        )

    def _extreme(self, sense: Any) -> float:
        highs = self._highs
        highs.changeObjectiveSense(sense)
        highs.run()
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return float(highs.getInfo().objective_function_value)
        if status == highspy.HighsModelStatus.kUnbounded:
            return math.inf
        if status == highspy.HighsModelStatus.kUnboundedOrInfeasible and self._feasible():
            return math.inf  # feasible, so the bound that failed is the unbounded maximum
        raise RuntimeError(
            f"the published numbers contradict each other: {highs.modelStatusToString(status)}"
        )

    def _feasible(self) -> bool:
        """Whether the equations have any solution (asked only when HiGHS cannot tell an
        unbounded program from an infeasible one); the objective is restored after."""
        highs = self._highs
        costed = self._costed
        highs.changeColsCost(len(costed), costed, np.zeros(len(costed)))
        highs.run()
        feasible = bool(highs.getModelStatus() == highspy.HighsModelStatus.kOptimal)
        highs.changeColsCost(len(costed), costed, np.ones(len(costed)))
        return feasible


def protect(
    cells: Sequence[Cell],
    *,
    k: int,
    width: float | None = None,
    earlier: Sequence[Release] = (),
    structural_zeros: frozenset[MicroCell] = frozenset(),
    forced: frozenset[tuple[str, ...]] = frozenset(),
    deadline: float | None = None,
) -> Protected:
    """Suppress what must be, then more until no suppressed cell can be recovered within
    `width` (default k) from this table and the `earlier` releases. `forced` cells are
    suppressed whatever their value (the differencing rule of a correction). Cells with the
    same microcells (one total shown in two tables) are shown or suppressed together. Raises
    ReleaseRefused when even suppressing the whole table cannot protect it (an earlier
    release showed it). `deadline` (a `time.monotonic()` value) bounds the time the proof may
    take: past it, ProofTooSlow."""
    if k < 1:
        raise ValueError("k is at least 1")
    protection = float(k if width is None else width)
    first = primary(cells, k=k, structural_zeros=structural_zeros) | forced
    by_key = {cell.key: cell for cell in cells}
    if len(by_key) != len(cells):
        raise ValueError("two cells of one table share a key")
    twins: dict[frozenset[MicroCell], list[tuple[str, ...]]] = {}
    for cell in cells:
        twins.setdefault(cell.parts, []).append(cell.key)
    suppressed: set[tuple[str, ...]] = set()

    def suppress(key: tuple[str, ...]) -> None:
        suppressed.update(twins[by_key[key].parts])

    for key in first:
        suppress(key)
    # Suppressing more only removes equations, so an interval found wide enough stays so.
    settled: dict[frozenset[MicroCell], tuple[float, float]] = {}
    while True:
        release = Release(cells=tuple(cells), suppressed=frozenset(suppressed))
        exposures, intervals = audit(
            [*earlier, release],
            k=k,
            width=protection,
            structural_zeros=structural_zeros,
            first_only=True,
            settled=settled,
            deadline=deadline,
        )
        settled.update(
            (parts, span) for parts, span in intervals.items() if span[1] - span[0] >= protection
        )
        if not exposures:
            _, intervals = audit(
                [*earlier, release],
                k=k,
                width=protection,
                structural_zeros=structural_zeros,
                settled=settled,
                deadline=deadline,
            )
            return Protected(release=release, primary=frozenset(first), intervals=intervals)
        complement = _complement(by_key, suppressed, exposures[0], structural_zeros)
        if complement is None:
            raise ReleaseRefused(exposures)
        suppress(complement)


def _complement(
    cells: Mapping[tuple[str, ...], Cell],
    suppressed: set[tuple[str, ...]],
    exposure: Exposure,
    structural_zeros: frozenset[MicroCell],
) -> tuple[str, ...] | None:
    """The cheapest further cell to suppress for an exposed one. A shown total over the
    exposed cell (its row, its column, the grand total) is an equation that gives it away;
    take the one with the fewest suppressed cells in it, and suppress its smallest shown part
    (interior cells first). When no shown total holds it, suppress the smallest shown cell
    that overlaps it. None when nothing is left to suppress."""
    exposed = exposure.parts

    def hidden(cell: Cell) -> bool:
        return cell.key in suppressed or cell.parts <= structural_zeros

    def cheapest(candidates: Iterable[Cell]) -> Cell | None:
        return min(candidates, key=lambda c: (len(c.parts), c.value, c.key), default=None)

    lines = [cell for cell in cells.values() if exposed < cell.parts and not hidden(cell)]

    def crowding(line: Cell) -> tuple[int, int]:
        inside = sum(1 for c in cells.values() if c.parts < line.parts and c.key in suppressed)
        return inside, len(line.parts)

    for line in sorted(lines, key=crowding):
        parts = (c for c in cells.values() if c.parts < line.parts and not hidden(c))
        best = cheapest(c for c in parts if not c.parts & exposed)
        if best is not None:
            return best.key
        return line.key  # the line holds nothing else to hide: hide the total itself
    overlapping = cheapest(c for c in cells.values() if c.parts & exposed and not hidden(c))
    return overlapping.key if overlapping is not None else None
