"""deploy/postgresql/grants.sql leaves the application role INSERT and SELECT on the audit log."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ProgrammingError

from audit.models import AUDIT_TABLES
from tests.conftest import PostgresDatabases

GRANTS = Path(__file__).parents[2] / "deploy" / "postgresql" / "grants.sql"


@pytest.fixture
def app_role_url(postgres_databases: PostgresDatabases) -> Iterator[str]:
    database = postgres_databases.fresh()
    role = f"samsyn_app_{secrets.token_hex(4)}"
    owner = create_engine(postgres_databases.url_for(database), isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as connection:
            connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            connection.exec_driver_sql(
                GRANTS.read_text(encoding="utf-8").replace("samsyn_app", role)
            )
        yield (
            make_url(postgres_databases.url_for(database))
            .set(username=role)
            .render_as_string(hide_password=False)
        )
    finally:
        owner.dispose()
        postgres_databases.drop(database)
        with postgres_databases.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")


@pytest.mark.postgres
def test_app_role_may_append_and_read_the_log_but_never_change_it(app_role_url: str) -> None:
    engine = create_engine(app_role_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(
                text(
                    "INSERT INTO audit_event"
                    " (id, occurred_at, action, resource_type, outcome, basis)"
                    " VALUES (gen_random_uuid(), now(), 'test', 'test', 'allowed', '{}')"
                )
            )
            assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == 1
            # the trigger queued it for the sequencer, which may take it off but not change it
            assert connection.execute(text("SELECT count(*) FROM audit_pending")).scalar_one() == 1
            with pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text("UPDATE audit_pending SET event_id = gen_random_uuid()"))
            connection.execute(text("DELETE FROM audit_pending"))
            for table in AUDIT_TABLES:
                for statement in (
                    f"DELETE FROM {table}",
                    f"TRUNCATE {table}",
                    f"ALTER TABLE {table} DISABLE TRIGGER USER",
                ):
                    with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
                        connection.execute(text(statement))
            with pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text("UPDATE audit_event SET action = 'x'"))
            # business tables stay writable
            connection.execute(text("DELETE FROM case_reference_counter"))
    finally:
        engine.dispose()
