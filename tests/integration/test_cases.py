from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from audit.models import AuditEvent
from common.clock import reset_clock, set_clock
from common.db import new_session
from common.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from common.keys import KeySet
from common.roles import AgencyKind, Role
from consent.guard import unscoped
from domain.cases import service as cases
from domain.cases.models import Case
from domain.cases.repository import TeamEntry
from domain.cases.rules import CaseState
from domain.teams import service as teams
from tests.builders import give_consent, make_actor, make_agency, make_case, make_young_person


def _audit(session: Session) -> list[tuple[str, str | None, str]]:
    rows = session.execute(
        text("SELECT action, resource_id, outcome FROM audit_event ORDER BY occurred_at")
    )
    return [(row[0], row[1], row[2]) for row in rows]


class TestOpenCase:
    def test_references_count_per_programme_and_year(self, session: Session, keys: KeySet) -> None:
        set_clock(lambda: datetime(2026, 3, 1, 10, tzinfo=UTC))
        try:
            actor = make_actor(session)
            first = make_case(session, actor, keys)
            second = make_case(session, actor, keys)
            sig = make_case(session, actor, keys, programme="SIG")
        finally:
            reset_clock()
        assert [first.reference, second.reference, sig.reference] == [
            "SSPF-2026-0001",
            "SSPF-2026-0002",
            "SIG-2026-0001",
        ]

    def test_new_case_is_referred_with_the_owner_on_its_team(
        self, session: Session, keys: KeySet
    ) -> None:
        actor = make_actor(session)
        case = make_case(session, actor, keys)
        view = cases.get_case(session, actor, case_id=case.id)
        assert view.case.state == CaseState.REFERRED
        assert [(member.role, member.user_id) for member in view.team] == [("owner", actor.user_id)]
        assert [(change.from_state, change.to_state) for change in view.history] == [
            (None, "referred")
        ]

    def test_the_read_carries_every_field_of_the_team_and_the_history(
        self, session: Session, keys: KeySet
    ) -> None:
        """Team and history come from one statement (`team_and_history`): each entry has
        its own columns, none of the other kind's."""
        owner_agency = make_agency(session)
        actor = make_actor(session, owner_agency)
        school = make_agency(session, AgencyKind.SCHOOL, name="Testskolan")
        partner = make_actor(session, school, Role.CONTACT_PERSON)
        case = make_case(session, actor, keys)
        teams.add_member(session, actor, case_id=case.id, user_id=partner.user_id)
        case = cases.change_state(
            session,
            actor,
            case_id=case.id,
            target="closed",
            expected_version=case.version,
            outcome="other",
        )
        view = cases.get_case(session, actor, case_id=case.id)
        owner_name = f"Testanvändare {Role.SOCIAL_WORKER.value}"
        assert view.team == [
            TeamEntry(actor.user_id, owner_name, owner_agency.id, owner_agency.name, "owner"),
            TeamEntry(
                partner.user_id,
                f"Testanvändare {Role.CONTACT_PERSON.value}",
                school.id,
                "Testskolan",
                "contact",
            ),
        ]
        assert [
            (c.from_state, c.to_state, c.outcome, c.reason, c.changed_by, c.changed_by_name)
            for c in view.history
        ] == [
            (None, "referred", None, "opened", actor.user_id, owner_name),
            ("referred", "closed", "other", "manual", actor.user_id, owner_name),
        ]
        assert view.history[0].changed_at <= view.history[1].changed_at

    def test_second_open_case_in_same_programme_is_refused(
        self, session: Session, keys: KeySet
    ) -> None:
        actor = make_actor(session)
        person = make_young_person(session, actor, keys)
        make_case(session, actor, keys, young_person=person)
        with pytest.raises(Conflict):
            make_case(session, actor, keys, young_person=person)
        assert (
            make_case(session, actor, keys, young_person=person, programme="SIG").programme == "SIG"
        )

    def test_unknown_programme_names_the_field(self, session: Session, keys: KeySet) -> None:
        actor = make_actor(session)
        person = make_young_person(session, actor, keys)
        with pytest.raises(ValidationFailed) as caught:
            cases.open_case(session, actor, young_person_id=person.id, programme="XYZ")
        assert [e.field for e in caught.value.errors] == ["programme"]

    @pytest.mark.parametrize(
        "role", [Role.CONTACT_PERSON, Role.AUDITOR, Role.ADMINISTRATOR, Role.STEERING_GROUP]
    )
    def test_roles_that_may_not_open_cases_are_refused(
        self, session: Session, keys: KeySet, role: Role
    ) -> None:
        owner = make_actor(session)
        person = make_young_person(session, owner, keys)
        agency = make_agency(
            session,
            AgencyKind.SOCIAL_SERVICES if role is not Role.CONTACT_PERSON else AgencyKind.SCHOOL,
        )
        other = make_actor(session, agency, role)
        with pytest.raises(Forbidden):
            cases.open_case(session, other, young_person_id=person.id, programme="SSPF")

    def test_concurrent_openings_get_distinct_consecutive_references(
        self, engine: Engine, keys: KeySet
    ) -> None:
        with new_session(engine) as setup:
            actor = make_actor(setup)
            people = [make_young_person(setup, actor, keys) for _ in range(6)]
            setup.commit()
        references: list[str] = []
        failures: list[BaseException] = []

        def open_one(person_id: uuid.UUID) -> None:
            try:
                with new_session(engine) as db:
                    case = cases.open_case(db, actor, young_person_id=person_id, programme="SSPF")
                    db.commit()
                    references.append(case.reference)
            except Exception as exc:
                failures.append(exc)

        threads = [threading.Thread(target=open_one, args=(person.id,)) for person in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        year = datetime.now(UTC).year
        assert sorted(references) == [f"SSPF-{year}-{n:04d}" for n in range(1, 7)]


class TestChangeState:
    def test_follows_the_lifecycle_and_records_history(
        self, session: Session, keys: KeySet
    ) -> None:
        actor = make_actor(session)
        case = make_case(session, actor, keys)
        case = cases.change_state(
            session, actor, case_id=case.id, target="consent_pending", expected_version=1
        )
        case = give_consent(session, actor, case)  # complete consent starts the case
        for target in ("paused", "active"):
            case = cases.change_state(
                session, actor, case_id=case.id, target=target, expected_version=case.version
            )
        case = cases.change_state(
            session,
            actor,
            case_id=case.id,
            target="closed",
            expected_version=case.version,
            outcome="goals_met",
        )
        assert (case.state, case.outcome, case.version) == ("closed", "goals_met", 6)
        assert case.closed_at is not None
        history = cases.get_case(session, actor, case_id=case.id).history
        assert [(change.to_state, change.reason) for change in history] == [
            ("referred", "opened"),
            ("consent_pending", "manual"),
            ("active", "consent_complete"),
            ("paused", "manual"),
            ("active", "manual"),
            ("closed", "manual"),
        ]
        assert {change.changed_by for change in history} == {actor.user_id}
        first_active = next(change.changed_at for change in history if change.to_state == "active")
        assert case.activated_at == first_active  # kept through the pause and the resumption

    def test_the_first_activation_is_stored_on_the_case(
        self, session: Session, keys: KeySet
    ) -> None:
        actor = make_actor(session)
        case = make_case(session, actor, keys)
        case = cases.change_state(
            session, actor, case_id=case.id, target="consent_pending", expected_version=1
        )
        assert case.activated_at is None
        set_clock(lambda: datetime(2026, 3, 2, 9, tzinfo=UTC))
        try:
            give_consent(session, actor, case)
        finally:
            reset_clock()
        session.expire_all()

        stored = session.exec(
            unscoped(select(Case).where(Case.id == case.id), "test: the stored row")
        ).one()
        assert stored.activated_at == datetime(2026, 3, 2, 9, tzinfo=UTC)

    def test_nobody_makes_a_case_active_without_complete_consent(
        self, session: Session, keys: KeySet
    ) -> None:
        actor = make_actor(session)
        case = make_case(session, actor, keys)
        case = cases.change_state(
            session, actor, case_id=case.id, target="consent_pending", expected_version=1
        )
        with pytest.raises(Conflict, match="samtycke"):
            cases.change_state(
                session, actor, case_id=case.id, target="active", expected_version=case.version
            )
        assert (case.state, case.version) == ("consent_pending", 2)

    def test_consent_given_in_a_referred_case_moves_it_on(
        self, session: Session, keys: KeySet
    ) -> None:
        """Recording a consent starts the consent process (issue 15, item 4): the case does not
        wait in `referred` for a click, and complete consent makes it active."""
        actor = make_actor(session)
        case = give_consent(session, actor, make_case(session, actor, keys))
        assert (case.state, case.state_reason) == ("active", "consent_complete")
        history = cases.get_case(session, actor, case_id=case.id).history
        assert [(change.to_state, change.reason) for change in history] == [
            ("referred", "opened"),
            ("consent_pending", "manual"),
            ("active", "consent_complete"),
        ]

    def test_illegal_transition_is_refused_and_changes_nothing(
        self, session: Session, keys: KeySet
    ) -> None:
        actor = make_actor(session)
        case = make_case(session, actor, keys)
        case = cases.change_state(
            session,
            actor,
            case_id=case.id,
            target="closed",
            expected_version=case.version,
            outcome="moved",
        )
        session.commit()
        with pytest.raises(InvalidTransition):
            cases.change_state(
                session, actor, case_id=case.id, target="active", expected_version=case.version
            )
        session.rollback()
        assert cases.get_case(session, actor, case_id=case.id).case.state == "closed"

    def test_stale_version_is_refused(self, session: Session, keys: KeySet) -> None:
        actor = make_actor(session)
        case = make_case(session, actor, keys)
        stale = case.version
        cases.change_state(
            session, actor, case_id=case.id, target="consent_pending", expected_version=stale
        )
        with pytest.raises(StaleVersion):
            cases.change_state(
                session, actor, case_id=case.id, target="declined", expected_version=stale
            )

    def test_concurrent_edit_between_read_and_write_is_caught(
        self, engine: Engine, keys: KeySet
    ) -> None:
        with new_session(engine) as setup:
            actor = make_actor(setup)
            case = make_case(setup, actor, keys)
            setup.commit()
        with new_session(engine) as first, new_session(engine) as second:
            cases.change_state(
                first, actor, case_id=case.id, target="consent_pending", expected_version=1
            )
            first.commit()
            # `second` read version 1 before `first` committed: its write must not overwrite.
            with pytest.raises(StaleVersion):
                cases.change_state(
                    second, actor, case_id=case.id, target="declined", expected_version=1
                )


class TestScope:
    def test_other_units_case_and_missing_case_look_the_same(
        self, session: Session, keys: KeySet
    ) -> None:
        owner = make_actor(session)
        case = make_case(session, owner, keys)
        stranger = make_actor(session)
        with pytest.raises(NotFound) as hidden:
            cases.get_case(session, stranger, case_id=case.id)
        with pytest.raises(NotFound) as missing:
            cases.get_case(session, stranger, case_id=uuid.uuid4())
        assert (hidden.value.status_code, hidden.value.detail) == (
            missing.value.status_code,
            missing.value.detail,
        )
        assert cases.list_cases(session, stranger).total == 0

    def test_contact_person_sees_no_case_without_consent(
        self, session: Session, keys: KeySet
    ) -> None:
        owner = make_actor(session)
        case = make_case(session, owner, keys)
        school = make_actor(session, make_agency(session, AgencyKind.SCHOOL), Role.CONTACT_PERSON)
        assert cases.list_cases(session, school).total == 0
        with pytest.raises(NotFound):
            cases.get_case(session, school, case_id=case.id)

    def test_coordinator_lists_every_unit(self, session: Session, keys: KeySet) -> None:
        make_case(session, make_actor(session), keys)
        make_case(session, make_actor(session), keys)
        coordinator = make_actor(session, role=Role.COORDINATOR)
        assert cases.list_cases(session, coordinator).total == 2

    def test_coordinator_sees_only_the_programmes_they_coordinate(
        self, session: Session, keys: KeySet
    ) -> None:
        sspf = make_case(session, make_actor(session), keys, programme="SSPF")
        sig = make_case(session, make_actor(session), keys, programme="SIG")
        coordinator = make_actor(session, role=Role.COORDINATOR, programmes=("SIG",))
        listed = cases.list_cases(session, coordinator)
        assert [item.id for item in listed.items] == [sig.id]
        assert cases.get_case(session, coordinator, case_id=sig.id).managed
        with pytest.raises(NotFound):
            cases.get_case(session, coordinator, case_id=sspf.id)
        nobody = make_actor(session, role=Role.COORDINATOR, programmes=())
        assert cases.list_cases(session, nobody).total == 0


class TestAudit:
    def test_every_read_and_change_leaves_an_event(self, session: Session, keys: KeySet) -> None:
        actor = make_actor(session)
        case = make_case(session, actor, keys)
        cases.get_case(session, actor, case_id=case.id)
        cases.list_cases(session, actor)
        session.commit()
        actions = [
            (action, outcome)
            for action, resource, outcome in _audit(session)
            if resource == str(case.id)
        ]
        assert actions == [
            ("case.create", "allowed"),
            ("case.read", "allowed"),
            ("case.list", "allowed"),
        ]
        event_row = session.exec(select(AuditEvent).where(AuditEvent.action == "case.read")).one()
        assert event_row.basis == {"kind": "own_agency", "agency_id": str(actor.agency_id)}
        assert event_row.user_id == actor.user_id

    def test_a_failing_audit_write_undoes_the_work(self, engine: Engine, keys: KeySet) -> None:
        with new_session(engine) as setup:
            actor = make_actor(setup)
            person = make_young_person(setup, actor, keys)
            setup.commit()

        def refuse_audit(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            if statement.startswith("INSERT INTO audit_event"):
                raise RuntimeError("audit store unavailable")

        event.listen(engine, "before_cursor_execute", refuse_audit)
        try:
            with new_session(engine) as db, pytest.raises(RuntimeError):
                cases.open_case(db, actor, young_person_id=person.id, programme="SSPF")
        finally:
            event.remove(engine, "before_cursor_execute", refuse_audit)
        with new_session(engine) as check:
            assert (
                check.execute(unscoped(text("SELECT count(*) FROM case_file"), "test")).scalar_one()
                == 0
            )
