"""The service's microcell arrays (`_Microcells`) give the same sums as adding the counts one
by one: any box's total, and the sums by row and by one dimension that make a table."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st

from domain.statistics.service import Dims, _Microcells, _Places

ROWS = ("given", "refused", "withdrawn")
VALUES = (("SSPF", "SIG"), ("Norr", "Söder", "*"), ("A-skolan", "*"), ("Flicka", "Pojke"), ("*",))

places = st.tuples(*(st.sampled_from(values) for values in VALUES))
counts = st.dictionaries(st.tuples(st.sampled_from(ROWS), places), st.integers(0, 40))
subsets = st.tuples(
    st.frozensets(st.sampled_from(ROWS), min_size=1),
    *(st.frozensets(st.sampled_from(values), min_size=1) for values in VALUES),
)


def arrays(values: dict[tuple[str, Dims], int]) -> _Microcells:
    numbered = _Places()
    return _Microcells({(row, numbered.of(d)): n for (row, d), n in values.items()}, numbered)


@given(counts, subsets)
def test_a_box_sums_the_counts_inside_it(
    values: dict[tuple[str, Dims], int], parts: tuple[frozenset[str], ...]
) -> None:
    expected = sum(
        n
        for (row, dims), n in values.items()
        if all(v in allowed for v, allowed in zip((row, *dims), parts, strict=True))
    )

    assert arrays(values).total(parts) == expected


@given(counts, subsets, st.integers(1, 5))
def test_sums_by_row_and_one_dimension_are_those_of_the_chosen_counts(
    values: dict[tuple[str, Dims], int], parts: tuple[frozenset[str], ...], dimension: int
) -> None:
    micro = arrays(values)
    chosen = micro.chosen(parts)
    by_row: dict[str, int] = defaultdict(int)
    by_pair: dict[tuple[str, str], int] = defaultdict(int)
    for (row, dims), n in values.items():
        if all(v in allowed for v, allowed in zip((row, *dims), parts, strict=True)):
            by_row[row] += n
            by_pair[(row, dims[dimension - 1])] += n

    rows = micro.by_row(chosen)
    pairs = micro.by_row_and(chosen, dimension)

    assert {row: n for row, n in rows.items() if n} == {r: n for r, n in by_row.items() if n}
    assert {key: n for key, n in pairs.items() if n} == {k: n for k, n in by_pair.items() if n}


def test_no_counts_sum_to_zero() -> None:
    micro = arrays({})
    everything = (frozenset(ROWS), *(frozenset(values) for values in VALUES))

    assert micro.total(everything) == 0
    assert micro.by_row(micro.chosen(everything)) == {}
