"""Disclosure control for the steering groups' tables (DESIGN §7, issue 14). Pure: no database.

A published table is a set of cells, each the sum of some *microcells*: the finest counts the
statistics service computed (for example period × area × gender). Every cell is the sum over
a *box*: for each dimension, the set of its values the cell covers. An interior cell is one
microcell; a row total, a column total or the grand total is a box over several. Describing
every cell by its box lets one audit cover this table and every earlier release of the same
agreement, whose cells are boxes over the same dimensions (a year over its tertials, a total
over its areas).

`protect` decides what is shown:
1. primary suppression: counts 1..k−1, and zeros that are not certain structural zeros;
2. complementary suppression until the audit passes;
3. the audit (`audit`): for each suppressed cell, the least and greatest value consistent with
   everything published (this table and the earlier releases, every microcell ≥ 0, the
   structural zeros 0), each a linear program solved by HiGHS. The release is safe only when
   every suppressed cell's interval is at least `width` wide.

The linear programs are the relaxation of the integer problem, the standard audit of
τ-ARGUS; the protection width is what makes the relaxation's answer a safe margin.

**Free dimensions.** The full cross of every dimension is too large for a city (two
programmes × ten areas × fourteen schools × three genders × five age bands is 4,200
microcells a row). The linear program does not need it. Call a dimension *free* when no cell
restricts it together with another free one (the service's gender and age band: a table
breaks down by one of them, never both). Split the other, *core*, dimensions' cells into
*atoms*: core cells that lie in exactly the same cells that restrict a free dimension. Then
the variables are one per core cell (its count over every free value) and, per atom and free
dimension, one per value (the atom's count at that value), tied by one equation each: the
atom's counts at the values of a free dimension sum to its core cells' counts. This is
exact, not an approximation: every cell is a sum of these variables, and any non-negative
solution is the projection of a non-negative table over the full cross (within an atom, the
product x(c, f₁, f₂) = y(c) · m₁(f₁)/t · m₂(f₂)/t, t the atom's total, has exactly these sums).
So each interval is the one the full cross would give, from a program a tenth of its size.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, product
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
from scipy.sparse import csc_matrix

MicroCell = tuple[str, ...]
# The solver's answers are exact only to its tolerance; the bounds of these programs are
# sums of published counts, so an interval within this of the width is the width.
_TOLERANCE = 1e-6
# For each dimension, the values a cell sums over.
Box = tuple[frozenset[str], ...]


def box(*dimensions: str | Iterable[str]) -> Box:
    """A box from each dimension's value (a string) or values."""
    return tuple(
        frozenset({values}) if isinstance(values, str) else frozenset(values)
        for values in dimensions
    )


def microcells(cells: Box) -> Iterator[MicroCell]:
    """Every microcell a box covers (for tests and small tables: the product can be large)."""
    return product(*(sorted(values) for values in cells))


def within(inner: Box, outer: Box) -> bool:
    return all(a <= b for a, b in zip(inner, outer, strict=True))


def overlaps(one: Box, other: Box) -> bool:
    return all(not a.isdisjoint(b) for a, b in zip(one, other, strict=True))


def size(cells: Box) -> int:
    return math.prod(len(values) for values in cells)


@dataclass(frozen=True)
class Cell:
    """One published number: `key` names it in its table, `parts` is the box it sums."""

    key: tuple[str, ...]
    parts: Box
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError(f"a count is never negative: {self.key} = {self.value}")
        if not self.parts or not all(self.parts):
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
    parts: Box
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class Protected:
    release: Release
    primary: frozenset[tuple[str, ...]]
    intervals: Mapping[Box, tuple[float, float]] = field(default_factory=dict)


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
        Cell((row, column), box(*prefix, row, column), counts.get((row, column), 0))
        for row in rows
        for column in columns
    ]
    for row in rows:
        value = sum(counts.get((row, column), 0) for column in columns)
        cells.append(Cell((row, total), box(*prefix, row, columns), value))
    for column in columns:
        value = sum(counts.get((row, column), 0) for row in rows)
        cells.append(Cell((total, column), box(*prefix, rows, column), value))
    grand = sum(counts.get((row, column), 0) for row in rows for column in columns)
    cells.append(Cell((total, total), box(*prefix, rows, columns), grand))
    return cells


