"""The settings every PostgreSQL connection of the application gets (`common.db`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection

import common.db
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


def _count_pings(engine: Engine) -> list[DBAPIConnection]:
    """The connections the engine pings from now on, in order."""
    pings: list[DBAPIConnection] = []
    real_ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: DBAPIConnection) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]
    return pings


@pytest.mark.postgres
def test_a_connection_the_server_ended_is_replaced_at_checkout(
    postgres_databases: PostgresDatabases,
) -> None:
    """No statement is spent checking a connection just used; one whose backend the server
    terminated while it sat in the pool is noticed (its socket has the server's goodbye) and
    replaced before use, so the next request does not fail on it."""
    name = postgres_databases.fresh()
    engine = make_engine(postgres_databases.url_for(name))
    pings = _count_pings(engine)
    backend = "SELECT pg_backend_pid()"
    try:
        with engine.connect() as connection:
            first = connection.exec_driver_sql(backend).scalar()
        with engine.connect() as connection:
            assert connection.exec_driver_sql(backend).scalar() == first
        assert pings == []  # used a moment ago, and the server said nothing since
        with postgres_databases.admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            for _ in range(100):  # the backend ends asynchronously
                gone = admin.execute(
                    text("SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = :pid)"),
                    {"pid": first},
                ).scalar()
                if gone:
                    break
                time.sleep(0.05)
        with engine.connect() as connection:
            second = connection.exec_driver_sql(backend).scalar()
        assert second != first
        assert len(pings) == 1
    finally:
        engine.dispose()
        postgres_databases.drop(name)


@pytest.mark.postgres
def test_a_connection_idle_for_long_is_pinged_before_use(
    postgres_databases: PostgresDatabases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection a silent network dropped says nothing on its socket: one left idle past
    `IDLE_PING_SECONDS` is pinged before use all the same."""
    name = postgres_databases.fresh()
    engine = make_engine(postgres_databases.url_for(name))
    pings = _count_pings(engine)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        monkeypatch.setattr(common.db, "IDLE_PING_SECONDS", 0.0)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        assert len(pings) == 1
    finally:
        engine.dispose()
        postgres_databases.drop(name)
