"""`UTCDateTime` reads back the moment written, timezone-aware in UTC, whatever form the
stored text has: SQLite's own text is parsed on a quick way, every other form as before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, select, text
from sqlalchemy.engine import Engine

from common.db import UTCDateTime

_table = Table(
    "moment", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = create_engine("sqlite://")
    _table.metadata.create_all(engine)
    return engine


def _read_back(engine: Engine, stored: str | None) -> datetime | None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM moment"))
        connection.execute(text("INSERT INTO moment (id, at) VALUES (1, :at)"), {"at": stored})
        read: datetime | None = connection.execute(select(_table.c.at)).scalar_one()
        return read


@given(
    moment=st.datetimes(  # hypothesis takes naive bounds and adds the zone itself
        min_value=datetime(1900, 1, 1),  # noqa: DTZ001
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_a_written_moment_reads_back_equal_and_in_utc(engine: Engine, moment: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(_table.delete())
        connection.execute(_table.insert().values(id=1, at=moment))
        read = connection.execute(select(_table.c.at)).scalar_one()
    assert read == moment
    assert read.tzinfo is UTC


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2026-12-03 12:57:35.568378", datetime(2026, 12, 3, 12, 57, 35, 568378, tzinfo=UTC)),
        ("2026-12-03 12:57:35", datetime(2026, 12, 3, 12, 57, 35, tzinfo=UTC)),
        ("2026-12-03T12:57:35.5", datetime(2026, 12, 3, 12, 57, 35, 500000, tzinfo=UTC)),
        ("2026-12-03 12:57:35+00:00", datetime(2026, 12, 3, 12, 57, 35, tzinfo=UTC)),
        ("2026-12-03 14:57:35+02:00", datetime(2026, 12, 3, 12, 57, 35, tzinfo=UTC)),
        ("2026-12-03", datetime(2026, 12, 3, tzinfo=UTC)),
        ("2026-12-03 14:57:35.568378+02:00", datetime(2026, 12, 3, 12, 57, 35, 568378, tzinfo=UTC)),
        ("2026-12-03T12:57:35.568378", datetime(2026, 12, 3, 12, 57, 35, 568378, tzinfo=UTC)),
        (None, None),
    ],
)
def test_stored_text_in_any_form_reads_as_its_utc_moment(
    engine: Engine, stored: str | None, expected: datetime | None
) -> None:
    read = _read_back(engine, stored)
    assert read == expected
    if read is not None:
        assert read.tzinfo is UTC


def test_text_that_is_no_moment_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="isoformat"):
        _read_back(engine, "yesterday")
