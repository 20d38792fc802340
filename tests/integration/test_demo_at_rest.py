"""The demo database holds no personnummer, name or home area in clear, nor do the logs."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, func, text
from sqlmodel import col, select

from api.logging import configure_logging
from api.main import create_app
from api.settings import Settings
from common.clock import today
from common.db import UTCDateTime, make_engine, new_session
from common.keys import KeySet
from consent.guard import unscoped
from deploy import migrate
from domain import demo
from domain.assessments.models import Assessment
from domain.cases.models import Case
from domain.meetings.models import Meeting, MinuteItem
from domain.people.models import Guardian, YoungPerson
from domain.plans.models import PlanCommitment, PlanGoal


@pytest.fixture
def demo_db(tmp_path: Path, keys: KeySet) -> Path:
    path = tmp_path / "demo.db"
    migrate.upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with new_session(engine) as session:
        demo.seed(session, index=keys.blind_index)
        session.commit()
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


def _secrets(path: Path) -> set[str]:
    """Every personnummer (both forms), name and home area (stadsdel) in the demo, read back
    through the keys."""
    engine = make_engine(f"sqlite:///{path}")
    found: set[str] = set()
    with new_session(engine) as session:
        for person in session.exec(unscoped(select(YoungPerson), "test: the stored rows")).all():
            found |= {
                person.personnummer,
                f"{person.personnummer[:8]}-{person.personnummer[8:]}",
                person.personnummer[2:],
                person.first_name + " " + person.last_name,
                person.last_name,
            }
            if person.home_area:
                found.add(person.home_area)
        for guardian in session.exec(unscoped(select(Guardian), "test: the stored rows")).all():
            found.add(guardian.name)
        for goal in session.exec(unscoped(select(PlanGoal), "test: the stored rows")).all():
            found.add(goal.text)
        commitments = session.exec(unscoped(select(PlanCommitment), "test: the stored rows"))
        for commitment in commitments.all():
            found |= {commitment.what, *([commitment.comment] if commitment.comment else [])}
        for meeting in session.exec(unscoped(select(Meeting), "test: the stored rows")).all():
            found.add(meeting.place)
        for item in session.exec(unscoped(select(MinuteItem), "test: the stored rows")).all():
            found |= {item.heading, item.text}
        for assessment in session.exec(unscoped(select(Assessment), "test: the rows")).all():
            found.add(assessment.rationale)
    engine.dispose()
    return found


def test_demo_has_people_in_every_state(demo_db: Path) -> None:
    engine = make_engine(f"sqlite:///{demo_db}")
    with new_session(engine) as session:
        states = {
            row[0] for row in session.execute(unscoped(text("SELECT state FROM case_file"), "test"))
        }
        people = session.execute(
            unscoped(text("SELECT count(*) FROM young_person"), "test")
        ).scalar_one()
    engine.dispose()
    assert states == {"referred", "consent_pending", "active", "paused", "declined", "closed"}
    # The 20 of the cycle, one registered when a SIG referral was taken up, and the earlier
    # years' young people (issue 14).
    assert people == 21 + demo.HISTORY_PEOPLE


def test_demo_start_page_has_an_emergency_and_a_consent_ending(demo_db: Path) -> None:
    """What a new user should meet on Min dag: an emergency-stop meeting tomorrow, and an
    active case whose consent ends within the start page's 30 days."""
    engine = make_engine(f"sqlite:///{demo_db}")
    with new_session(engine) as session:
        emergencies = session.execute(
            unscoped(
                text(
                    "SELECT starts_at FROM meeting "
                    "WHERE kind = 'emergency_stop' AND minutes_state = 'draft'"
                ),
                "test",
            )
        ).all()
        endings = session.execute(
            unscoped(
                text(
                    "SELECT min(r.valid_until) FROM consent_record r "
                    "JOIN case_file c ON c.id = r.case_id WHERE c.state = 'active' "
                    "GROUP BY c.id"
                ),
                "test",
            )
        ).all()
    engine.dispose()
    assert len(emergencies) == 1
    soon = [row[0] for row in endings if str(row[0]) <= str(today() + timedelta(days=30))]
    assert len(soon) == 1


def test_demo_has_a_living_plan(demo_db: Path) -> None:
    engine = make_engine(f"sqlite:///{demo_db}")
    with new_session(engine) as session:
        goals = session.exec(unscoped(select(PlanGoal), "test")).all()
        commitments = session.exec(unscoped(select(PlanCommitment), "test")).all()
        kinds = {
            row[0]
            for row in session.execute(
                unscoped(
                    text(
                        "SELECT agency.kind FROM plan_commitment "
                        "JOIN agency ON agency.id = plan_commitment.agency_id"
                    ),
                    "test",
                )
            )
        }
    engine.dispose()
    assert len(goals) == 2
    assert kinds == {"social_services", "school", "police"}
    assert any(c.status == "open" and c.due_on < today() for c in commitments)  # overdue
    assert [c.status for c in commitments].count("done") == 1


# Today's cycle of demo cases was opened at seeding; the earlier years' (`demo._demo_history`)
# at least two months before.
_TODAYS_CYCLE = datetime.now(UTC) - timedelta(days=30)


