"""A scoped read of one case looks the case up by its key; it never collects every case the
reader may see.

The scope once tied a row to a visible case with `case_id IN (SELECT id FROM case_file WHERE
<scope>)`. SQLite builds that list in full for every statement ("LIST SUBQUERY" in its plan),
so each read of one case cost as much as the reader's whole caseload: with 50,000 cases in a
unit a case read took about 200 ms instead of 7. The plans are SQLite's; PostgreSQL plans the
same correlated EXISTS as a keyed semi-join.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from common.db import make_engine, new_session
from common.keys import KeySet
from domain.cases import service as cases
from domain.plans import service as plans
from tests.builders import give_consent, make_actor, make_case


@pytest.fixture
def sqlite_path(sqlite_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "samsyn.db"
    path.write_bytes(sqlite_template.read_bytes())
    return path


@pytest.fixture
def statements(sqlite_path: Path, keys: KeySet) -> Iterator[tuple[Engine, list[Any]]]:
    engine = make_engine(f"sqlite:///{sqlite_path}")
    seen: list[Any] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    yield engine, seen
    engine.dispose()


def _plans(path: Path, executed: list[Any]) -> list[tuple[str, list[str]]]:
    """SQLite's plan of each statement, asked on a connection of its own (outside the guard)."""
    with sqlite3.connect(path) as db:
        return [
            (statement, [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {statement}", params)])
            for statement, params in executed
        ]


def test_reading_a_case_and_its_plan_never_lists_every_visible_case(
    statements: tuple[Engine, list[Any]], sqlite_path: Path, keys: KeySet
) -> None:
    engine, executed = statements
    with new_session(engine) as session:
        owner = make_actor(session)
        case = make_case(session, owner, keys)
        for _ in range(3):  # other cases of the unit: what the old list collected
            make_case(session, owner, keys)
        cases.change_state(
            session, owner, case_id=case.id, target="consent_pending", expected_version=1
        )
        give_consent(session, owner, case)
        plans.add_goal(session, owner, case_id=case.id, text="Går till skolan varje dag")
        session.commit()
    executed.clear()
    with new_session(engine) as session:
        _read_everything(session, owner, case.id)
    scoped = [(s, p) for s, p in _plans(sqlite_path, executed) if "case_file" in s]
    assert len(scoped) >= 5, "the reads were not seen"  # the test must see what it checks
    listing = [(s, p) for s, p in scoped if any("LIST SUBQUERY" in step for step in p)]
    assert listing == []


def _read_everything(session: Session, owner: Any, case_id: Any) -> None:
    cases.get_case(session, owner, case_id=case_id)  # team, history, guardians, consents
    plans.read_plan(session, owner, case_id=case_id)  # goals: a shared entry (_entries)
    session.commit()