def structural(cells: Box, structural_zeros: Sequence[Box]) -> bool:
    """Whether the box lies in a structural zero: a combination that cannot occur."""
    return any(within(cells, zero) for zero in structural_zeros)


def primary(
    cells: Sequence[Cell],
    *,
    k: int,
    structural_zeros: Sequence[Box] = (),
) -> frozenset[tuple[str, ...]]:
    """Counts 1..k−1, and zeros unless every microcell of the cell is a structural zero (a
    combination that cannot occur): a zero that merely happened is a fact about people too.
    With k = 1 nothing is protected, zeros included (exact tables for the coordinator's checks)."""
    return frozenset(
        cell.key
        for cell in cells
        if 0 < cell.value < k
        or (k > 1 and cell.value == 0 and not structural(cell.parts, structural_zeros))
    )


class _Space:
    """The variables of the audit for a set of boxes: one per core cell, and per atom and
    free dimension one per value (see the module's note), with the equations that tie them.
    Built once for every box an audit may meet; suppressing cells changes only which boxes
    are equations, so the same space serves every round of complementary suppression.

    A free dimension that some cells restrict together with another (an activity's one
    school, while its table breaks down by area) is split: the *classes* of its values that
    such cells tell apart join the core, and only the values within a class are free."""

    def __init__(
        self,
        boxes: Iterable[Box],
        free: frozenset[int] | None,
        structural_zeros: Sequence[Box],
    ) -> None:
        distinct = list(dict.fromkeys(boxes))
        arity = len(distinct[0]) if distinct else 0
        if any(len(b) != arity for b in (*distinct, *structural_zeros)):
            raise ValueError("every box has the same dimensions")
        values = [sorted(set().union(*(b[d] for b in distinct))) for d in range(arity)]
        self._index = [{v: n for n, v in enumerate(vs)} for vs in values]
        self._full = [frozenset(vs) for vs in values]
        # A structural box, cut to the values that occur (an empty cut is no constraint).
        cut = (tuple(z & v for z, v in zip(b, self._full, strict=True)) for b in structural_zeros)
        zeros = [z for z in cut if all(z)]
        uses = _Uses((*distinct, *zeros), self._full)
        self._loose_of: dict[Box, int | None] = {}
        self._core_parts: dict[Box, tuple[Any, ...]] = {}
        chosen = uses.best_free() if free is None else free
        self.free = tuple(sorted(chosen))
        self.core = tuple(d for d in range(arity) if d not in self.free)
        # Per free dimension, each value's class (an index), and each class's values.
        self._class_of: dict[int, npt.NDArray[np.int64]] = {}
        self._class_by_value: dict[int, dict[str, int]] = {}  # the same, looked up per value
        self._classes: dict[int, list[npt.NDArray[np.int64]]] = {}
        for f in self.free:
            labels = uses.classes(f, frozenset(self.free), values[f])
            self._class_of[f] = labels
            self._class_by_value[f] = dict(zip(values[f], labels.tolist(), strict=True))
            self._classes[f] = [np.flatnonzero(labels == c) for c in range(int(labels.max()) + 1)]
        self._shape = tuple(
            [len(values[d]) for d in self.core] + [len(self._classes[f]) for f in self.free]
        )
        cells = math.prod(self._shape)
        zero = np.zeros(cells, dtype=bool)
        for z in zeros:
            if self._loose(z) is None:
                zero |= self._mask(z)
        # One column per core cell that can hold anything (-1: a structural zero).
        self._core_column = np.full(cells, -1, dtype=np.int64)
        open_cells = np.flatnonzero(~zero)
        self._core_column[open_cells] = np.arange(len(open_cells))
        self.columns = len(open_cells)
        self._zero = zero
        # The boxes that restrict a free dimension within its classes, by their core part:
        # these make the atoms, together with the classes (an atom never mixes classes).
        self._restricted: dict[tuple[Any, ...], int] = {}
        for b in (*distinct, *zeros):
            if self._loose(b) is not None:
                self._restricted.setdefault(self._core_part(b), len(self._restricted))
        member = np.zeros((len(self._restricted), cells), dtype=bool)
        for core_part, rule in self._restricted.items():
            member[rule] = self._core_mask(core_part) & ~zero
        touched = np.flatnonzero(member.any(axis=0)) if len(member) else np.empty(0, np.int64)
        self._atoms: list[npt.NDArray[np.int64]] = []  # each atom's core cells
        self._atom_class: list[tuple[int, ...]] = []  # each atom's class per free dimension
        self._atoms_of: list[list[int]] = [[] for _ in self._restricted]
        if len(touched):
            position = np.unravel_index(touched, self._shape)
            classes = np.stack(position[len(self.core) :], axis=1) if self.free else None
            signatures = np.packbits(member[:, touched], axis=0).T
            if classes is not None:
                signatures = np.concatenate([signatures, classes.astype(np.uint8)], axis=1)
            _, atom_of = np.unique(signatures, axis=0, return_inverse=True)
            atom_of = atom_of.reshape(-1)
            for atom in range(int(atom_of.max()) + 1):
                inside = np.flatnonzero(atom_of == atom)
                self._atoms.append(touched[inside])
                first = inside[0]
                self._atom_class.append(
                    tuple(int(c) for c in classes[first]) if classes is not None else ()
                )
                for hit in np.flatnonzero(member[:, touched[first]]):
                    self._atoms_of[int(hit)].append(atom)
        # Per atom and free dimension restricted within its classes, one column per value of
        # the atom's class (-1: a structural zero, such as a programme a row never has).
        used = sorted({loose for b in distinct if (loose := self._loose(b)) is not None})
        self._free_column: dict[tuple[int, int], npt.NDArray[np.int64]] = {}
        for atom in range(len(self._atoms)):
            for f in used:
                column = np.full(len(values[f]), -1, dtype=np.int64)
                own = self._classes[f][self._atom_class[atom][self.free.index(f)]]
                column[own] = np.arange(self.columns, self.columns + len(own))
                self.columns += len(own)
                self._free_column[(atom, f)] = column
        for z in zeros:
            f_zero = self._loose(z)
            if f_zero is None:
                continue
            never = [self._index[f_zero][v] for v in z[f_zero]]
            for atom in self._atoms_of[self._restricted[self._core_part(z)]]:
                if (atom, f_zero) in self._free_column:
                    self._free_column[(atom, f_zero)][never] = -1
        self._cache: dict[Box, npt.NDArray[np.int64]] = {}

    def _loose(self, b: Box) -> int | None:
        """The free dimension the box restricts within its classes, if any (at most one)."""
        if b in self._loose_of:
            return self._loose_of[b]
        loose = [f for f in self.free if b[f] != self._full[f] and not self._whole_classes(f, b[f])]
        if len(loose) > 1:
            raise ValueError(f"a cell restricts two free dimensions: {loose}")
        self._loose_of[b] = loose[0] if loose else None
        return self._loose_of[b]

    def _whole_classes(self, f: int, chosen: frozenset[str]) -> bool:
        """Whether the values are a union of f's classes."""
        labels = self._class_of[f]
        index = self._index[f]
        picked = Counter(int(labels[index[v]]) for v in chosen)
        return all(len(self._classes[f][c]) == n for c, n in picked.items())

    def _core_part(self, b: Box) -> tuple[Any, ...]:
        """What the core sees of a box: its core values and the classes it touches."""
        found = self._core_parts.get(b)
        if found is not None:
            return found
        classes = (frozenset(self._class_by_value[f][v] for v in b[f]) for f in self.free)
        found = self._core_parts[b] = (*(b[d] for d in self.core), *classes)
        return found

    def _core_mask(self, core_part: tuple[Any, ...]) -> npt.NDArray[np.bool_]:
        core = core_part[: len(self.core)]
        chosen = [
            sorted(self._index[d][v] for v in vs) for d, vs in zip(self.core, core, strict=True)
        ]
        chosen += [sorted(classes) for classes in core_part[len(self.core) :]]
        mask = np.zeros(self._shape, dtype=bool)
        mask[np.ix_(*chosen)] = True
        return mask.reshape(-1)

    def _mask(self, b: Box) -> npt.NDArray[np.bool_]:
        return self._core_mask(self._core_part(b))

    def of(self, b: Box) -> npt.NDArray[np.int64]:
        """The columns whose sum is the box's count (empty: structural zeros only)."""
        found = self._cache.get(b)
        if found is not None:
            return found
        f = self._loose(b)
        if f is None:
            cells = np.flatnonzero(self._mask(b) & ~self._zero)
            found = self._core_column[cells]
        else:
            atoms = self._atoms_of[self._restricted[self._core_part(b)]]
            chosen = np.asarray(sorted(self._index[f][v] for v in b[f]), dtype=np.int64)
            found = np.concatenate(
                [self._free_column[(atom, f)][chosen] for atom in atoms]
                or [np.empty(0, dtype=np.int64)]
            )
            found = found[found >= 0]
        self._cache[b] = found
        return found

    def links(self) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
        """The equations tying each atom's free counts to its core cells: (the columns with
        +1, the columns with −1), each summing to 0."""
        for (atom, _), columns in self._free_column.items():
            yield columns[columns >= 0], self._core_column[self._atoms[atom]]