def test_demo_has_meetings_with_final_amended_and_draft_minutes(demo_db: Path) -> None:
    engine = make_engine(f"sqlite:///{demo_db}")
    with new_session(engine) as session:
        states = {
            tuple(row)
            for row in session.execute(
                unscoped(
                    select(Meeting.kind, Meeting.minutes_state)
                    .join(Case, col(Case.id) == col(Meeting.case_id))
                    .where(col(Case.opened_at) > _TODAYS_CYCLE),
                    "test",
                )
            )
        }
        amendments, own_agency = session.execute(
            unscoped(
                text(
                    "SELECT count(amends_item_id), "
                    "sum(CASE WHEN visibility = 'own_agency' THEN 1 ELSE 0 END) FROM minute_item"
                ),
                "test",
            )
        ).one()
    engine.dispose()
    # Today's cycle; the earlier years' meetings were all held (`demo._demo_history`).
    assert states == {("team", "final"), ("network", "draft"), ("emergency_stop", "draft")}
    assert amendments > 0
    assert own_agency > 0


def test_demo_active_cases_have_two_to_five_assessments_moving_up_and_down(
    demo_db: Path,
) -> None:
    engine = make_engine(f"sqlite:///{demo_db}")
    with new_session(engine) as session:
        rows = session.execute(
            unscoped(
                text(
                    "SELECT a.case_id, a.level_rank, a.meeting_id FROM assessment a "
                    "JOIN case_file c ON c.id = a.case_id WHERE c.state = 'active' "
                    "AND c.opened_at > :since "
                    "ORDER BY a.case_id, a.assessed_on, a.recorded_at"
                ).bindparams(bindparam("since", _TODAYS_CYCLE, type_=UTCDateTime())),
                "test",
            ),
        ).all()
        active = session.execute(  # the cases `seed` gives meetings: active when seeded
            unscoped(
                select(func.count())
                .select_from(Meeting)
                .join(Case, col(Case.id) == col(Meeting.case_id))
                .where(Meeting.kind == "team", col(Case.opened_at) > _TODAYS_CYCLE),
                "test",
            )
        ).scalar_one()
    engine.dispose()
    paths: dict[str, list[int]] = {}
    for case_id, rank, _meeting in rows:
        paths.setdefault(str(case_id), []).append(rank)
    assert len(paths) == active
    assert all(2 <= len(path) <= 5 for path in paths.values())
    assert any(path[-1] > path[0] for path in paths.values())  # some move up
    assert any(path[-1] < path[0] for path in paths.values())  # some down
    assert sum(1 for row in rows if row[2] is not None) == active  # the last at a meeting


def test_no_personnummer_or_name_in_the_database_file(demo_db: Path) -> None:
    secrets = _secrets(demo_db)
    assert len(secrets) > 40
    assert set(demo.AREAS) <= secrets  # every home area is looked for
    raw = b"".join(p.read_bytes() for p in demo_db.parent.glob("demo.db*"))
    leaked = sorted(s for s in secrets if s.encode() in raw)
    # The agreement's grid lists the municipality's area names as configuration (issue 14):
    # they may be in the file only through it, never through a young person's home area.
    assert set(leaked) <= set(demo.AREAS)
    copy = demo_db.parent / "without-agreements.db"
    source, target = sqlite3.connect(demo_db), sqlite3.connect(copy)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # so that VACUUM rewrites the file itself
        for table in (
            "agreement_target",
            "agreement_activity",
            "agreement_goal_area",
            "agreement_party",
            "agreement",
        ):
            target.execute(f"DELETE FROM {table}")
        target.commit()
        target.execute("VACUUM")
    finally:
        source.close()
        target.close()
    rest = copy.read_bytes()
    assert [s for s in leaked if s.encode() in rest] == []


def test_no_personnummer_or_name_in_the_logs(
    demo_db: Path, keys: KeySet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json=True, level="DEBUG")
    try:
        app = create_app(
            Settings(data_dir=tmp_path, demo=True),
            keys=keys,
            engine=make_engine(f"sqlite:///{demo_db}"),
        )
        with TestClient(app) as client:
            token = client.post(
                "/api/v1/auth/token",
                data={"username": "handlaggare", "password": demo.DEMO_PASSWORD},
            ).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            cases = client.get("/api/v1/cases?page_size=100", headers=headers).json()["items"]
            for case in cases:
                client.get(f"/api/v1/cases/{case['id']}", headers=headers)
                client.get(f"/api/v1/young-persons/{case['young_person']['id']}", headers=headers)
            # a failing request logs too
            client.post(
                "/api/v1/young-persons", json={"personnummer": "19990101-0000"}, headers=headers
            )
    finally:
        structlog.reset_defaults()
    output = capsys.readouterr()
    logs = output.out + output.err
    assert re.search(r'"request_id": "[0-9a-f]{32}"', logs), "request lines were not logged"
    assert re.search(r'"user_id": "[0-9a-f-]{36}"', logs), "request lines do not name the user"
    leaked = sorted(s for s in _secrets(demo_db) if s in logs)
    assert leaked == []
    assert "19990101" not in logs


def test_demo_has_referrals_in_every_status(demo_db: Path) -> None:
    """Issue 13: each status, a duplicate pair and two young people waiting for SIG."""
    engine = make_engine(f"sqlite:///{demo_db}")
    with new_session(engine) as session:
        rows = session.execute(
            unscoped(
                text("SELECT status, case_programme, personnummer_index FROM referral"), "test"
            )
        ).all()
    engine.dispose()
    assert {row[0] for row in rows} == {
        "received",
        "under_assessment",
        "waiting",
        "taken_up",
        "not_taken_up",
    }
    assert sum(1 for row in rows if row[0] == "waiting" and row[1] == "SIG") == 2
    indexes = [row[2] for row in rows if row[2]]
    assert len(indexes) > len(set(indexes))  # a duplicate pair
