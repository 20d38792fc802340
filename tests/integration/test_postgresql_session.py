"""The settings every PostgreSQL connection of the application gets (`common.db`)."""

from __future__ import annotations

from datetime import UTC, datetime

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