class _Uses:
    """Which value sets the boxes use on each dimension, by the dimensions they restrict:
    enough to choose the free dimensions and their classes without looking at every box
    again for each choice."""

    def __init__(self, boxes: Iterable[Box], full: Sequence[frozenset[str]]) -> None:
        self._full = full
        groups: dict[frozenset[int], list[Box]] = defaultdict(list)
        for b in boxes:
            groups[frozenset(d for d, vs in enumerate(b) if vs != full[d])].append(b)
        self._groups = dict(groups)
        # Per box, its restricted dimensions by how many boxes differ from it in that one
        # alone: the column of its table first (its row's other cells), its coverage last.
        self._order: dict[Box, list[int]] = {}
        for pattern, members in self._groups.items():
            siblings = {
                d: Counter(tuple(b[e] for e in pattern if e != d) for b in members) for d in pattern
            }
            for b in members:
                self._order[b] = sorted(
                    pattern,
                    key=lambda d: (
                        -siblings[d][tuple(b[e] for e in pattern if e != d)],
                        -len(full[d]),
                        d,
                    ),
                )
        self._made: dict[tuple[frozenset[int], frozenset[int]], dict[int, set[frozenset[str]]]]
        self._made = {}

    def classes(self, f: int, free: frozenset[int], values: Sequence[str]) -> npt.NDArray[np.int64]:
        """Each value's class: values that no box restricting f together with another free
        dimension, f not its loose one, tells apart share one."""
        family = self._family(f, free)
        keys = [tuple(v in chosen for chosen in family) for v in values]
        numbered: dict[tuple[bool, ...], int] = {}
        return np.asarray([numbered.setdefault(key, len(numbered)) for key in keys])

    def _family(self, f: int, free: frozenset[int]) -> set[frozenset[str]]:
        """The value sets of f that must be whole classes. A box restricting several free
        dimensions leaves one of them loose (free within its classes): its table's column,
        the dimension it differs from the most boxes in alone (an activity covering one
        school breaks down by area: the area is loose, the school a class)."""
        family: set[frozenset[str]] = set()
        for pattern in self._groups:
            restricted = pattern & free
            if f in restricted and len(restricted) > 1:
                family |= self._aligned(pattern, restricted).get(f, set())
        return family

    def _aligned(
        self, pattern: frozenset[int], restricted: frozenset[int]
    ) -> dict[int, set[frozenset[str]]]:
        """For the boxes of one pattern with these free dimensions restricted: the value sets
        each dimension must keep whole (every restricted one but each box's loose one)."""
        made = self._made.get((pattern, restricted))
        if made is None:
            made = defaultdict(set)
            for b in self._groups[pattern]:
                loose = next(d for d in self._order[b] if d in restricted)
                for d in restricted - {loose}:
                    made[d].add(b[d])
            self._made[(pattern, restricted)] = made
        return made

    def best_free(self) -> frozenset[int]:
        """The free dimensions that leave the fewest core cells (every dimension outside
        them, and the classes of those in them). There are few dimensions: all are tried."""
        sizes = [len(values) for values in self._full]
        candidates = [d for d, n in enumerate(sizes) if n > 1]
        best: tuple[int, int, frozenset[int]] = (math.prod(sizes), 0, frozenset())
        for n in range(1, len(candidates) + 1):
            for chosen in combinations(candidates, n):
                free = frozenset(chosen)
                core = math.prod(sizes[d] for d in range(len(sizes)) if d not in free)
                for f in free:
                    core *= self._class_count(f, free)
                extra = sum(sizes[f] for f in free)
                if (core, extra) < best[:2]:
                    best = (core, extra, free)
        return best[2]

    def _class_count(self, f: int, free: frozenset[int]) -> int:
        family = self._family(f, free)
        return len({tuple(v in chosen for chosen in family) for v in self._full[f]})


