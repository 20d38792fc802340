"""The settings every PostgreSQL connection of the application gets (`common.db`)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from common.db import make_engine
from tests.conftest import PostgresDatabases


@pytest.mark.postgres
def test_moments_read_back_in_utc_whatever_the_servers_zone(
    postgres_databases: PostgresDatabases,
) -> None:
    """A database whose default zone is Stockholm: the application's sessions still run in
    UTC, so moments come back in `datetime.UTC` and timestamps print as stored."""
    name = postgres_databases.fresh()
    url = postgres_databases.url_for(name)
    try:
        with postgres_databases.admin.connect() as admin:
            admin.exec_driver_sql(
                f"ALTER DATABASE \"{make_url(url).database}\" SET timezone = 'Europe/Stockholm'"
            )
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                zone = connection.exec_driver_sql("SHOW TIME ZONE").scalar()
                moment = connection.execute(
                    text("SELECT CAST('2026-06-01 10:00:00+00' AS timestamptz)")
                ).scalar_one()
        finally:
            engine.dispose()
    finally:
        postgres_databases.drop(name)
    assert zone == "UTC"
    assert moment == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert moment.tzinfo is UTC


@pytest.mark.postgres
def test_a_results_columns_are_described_as_psycopg_describes_them(
    postgres_databases: PostgresDatabases,
) -> None:
    """The application's cursors make `description` on demand (`common.db`): the same
    columns as psycopg's own cursor gives, none for a statement without rows, and a clear
    error rather than another result's columns if read after the cursor moved on."""
    name = postgres_databases.fresh()
    engine = make_engine(postgres_databases.url_for(name))
    query = "SELECT 1 AS one, CAST('x' AS text) AS two, now() AS three"
    try:
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert isinstance(driver, psycopg.Connection)
            plain = psycopg.Cursor(driver)
            plain.execute(query)
            expected = [(c.name, c.type_code) for c in plain.description or ()]
            cursor = driver.cursor()
            assert type(cursor) is not psycopg.Cursor  # the application's own
            cursor.execute(query)
            described = cursor.description
            assert described is not None
            assert [(c.name, c.type_code) for c in described] == expected
            assert len(described) == 3
            assert described[-1].name == "three"
            cursor.execute("SET application_name = 'samsyn-test'")
            assert cursor.description is None
            moving = driver.cursor()
            moving.execute(query)
            early = moving.description
            assert early is not None
            moving.execute("SELECT 2 AS other")
            with pytest.raises(RuntimeError):
                early[0]
        finally:
            raw.close()
        with engine.connect() as connection:  # and through SQLAlchemy, as the app reads
            row = connection.execute(text(query)).one()
            assert (row.one, row.two) == (1, "x")
    finally:
        engine.dispose()
        postgres_databases.drop(name)
