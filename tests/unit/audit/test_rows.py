"""The shortcut for rows stored as written gives exactly what the general way gives.

`RowReader.fast` builds the payload from the stored text; the general way reads the row
through the column types and builds it with `canonical.payload_of`, the reference. For every
row the shortcut accepts, both must agree on the payload, the event id and the time, and the
general way must find no re-spelled column; rows in any other form must be left to the
general way.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.engine import Dialect

from audit.canonical import EVENT_COLUMNS, micros, payload_of
from audit.repository import verification_columns
from audit.rows import EVENT, RowReader


@pytest.fixture(scope="module")
def dialect() -> Dialect:
    engine = create_engine("sqlite://")
    try:
        return engine.dialect
    finally:
        engine.dispose()


def stored_row(dialect: Dialect, event: dict[str, Any]) -> tuple[Any, ...]:
    """The row as the application writes it: each value through its column's bind processor
    (a tuple, as the rows the repository streams: their slices are tuples)."""
    values = [
        7,
        event["id"],
        b"p" * 32,
        b"l" * 32,
        *(event[name] for name in EVENT_COLUMNS),
    ]
    row = []
    for column, value in zip(verification_columns(), values, strict=True):
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        row.append(value if process is None or value is None else process(value))
    return tuple(row)


def general(reader: RowReader, row: tuple[Any, ...]) -> tuple[bytes, int, bytes, list[str]]:
    typed = reader.typed(row)
    payload = payload_of(*typed[EVENT:])
    return typed[EVENT].bytes, micros(typed[EVENT + 1]), payload, reader.respelled(row, typed)


def agrees(reader: RowReader, row: tuple[Any, ...]) -> bool:
    """True if the shortcut took the row; it must then agree with the general way."""
    fast = reader.fast(row)
    if fast is None:
        return False
    event_id, occurred, payload, respelled = general(reader, row)
    assert respelled == []
    assert fast == (event_id, occurred, payload)
    return True


def an_event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": uuid.UUID("457b1245-e9bf-4c06-a51f-7c2951ad0918"),
        "occurred_at": datetime(2026, 12, 3, 12, 57, 35, 568378, tzinfo=UTC),
        "request_id": "9d462e7c9566404fb8e30ceac18c7429",
        "user_id": uuid.UUID("b1cb1816-7d85-457c-9f32-2a1422d00e17"),
        "agency_id": None,
        "role": "social_worker",
        "action": "case.read",
        "resource_type": "case",
        "resource_id": "a05512cb-b6d8-404b-a1b6-854b301b99cb",
        "case_id": uuid.UUID("a05512cb-b6d8-404b-a1b6-854b301b99cb"),
        "outcome": "allowed",
        "basis": {"via": "consent", "consents": ["x", "y"], "n": 1.5, "ok": True},
    }
    event.update(changes)
    return event


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
events = st.fixed_dictionaries(
    {
        "id": st.uuids(),
        "occurred_at": st.datetimes(
            min_value=datetime(1, 1, 2),  # noqa: DTZ001 (hypothesis takes naive bounds)
            max_value=datetime(9999, 12, 30),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
        "request_id": st.none() | st.text(),
        "user_id": st.none() | st.uuids(),
        "agency_id": st.none() | st.uuids(),
        "role": st.none() | st.text(),
        "action": st.text(),
        "resource_type": st.text(),
        "resource_id": st.none() | st.text(),
        "case_id": st.none() | st.uuids(),
        "outcome": st.text(),
        "basis": json_values,
    }
)


@given(event=events)
def test_a_row_stored_as_written_is_read_alike_both_ways(
    dialect: Dialect, event: dict[str, Any]
) -> None:
    reader = RowReader(dialect)
    assert agrees(reader, stored_row(dialect, event))
    assert agrees(reader, stored_row(dialect, event)), "and again, from the caches"


def respell(row: tuple[Any, ...], name: str, spelled: Any) -> tuple[Any, ...]:
    changed = list(row)
    index = EVENT + EVENT_COLUMNS.index(name) if name != "leaf_event_id" else 1
    changed[index] = spelled
    return tuple(changed)


HEX = "457b1245e9bf4c06a51f7c2951ad0918"
RESPELLINGS = {
    "event id upper case": [("id", HEX.upper()), ("leaf_event_id", HEX.upper())],
    "event id with dashes": [("id", str(uuid.UUID(HEX))), ("leaf_event_id", str(uuid.UUID(HEX)))],
    "event id in braces": [("id", "{" + HEX + "}"), ("leaf_event_id", "{" + HEX + "}")],
    "leaf's event id only": [("leaf_event_id", HEX.upper())],
    "user id upper case": [("user_id", "B1CB18167D85457C9F322A1422D00E17")],
    "case id with dashes": [("case_id", "a05512cb-b6d8-404b-a1b6-854b301b99cb")],
    "case id with a space": [("case_id", "a05512cbb6d8404ba1b6854b301b99c ")],
    "time with a T": [("occurred_at", "2026-12-03T12:57:35.568378")],
    "time with an offset": [("occurred_at", "2026-12-03 12:57:35.568378+00:00")],
    "time in another zone": [("occurred_at", "2026-12-03 13:57:35.568378+01:00")],
    "time without microseconds": [("occurred_at", "2026-12-03 12:57:35")],
    "time with milliseconds": [("occurred_at", "2026-12-03 12:57:35.568")],
    "time in the basic format": [("occurred_at", "20261203T125735.568378")],
}


@pytest.mark.parametrize("changes", RESPELLINGS.values(), ids=RESPELLINGS.keys())
def test_a_respelled_row_is_left_to_the_general_way(
    dialect: Dialect, changes: list[tuple[str, str]]
) -> None:
    reader = RowReader(dialect)
    row = stored_row(dialect, an_event())
    assert agrees(reader, row)
    for name, spelled in changes:
        row = respell(row, name, spelled)
    assert reader.fast(row) is None
    assert general(reader, row)[3] != []


ODD_VALUES = {
    "a blob for a text": ("role", b"social_worker"),
    "a number for a text": ("action", 7),
    "a blob for an id": ("user_id", bytes.fromhex("b1cb18167d85457c9f322a1422d00e17")),
    "a number for the time": ("occurred_at", 1_764_766_655),
    "a blob for the request id": ("request_id", b"9d46"),
    "the basis not JSON": ("basis", "{via: consent"),
}


@pytest.mark.parametrize(("name", "value"), ODD_VALUES.values(), ids=ODD_VALUES.keys())
def test_a_value_of_another_kind_is_left_to_the_general_way(
    dialect: Dialect, name: str, value: object
) -> None:
    reader = RowReader(dialect)
    assert reader.fast(respell(stored_row(dialect, an_event()), name, value)) is None


def test_a_basis_stored_in_another_json_spelling_gives_the_canonical_payload(
    dialect: Dialect,
) -> None:
    """The basis is not an id or a time: any JSON text of the same value hashes alike."""
    reader = RowReader(dialect)
    row = respell(stored_row(dialect, an_event()), "basis", '{ "ok":true,"n":1.5e0 ,"via" :"x"}')
    assert agrees(reader, row)


def test_a_missing_event_is_left_to_the_general_way(dialect: Dialect) -> None:
    reader = RowReader(dialect)
    row = stored_row(dialect, an_event())[:EVENT] + (None,) * len(EVENT_COLUMNS)
    assert reader.fast(row) is None


def test_the_caches_stay_bounded(dialect: Dialect) -> None:
    reader = RowReader(dialect)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(60_000):
        event = an_event(
            id=uuid.UUID(int=n),
            case_id=uuid.UUID(int=n + 1),
            resource_id=str(n),
            occurred_at=start + timedelta(seconds=n),
        )
        assert reader.fast(stored_row(dialect, event)) is not None
    assert all(len(cache) <= 50_000 for cache in (reader._who, reader._what, reader._how))