def audit(
    releases: Sequence[Release],
    *,
    k: int,
    width: float,
    structural_zeros: Sequence[Box] = (),
    free: frozenset[int] | None = None,
    first_only: bool = False,
    settled: Mapping[Box, tuple[float, float]] | None = None,
    deadline: float | None = None,
) -> tuple[list[Exposure], dict[Box, tuple[float, float]]]:
    """The interval of every protected value given everything published in `releases`:
    every suppressed cell of every release (a new release must not give away an old
    suppression), and every microcell below k that a single-microcell cell counted (so that
    differencing two releases, say a year against its tertials, gives no small count away).
    The exposures are the intervals narrower than `width` (with `first_only`, the first).
    `settled` holds intervals already known to be wide enough for a subset of what is now
    published; they are taken as they are (publishing less only widens an interval). An
    interval is exact where it was solved for; one that solutions already found show to be at
    least `width` wide is the range they span, or runs from the least sum among them to its
    solved greatest value (with `width` 0, all are exact).
    `free` names the free dimensions (the module's note); None chooses them. The
    `structural_zeros` are boxes that are zero by construction."""
    space = _Space(
        (cell.parts for release in releases for cell in release.cells), free, structural_zeros
    )
    proof = _Proof(space, releases)
    return proof.audit(
        releases,
        k=k,
        width=width,
        first_only=first_only,
        settled=settled,
        deadline=deadline,
    )


