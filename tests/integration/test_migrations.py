"""The stairway: every revision upgrades and downgrades cleanly, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import select

from common.clock import reset_clock, set_clock
from common.db import make_engine, new_session
from common.keys import KeySet
from consent.guard import unscoped
from deploy import migrate
from domain.cases import service as cases
from domain.cases.models import Case
from domain.meetings.models import Meeting
from domain.meetings.service import AttendeeInput
from domain.schema import metadata
from tests.builders import give_consent, make_actor, make_case
from tests.integration.test_meetings import make_team, schedule


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


class TestStairway:
    def test_each_revision_upgrades_downgrades_and_upgrades_again(self, database_url: str) -> None:
        migrate.downgrade(database_url, "base")
        assert _tables(database_url) == set()
        previous = "base"
        for revision in migrate.revisions():
            migrate.upgrade(database_url, revision)
            migrate.downgrade(database_url, previous)
            migrate.upgrade(database_url, revision)
            previous = revision

    def test_head_has_every_table_the_models_declare(self, database_url: str) -> None:
        assert _tables(database_url) == set(metadata.tables)

    def test_downgrade_to_base_leaves_nothing(self, database_url: str) -> None:
        migrate.downgrade(database_url, "base")
        assert _tables(database_url) == set()


def test_models_and_migrations_agree(database_url: str) -> None:
    """A model change without a migration (or the reverse) fails here."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []


def _migrated(database_url: str, statement: Any) -> Sequence[Any]:
    """What `statement` reads from the migrated database, in a session of its own."""
    engine = make_engine(database_url)
    try:
        with new_session(engine) as session:
            rows: Sequence[Any] = session.exec(unscoped(statement, "test: the migrated rows")).all()
            return rows
    finally:
        engine.dispose()


def test_cases_get_their_first_activation_from_their_history(
    database_url: str, keys: KeySet
) -> None:
    """Revision 0026 fills `case_file.activated_at` of the cases it finds: the time of each
    one's first change to active, whatever came after; none for a case never active."""
    engine = make_engine(database_url)
    try:
        with new_session(engine) as session:
            actor = make_actor(session)
            never = make_case(session, actor, keys, programme="SIG")
            case = make_case(session, actor, keys)
            case = cases.change_state(
                session, actor, case_id=case.id, target="consent_pending", expected_version=1
            )
            for day, step in ((2, "consent"), (3, "paused"), (4, "active")):
                set_clock(partial(datetime, 2026, 3, day, 9, tzinfo=UTC))
                if step == "consent":
                    case = give_consent(session, actor, case)
                else:
                    case = cases.change_state(
                        session, actor, case_id=case.id, target=step, expected_version=case.version
                    )
            reset_clock()
            session.commit()
    finally:
        reset_clock()
        engine.dispose()

    migrate.downgrade(database_url, "0025")
    migrate.upgrade(database_url)

    stored = {c.id: c.activated_at for c in _migrated(database_url, select(Case))}
    assert stored == {never.id: None, case.id: datetime(2026, 3, 2, 9, tzinfo=UTC)}


def test_meetings_get_the_summary_of_their_attendance(database_url: str, keys: KeySet) -> None:
    """Revision 0027 fills each meeting's summary from its attendance: recorded when anyone
    came or was absent, whether the young person came, how many guardians came."""
    engine = make_engine(database_url)
    try:
        with new_session(engine) as session:
            team = make_team(session, keys)
            invited = schedule(session, team)
            held = schedule(
                session,
                team,
                attendees=[
                    AttendeeInput(kind="young_person", status="came"),
                    AttendeeInput(kind="guardian", guardian_id=team.guardians[0], status="came"),
                    AttendeeInput(kind="user", user_id=team.school.user_id, status="absent"),
                ],
            )
            missed = schedule(
                session,
                team,
                attendees=[
                    AttendeeInput(kind="young_person", status="absent"),
                    AttendeeInput(kind="guardian", guardian_id=team.guardians[0]),
                ],
            )
            session.commit()
    finally:
        engine.dispose()

    migrate.downgrade(database_url, "0026")
    migrate.upgrade(database_url)

    rows = _migrated(
        database_url,
        select(
            Meeting.id,
            Meeting.attendance_recorded,
            Meeting.young_person_came,
            Meeting.guardians_came,
        ),
    )
    assert {row[0]: tuple(row[1:]) for row in rows} == {
        invited: (False, False, 0),
        held: (True, True, 1),
        missed: (True, False, 0),
    }
