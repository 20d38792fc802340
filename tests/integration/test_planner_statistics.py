"""SQLite plans its queries from the statistics ANALYZE gathers; the running server gathers
them at start and then every few hours. PostgreSQL's autovacuum keeps its own."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.main import create_app
from api.settings import Settings
from common.db import refresh_planner_statistics
from common.keys import KeySet
from tests.builders import make_actor, make_case

WAIT_SECONDS = 30.0  # a deadline for a background thread, not a measure of speed

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _statistics(engine: Engine) -> set[str]:
    """The tables SQLite holds statistics for."""
    with engine.connect() as connection:
        if not connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        ).first():
            return set()
        return set(connection.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())


def _some_cases(session: Session, keys: KeySet) -> None:
    actor = make_actor(session)
    for _ in range(3):
        make_case(session, actor, keys)
    session.commit()


def test_refresh_gathers_sqlite_statistics_for_the_case_tables(
    engine: Engine, session: Session, keys: KeySet
) -> None:
    _some_cases(session, keys)
    assert _statistics(engine) == set()

    refresh_planner_statistics(engine)

    assert {"case_file", "young_person", "app_user"} <= _statistics(engine)


def test_the_server_keeps_statistics_and_tests_leave_the_database_alone(
    engine: Engine, session: Session, keys: KeySet, tmp_path: Path
) -> None:
    _some_cases(session, keys)

    def serve(keep: bool) -> None:
        app = create_app(
            Settings(data_dir=tmp_path),
            keys=keys,
            engine=engine,
            run_sequencer=False,
            run_consent_sweep=False,
            second_factor_required=False,
            keep_planner_statistics=keep,
        )
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            deadline = time.monotonic() + (WAIT_SECONDS if keep else 0)
            while "case_file" not in _statistics(engine) and time.monotonic() < deadline:
                time.sleep(0.05)

    serve(keep=False)
    assert _statistics(engine) == set()
    serve(keep=True)
    assert "case_file" in _statistics(engine)