class _Proof:
    """Every sum the releases hold, shown or not, as the rows of one linear program: a shown
    sum is an equation, a suppressed one a free row. Suppressing a cell frees its row and
    leaves the model as it was, so each solve starts from the basis the last one left, from
    one round of complementary suppression to the next."""

    def __init__(self, space: _Space, releases: Sequence[Release]) -> None:
        self.space = space
        sums = dict.fromkeys(
            (cell.parts, cell.value) for release in releases for cell in release.cells
        )
        self._row: dict[tuple[Box, int], int] = {}
        rows: list[npt.NDArray[np.int64]] = []
        for parts, value in sums:
            columns = space.of(parts)
            if len(columns):
                self._row[(parts, value)] = len(rows)
                rows.append(columns)
        self._sums = len(rows)
        signs = [np.ones(len(columns)) for columns in rows]
        for plus, minus in space.links():
            rows.append(np.concatenate([plus, minus]))
            signs.append(np.concatenate([np.ones(len(plus)), -np.ones(len(minus))]))
        right = [value for _, value in self._row] + [0.0] * (len(rows) - self._sums)
        self._rows = rows
        self._program = _Program(space.columns, rows, signs, right, fixed_from=self._sums)

    def audit(
        self,
        releases: Sequence[Release],
        *,
        k: int,
        width: float,
        first_only: bool = False,
        settled: Mapping[Box, tuple[float, float]] | None = None,
        deadline: float | None = None,
    ) -> tuple[list[Exposure], dict[Box, tuple[float, float]]]:
        """`audit` for releases whose cells are all among those the proof was built with."""
        space = self.space
        shown = np.zeros(self._sums, dtype=bool)
        for release in releases:
            for cell in release.published():
                row = self._row.get((cell.parts, cell.value))
                if row is not None:
                    shown[row] = True
                elif len(space.of(cell.parts)):
                    raise ValueError(f"a cell the proof was not built with: {cell.key}")
                elif cell.value:  # a published sum with no column: structural zeros only
                    raise RuntimeError(f"a structural zero published as {cell.value}: {cell.key}")
        self._program.show(shown)
        # A column in no equation is free (≥ 0, bound by nothing), so a target holding one is
        # unbounded and is decided without a solve. The links bind once anything is shown.
        constrained = np.zeros(space.columns, dtype=bool)
        for equation in np.flatnonzero(shown):
            constrained[self._rows[equation]] = True
        if shown.any():
            for columns in self._rows[self._sums :]:
                constrained[columns] = True
        exposures: list[Exposure] = []
        intervals: dict[Box, tuple[float, float]] = {}
        for key, parts, small in _targets(releases, k=k):
            if parts in intervals:
                continue
            if settled is not None and parts in settled:
                intervals[parts] = settled[parts]
                continue
            columns = space.of(parts)
            if not len(columns):
                intervals[parts] = (0.0, 0.0)  # structural zeros only
                if width > 0 and not small:  # a structural zero is no one's count
                    exposures.append(Exposure(key, parts, 0.0, 0.0))
                    if first_only:
                        break
                continue
            touched = constrained[columns]
            if not touched.all():
                # A column no published number touches: the sum has no greatest value. Its
                # least is that of the touched columns (the others can be 0); the width is
                # infinite either way, so it is solved for only when asked exactly.
                bound = columns[touched].astype(np.int32)
                low = self._program.least(bound) if width <= 0 and len(bound) else 0.0
                intervals[parts] = (low, math.inf)
                continue
            seen = self._program.spanned(columns) if width > 0 else None
            if seen is not None and seen[1] - seen[0] >= width - _TOLERANCE:
                intervals[parts] = seen  # wide enough between two solutions already found
                continue
            if deadline is not None and time.monotonic() > deadline:
                raise ProofTooSlow()
            enough = width - _TOLERANCE if width > 0 else None
            low, high = self._program.interval(columns.astype(np.int32), enough=enough)
            intervals[parts] = (low, high)
            if high - low < width - _TOLERANCE:
                exposures.append(Exposure(key, parts, low, high))
                if first_only:
                    break
        return exposures, intervals


def _targets(releases: Sequence[Release], *, k: int) -> Iterable[tuple[tuple[str, ...], Box, bool]]:
    """What the audit protects: (its key, its box, whether it is a small microcell)."""
    for release in reversed(releases):  # the newest first: its cells are the ones to fix
        for cell in release.cells:
            if cell.key in release.suppressed:
                yield cell.key, cell.parts, False
    for release in releases:
        for cell in release.cells:
            if cell.value < k and size(cell.parts) == 1:
                yield tuple(next(microcells(cell.parts))), cell.parts, True


class _Program:
    """The published equations (every column ≥ 0) as one HiGHS model. Only the objective
    changes from one target to the next, so each solve starts from the basis the last one
    left: far cheaper than building the program again for every bound."""

    def __init__(
        self,
        columns: int,
        rows: Sequence[npt.NDArray[np.int64]],
        signs: Sequence[npt.NDArray[np.float64]],
        right: Sequence[float],
        *,
        fixed_from: int,
    ) -> None:
        """Rows before `fixed_from` start free (`show` makes them equations); the rest are
        equations always."""
        row_of = np.concatenate(
            [np.full(len(r), n) for n, r in enumerate(rows)] or [np.empty(0, dtype=np.int64)]
        )
        matrix = csc_matrix(
            (
                np.concatenate([*signs, np.empty(0)]),
                (row_of, np.concatenate([*rows, np.empty(0, dtype=np.int64)])),
            ),
            shape=(len(right), columns),
        )
        self._right = np.asarray(right, dtype=float)
        self._shown = np.zeros(fixed_from, dtype=bool)
        lower = self._right.copy()
        upper = self._right.copy()
        lower[:fixed_from] = -highspy.kHighsInf
        upper[:fixed_from] = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = columns
        lp.num_row_ = len(right)
        lp.col_cost_ = np.zeros(columns)
        lp.col_lower_ = np.zeros(columns)
        lp.col_upper_ = np.full(columns, highspy.kHighsInf)
        lp.row_lower_ = lower
        lp.row_upper_ = upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        # The solver's core class, not `highspy.Highs`: that subclass's constructor enables
        # its Python callbacks (unused here), a solver call that prints HiGHS's banner to
        # the server's stdout before any option can turn output off.
        self._highs = highspy._core._Highs()
        self._highs.setOptionValue("output_flag", False)
        # Only the objective changes between solves: the last basis stays feasible, which is
        # what the primal simplex starts from; presolving would discard it each time.
        self._highs.setOptionValue("presolve", "off")
        self._highs.setOptionValue("simplex_strategy", 4)
        self._highs.passModel(lp)
        self._costed: npt.NDArray[np.int32] = np.empty(0, dtype=np.int32)
        self._solutions: npt.NDArray[np.float64] = np.empty((0, columns))
        self._found = 0  # the solutions kept in the first rows of `_solutions`

    def show(self, shown: npt.NDArray[np.bool_]) -> None:
        """Make the rows marked in `shown` equations and the others free."""
        changed = np.flatnonzero(shown != self._shown).astype(np.int32)
        if not len(changed):
            return
        on = shown[changed]
        if on.any():  # a new equation: the solutions found may no longer satisfy it
            self._found = 0
        lower = np.where(on, self._right[changed], -highspy.kHighsInf)
        upper = np.where(on, self._right[changed], highspy.kHighsInf)
        # In highspy's _Highs, missing from the stubs of its Highs subclass.
        self._highs.changeRowsBounds(  # type: ignore[attr-defined]
            len(changed), changed, lower, upper
        )
        self._shown = shown.copy()

    def spanned(self, columns: npt.NDArray[np.integer[Any]]) -> tuple[float, float] | None:
        """The least and greatest sum of `columns` among the solutions found so far: each is
        a table the equations allow, so the true interval holds this range. They stay
        solutions while rows are only freed, as complementary suppression does."""
        if not self._found:
            return None
        sums = self._solutions[: self._found, columns].sum(axis=1)
        return float(sums.min()), float(sums.max())

    def _keep(self, solution: npt.NDArray[np.float64]) -> None:
        if self._found == len(self._solutions):
            grown = np.empty((max(16, 2 * self._found), self._solutions.shape[1]))
            grown[: self._found] = self._solutions[: self._found]
            self._solutions = grown
        self._solutions[self._found] = solution
        self._found += 1

    def interval(
        self, columns: npt.NDArray[np.int32], *, enough: float | None = None
    ) -> tuple[float, float]:
        """The least and greatest sum of `columns` the equations allow. With `enough`, once
        the greatest is known, a solution already found whose sum lies `enough` below it ends
        the search: the least is at most that sum, which is returned instead."""
        self._cost(columns)
        high = self._extreme(highspy.ObjSense.kMaximize)
        if enough is not None:
            seen = self.spanned(columns)
            if seen is not None and high - seen[0] >= enough:
                return seen[0], high
        return self._extreme(highspy.ObjSense.kMinimize), high

    def least(self, columns: npt.NDArray[np.int32]) -> float:
        """The least sum of `columns` the equations allow."""
        self._cost(columns)
        return self._extreme(highspy.ObjSense.kMinimize)

    def _cost(self, columns: npt.NDArray[np.int32]) -> None:
        """Make the sum of `columns` the objective."""
        highs = self._highs
        if len(self._costed):
            highs.changeColsCost(len(self._costed), self._costed, np.zeros(len(self._costed)))
        highs.changeColsCost(len(columns), columns, np.ones(len(columns)))
        self._costed = columns

    def _extreme(self, sense: Any) -> float:
        highs = self._highs
        highs.changeObjectiveSense(sense)
        highs.run()
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            self._keep(np.asarray(highs.getSolution().col_value))
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
    structural_zeros: Sequence[Box] = (),
    free: frozenset[int] | None = None,
    forced: frozenset[tuple[str, ...]] = frozenset(),
    deadline: float | None = None,
) -> Protected:
    """Suppress what must be, then more until no suppressed cell can be recovered within
    `width` (default k) from this table and the `earlier` releases. `forced` cells are
    suppressed whatever their value (the differencing rule of a correction). Cells with the
    same box (one total shown in two tables) are shown or suppressed together. Raises
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
    twins: dict[Box, list[tuple[str, ...]]] = {}
    for cell in cells:
        twins.setdefault(cell.parts, []).append(cell.key)
    suppressed: set[tuple[str, ...]] = set()

    def suppress(key: tuple[str, ...]) -> None:
        suppressed.update(twins[by_key[key].parts])

    for key in first:
        suppress(key)
    everything = [*earlier, Release(cells, frozenset())]
    space = _Space(
        (cell.parts for release in everything for cell in release.cells), free, structural_zeros
    )
    proof = _Proof(space, everything)
    table = _Table(cells, structural_zeros)
    for key in table.lines_closed(suppressed):
        suppress(key)
    # Suppressing more only removes equations, so an interval found wide enough stays so.
    settled: dict[Box, tuple[float, float]] = {}
    while True:
        release = Release(cells=tuple(cells), suppressed=frozenset(suppressed))
        exposures, intervals = proof.audit(
            [*earlier, release],
            k=k,
            width=protection,
            first_only=True,
            settled=settled,
            deadline=deadline,
        )
        settled.update(
            (parts, span)
            for parts, span in intervals.items()
            if span[1] - span[0] >= protection - _TOLERANCE
        )
        if not exposures:
            _, intervals = proof.audit(
                [*earlier, release], k=k, width=protection, settled=settled, deadline=deadline
            )
            return Protected(release=release, primary=frozenset(first), intervals=intervals)
        complement = table.complement(suppressed, exposures[0])
        if complement is None:
            raise ReleaseRefused(exposures)
        suppress(complement)


class _Table:
    """The cells of one table and which lie inside which, to choose complements."""

    def __init__(self, cells: Sequence[Cell], structural_zeros: Sequence[Box]) -> None:
        self.cells = cells
        self._zeros = {cell.key for cell in cells if structural(cell.parts, structural_zeros)}
        self._inside: dict[tuple[str, ...], list[Cell]] = {}

    def equations(self) -> list[tuple[Cell, list[Cell]]]:
        """The table's lines: a cell and the cells that split it along one dimension (a row
        total and the row's cells, a column total and the column's cells), found from the
        boxes alone. A line with exactly one hidden member gives that member away."""
        groups: dict[tuple[int, Box], dict[frozenset[str], Cell]] = defaultdict(dict)
        for cell in self.cells:
            for d in range(len(cell.parts)):
                rest = cell.parts[:d] + cell.parts[d + 1 :]
                groups[(d, rest)].setdefault(cell.parts[d], cell)
        lines = []
        for (_, _), members in groups.items():
            if len(members) < 2:
                continue
            whole = max(members, key=len)
            parts = [members[values] for values in members if values != whole]
            split = [values for values in members if values != whole]
            if sum(map(len, split)) == len(whole) and frozenset().union(*split) == whole:
                lines.append((members[whole], parts))
        return lines

    def lines_closed(self, suppressed: set[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """Further cells to suppress until no line of the table has exactly one hidden
        member (the classic necessary condition, found without a linear program): in each
        such line, the smallest shown part, or the total when no part is left. `suppressed`
        is left as it was; the cells to add are returned in order."""
        hidden = set(suppressed)
        added: list[tuple[str, ...]] = []
        twins: dict[Box, list[tuple[str, ...]]] = defaultdict(list)
        for cell in self.cells:
            twins[cell.parts].append(cell.key)
        lines = self.equations()
        changed = True
        while changed:
            changed = False
            for total, parts in lines:
                members = [total, *parts]
                unknown = [m for m in members if m.key in hidden and m.key not in self._zeros]
                if len(unknown) != 1:
                    continue
                shown = [m for m in parts if m.key not in hidden and m.key not in self._zeros]
                chosen = min(shown, key=lambda c: (c.value, c.key)) if shown else total
                if chosen.key in hidden:
                    continue
                for key in twins[chosen.parts]:
                    hidden.add(key)
                added.append(chosen.key)
                changed = True
        return added

    def inside(self, line: Cell) -> list[Cell]:
        """The cells strictly inside `line`."""
        found = self._inside.get(line.key)
        if found is None:
            found = [c for c in self.cells if c.parts != line.parts and within(c.parts, line.parts)]
            self._inside[line.key] = found
        return found

    def complement(
        self, suppressed: set[tuple[str, ...]], exposure: Exposure
    ) -> tuple[str, ...] | None:
        """The cheapest further cell to suppress for an exposed one. A shown total over the
        exposed cell (its row, its column, the grand total) is an equation that gives it
        away; take the one with the fewest suppressed cells in it, and suppress its smallest
        shown part (interior cells first). When no shown total holds it, suppress the
        smallest shown cell that overlaps it. None when nothing is left to suppress."""
        exposed = exposure.parts

        def hidden(cell: Cell) -> bool:
            return cell.key in suppressed or cell.key in self._zeros

        def cheapest(candidates: Iterable[Cell]) -> Cell | None:
            return min(candidates, key=lambda c: (size(c.parts), c.value, c.key), default=None)

        lines = [
            cell
            for cell in self.cells
            if cell.parts != exposed and within(exposed, cell.parts) and not hidden(cell)
        ]

        def crowding(line: Cell) -> tuple[int, int]:
            crowd = sum(1 for c in self.inside(line) if c.key in suppressed)
            return crowd, size(line.parts)

        for line in sorted(lines, key=crowding):
            best = cheapest(
                c for c in self.inside(line) if not hidden(c) and not overlaps(c.parts, exposed)
            )
            if best is not None:
                return best.key
            return line.key  # the line holds nothing else to hide: hide the total itself
        overlapping = cheapest(
            c for c in self.cells if overlaps(c.parts, exposed) and not hidden(c)
        )
        return overlapping.key if overlapping is not None else None
