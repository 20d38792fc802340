"""The plan on a real database: who sees which goals and commitments under which consent, who
may change what, versions, overdue lists, audit and encryption at rest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from common.actor import Actor
from common.clock import today
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
from consent.rules import Category
from domain.cases import service as cases
from domain.cases.models import Case
from domain.consents import service as consents
from domain.plans import service as plans
from domain.plans.service import CommitmentChanges
from domain.teams import service as teams
from tests.builders import give_consent, make_actor, make_agency, make_case

WITHOUT_PLAN: list[Category] = [c for c in Category if c is not Category.PLAN]


@dataclass
class Team:
    owner: Actor
    school: Actor
    police: Actor
    case: Case


def make_team(session: Session, keys: KeySet, *, categories: list[Category] | None = None) -> Team:
    """An active case with a school and a police contact on its team, consent covering both
    agencies in `categories` (default: all)."""
    owner = make_actor(session)
    school = make_actor(session, make_agency(session, AgencyKind.SCHOOL), Role.CONTACT_PERSON)
    police = make_actor(session, make_agency(session, AgencyKind.POLICE), Role.CONTACT_PERSON)
    case = make_case(session, owner, keys)
    case = cases.change_state(
        session, owner, case_id=case.id, target="consent_pending", expected_version=case.version
    )
    for partner in (school, police):
        teams.add_member(session, owner, case_id=case.id, user_id=partner.user_id)
    case = give_consent(
        session,
        owner,
        case,
        agencies=[school.agency_id, police.agency_id],
        categories=categories,
    )
    assert case.state == "active"
    return Team(owner=owner, school=school, police=police, case=case)


def commit_to(
    session: Session, team: Team, partner: Actor, *, due_on: date | None = None, what: str = "Ringa"
) -> plans.CommitmentView:
    return plans.add_commitment(
        session,
        team.owner,
        case_id=team.case.id,
        what=what,
        agency_id=partner.agency_id,
        person_user_id=partner.user_id,
        due_on=due_on or today() + timedelta(days=7),
    )


def _events(session: Session, action: str) -> list[tuple[str, dict[str, Any]]]:
    rows = session.execute(
        text("SELECT user_id, basis FROM audit_event WHERE action = :a"), {"a": action}
    )
    return [
        (str(row[0]), row[1] if isinstance(row[1], dict) else json.loads(row[1])) for row in rows
    ]


class TestKeepingThePlan:
    def test_manager_adds_goals_and_commitments_and_reads_them_back(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        goal = plans.add_goal(session, team.owner, case_id=team.case.id, text="  Gå i skolan  ")
        made = commit_to(session, team, team.school, what="Följa upp närvaron")
        view = plans.read_plan(session, team.owner, case_id=team.case.id)
        assert [g.text for g in view.goals] == ["Gå i skolan"]
        assert goal.status == "open"
        [shown] = view.commitments
        assert shown.commitment.id == made.commitment.id
        assert (shown.commitment.what, shown.commitment.status) == ("Följa upp närvaron", "open")
        assert shown.person_name == "Testanvändare contact_person"
        assert view.editable
        assert {a.id for a in view.agencies} == {
            team.owner.agency_id,
            team.school.agency_id,
            team.police.agency_id,
        }

    def test_free_text_is_encrypted_at_rest(self, session: Session, keys: KeySet) -> None:
        team = make_team(session, keys)
        plans.add_goal(session, team.owner, case_id=team.case.id, text="Hemligt mål")
        made = commit_to(session, team, team.school, what="Hemligt åtagande")
        plans.update_commitment(
            session,
            team.school,
            case_id=team.case.id,
            commitment_id=made.commitment.id,
            version=1,
            changes=CommitmentChanges(comment="Hemlig kommentar"),
        )
        session.commit()
        stored = [
            value
            for query in (
                "SELECT text FROM plan_goal",
                "SELECT what FROM plan_commitment",
                "SELECT comment FROM plan_commitment",
            )
            for value in session.execute(unscoped(text(query), "test: the stored rows")).scalars()
        ]
        assert len(stored) == 3
        assert all(value.startswith("v2.") and "Hemlig" not in value for value in stored)

    def test_bad_input_names_every_field_and_stores_nothing(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        stranger = make_actor(
            session, make_agency(session, AgencyKind.LEISURE), Role.CONTACT_PERSON
        )
        with pytest.raises(ValidationFailed) as refused:
            plans.add_commitment(
                session,
                team.owner,
                case_id=team.case.id,
                what="   ",
                agency_id=stranger.agency_id,
                person_user_id=stranger.user_id,
                due_on=None,
            )
        fields = {e.field for e in refused.value.errors}
        assert fields == {"what", "agency_id", "due_on", "person_user_id"}
        assert all(e.english and e.message != e.english for e in refused.value.errors)
        with pytest.raises(ValidationFailed) as wrong_agency:
            plans.add_commitment(
                session,
                team.owner,
                case_id=team.case.id,
                what="Ringa",
                agency_id=team.school.agency_id,
                person_user_id=team.police.user_id,
                due_on=today(),
            )
        assert [e.field for e in wrong_agency.value.errors] == ["person_user_id"]
        with pytest.raises(ValidationFailed):
            plans.add_goal(session, team.owner, case_id=team.case.id, text="")
        assert plans.read_plan(session, team.owner, case_id=team.case.id).commitments == []
        assert plans.read_plan(session, team.owner, case_id=team.case.id).goals == []

    def test_owning_unit_may_commit_without_a_named_person(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        made = plans.add_commitment(
            session,
            team.owner,
            case_id=team.case.id,
            what="Boka nätverksmöte",
            agency_id=team.owner.agency_id,
            due_on=today(),
        )
        assert made.person_name is None
        assert made.updatable

    def test_stale_goal_edit_is_refused_with_the_current_version(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        goal = plans.add_goal(session, team.owner, case_id=team.case.id, text="Mål")
        plans.update_goal(
            session, team.owner, case_id=team.case.id, goal_id=goal.id, version=1, status="reached"
        )
        with pytest.raises(StaleVersion) as stale:
            plans.update_goal(
                session, team.owner, case_id=team.case.id, goal_id=goal.id, version=1, text="Nytt"
            )
        assert stale.value.current_version == 2
        [kept] = plans.read_plan(session, team.owner, case_id=team.case.id).goals
        assert (kept.text, kept.status, kept.version) == ("Mål", "reached", 2)

    def test_partners_may_not_edit_the_plan(self, session: Session, keys: KeySet) -> None:
        team = make_team(session, keys)
        with pytest.raises(Forbidden):
            plans.add_goal(session, team.school, case_id=team.case.id, text="Mål")
        other_unit = make_actor(session)
        with pytest.raises(NotFound):
            plans.add_goal(session, other_unit, case_id=team.case.id, text="Mål")

    def test_closed_case_plan_is_frozen_and_hidden_from_partners(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        commit_to(session, team, team.school)
        cases.change_state(
            session,
            team.owner,
            case_id=team.case.id,
            target="closed",
            expected_version=team.case.version,
            outcome="moved",
        )
        with pytest.raises(Conflict):
            plans.add_goal(session, team.owner, case_id=team.case.id, text="Mål")
        with pytest.raises(NotFound):
            plans.read_plan(session, team.school, case_id=team.case.id)
        assert (
            plans.overdue_commitments(
                session, team.school, today=today() + timedelta(days=30)
            ).total
            == 0
        )
        assert not plans.read_plan(session, team.owner, case_id=team.case.id).editable


class TestWhoSeesWhat:
    def test_partner_with_plan_in_consent_sees_goals_and_every_commitment(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        plans.add_goal(session, team.owner, case_id=team.case.id, text="Mål")
        commit_to(session, team, team.school)
        commit_to(session, team, team.police)
        view = plans.read_plan(session, team.school, case_id=team.case.id)
        assert len(view.goals) == 1
        assert len(view.commitments) == 2
        assert {c.commitment.agency_id for c in view.commitments if c.updatable} == {
            team.school.agency_id
        }
        assert not view.editable
        assert view.agencies == []
        assert view.members == []

    def test_partner_without_plan_in_consent_sees_only_their_agencys_commitments(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys, categories=WITHOUT_PLAN)
        plans.add_goal(session, team.owner, case_id=team.case.id, text="Mål")
        own = commit_to(session, team, team.school)
        commit_to(session, team, team.police)
        view = plans.read_plan(session, team.school, case_id=team.case.id)
        assert view.goals == []
        assert [c.commitment.id for c in view.commitments] == [own.commitment.id]

    def test_withdrawal_hides_the_plan_on_the_next_read(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        commit_to(session, team, team.school)
        assert plans.read_plan(session, team.school, case_id=team.case.id).commitments
        overview = consents.consent_overview(session, team.owner, case_id=team.case.id)
        consents.withdraw_consent(session, team.owner, consent_id=overview.records[0][0].id)
        with pytest.raises(NotFound):
            plans.read_plan(session, team.school, case_id=team.case.id)
        assert plans.my_commitments(session, team.school) == []

    def test_reads_are_audited_with_the_consent_records_as_basis(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        commit_to(session, team, team.school, due_on=today() - timedelta(days=1))
        plans.read_plan(session, team.school, case_id=team.case.id)
        plans.overdue_commitments(session, team.school)
        plans.my_commitments(session, team.school)
        session.commit()
        for action in ("plan.read", "commitments.overdue", "commitments.mine"):
            [(user, basis)] = _events(session, action)
            assert user.replace("-", "") == team.school.user_id.hex
            assert basis["kind"] == "consent"
            assert basis["consent_records"]
        [(_user, added)] = _events(session, "plan.commitment_add")
        assert added["kind"] == "own_agency"


class TestKeepingACommitment:
    def test_contact_completes_their_agencys_commitment_once(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        made = commit_to(session, team, team.school)
        done = plans.update_commitment(
            session,
            team.school,
            case_id=team.case.id,
            commitment_id=made.commitment.id,
            version=1,
            changes=CommitmentChanges(status="done", comment="Klart, mötte rektor"),
        )
        c = done.commitment
        assert (c.status, c.version, c.comment) == ("done", 2, "Klart, mötte rektor")
        assert c.completed_by == team.school.user_id
        assert c.completed_at is not None
        with pytest.raises(InvalidTransition):
            plans.update_commitment(
                session,
                team.school,
                case_id=team.case.id,
                commitment_id=c.id,
                version=2,
                changes=CommitmentChanges(status="done"),
            )
        assert c.version == 2

    def test_stale_completion_gets_409_with_the_current_version(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        made = commit_to(session, team, team.school)
        plans.update_commitment(
            session,
            team.owner,
            case_id=team.case.id,
            commitment_id=made.commitment.id,
            version=1,
            changes=CommitmentChanges(due_on=today() + timedelta(days=30)),
        )
        with pytest.raises(StaleVersion) as stale:
            plans.update_commitment(
                session,
                team.school,
                case_id=team.case.id,
                commitment_id=made.commitment.id,
                version=1,
                changes=CommitmentChanges(status="done"),
            )
        assert stale.value.current_version == 2
        assert made.commitment.status == "open"

    def test_another_agencys_commitment_is_403_when_seen_and_404_when_not(
        self, session: Session, keys: KeySet
    ) -> None:
        seen = make_team(session, keys)
        police_seen = commit_to(session, seen, seen.police)
        with pytest.raises(Forbidden):
            plans.update_commitment(
                session,
                seen.school,
                case_id=seen.case.id,
                commitment_id=police_seen.commitment.id,
                version=1,
                changes=CommitmentChanges(status="done"),
            )
        unseen = make_team(session, keys, categories=WITHOUT_PLAN)
        police_unseen = commit_to(session, unseen, unseen.police)
        with pytest.raises(NotFound):
            plans.update_commitment(
                session,
                unseen.school,
                case_id=unseen.case.id,
                commitment_id=police_unseen.commitment.id,
                version=1,
                changes=CommitmentChanges(status="done"),
            )
        for made in (police_seen, police_unseen):
            assert (made.commitment.status, made.commitment.version) == ("open", 1)

    def test_contact_may_not_move_the_due_date_or_cancel(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        made = commit_to(session, team, team.school)
        for changes in (
            CommitmentChanges(due_on=today() + timedelta(days=60)),
            CommitmentChanges(status="cancelled"),
        ):
            with pytest.raises(Forbidden):
                plans.update_commitment(
                    session,
                    team.school,
                    case_id=team.case.id,
                    commitment_id=made.commitment.id,
                    version=1,
                    changes=changes,
                )

    def test_manager_cancels_and_reopens_but_not_done_to_cancelled(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        made = commit_to(session, team, team.school)

        def move(status: str, version: int) -> plans.CommitmentView:
            return plans.update_commitment(
                session,
                team.owner,
                case_id=team.case.id,
                commitment_id=made.commitment.id,
                version=version,
                changes=CommitmentChanges(status=status),
            )

        assert move("cancelled", 1).commitment.status == "cancelled"
        assert move("open", 2).commitment.status == "open"
        assert move("done", 3).commitment.completed_by == team.owner.user_id
        with pytest.raises(InvalidTransition):
            move("cancelled", 4)
        reopened = move("open", 4).commitment
        assert (reopened.completed_at, reopened.completed_by) == (None, None)

    def test_manager_reassigns_within_the_agency_only(self, session: Session, keys: KeySet) -> None:
        team = make_team(session, keys)
        made = commit_to(session, team, team.school)
        with pytest.raises(ValidationFailed) as refused:
            plans.update_commitment(
                session,
                team.owner,
                case_id=team.case.id,
                commitment_id=made.commitment.id,
                version=1,
                changes=CommitmentChanges(person_user_id=team.police.user_id),
            )
        assert [e.field for e in refused.value.errors] == ["person_user_id"]
        cleared = plans.update_commitment(
            session,
            team.owner,
            case_id=team.case.id,
            commitment_id=made.commitment.id,
            version=1,
            changes=CommitmentChanges(clear_person=True),
        )
        assert cleared.commitment.person_user_id is None
        assert cleared.person_name is None


class TestOverdue:
    def test_overdue_lists_open_commitments_past_due_for_team_and_coordinator(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys, categories=WITHOUT_PLAN)
        day = today()
        late = commit_to(session, team, team.school, due_on=day - timedelta(days=1))
        commit_to(session, team, team.school, due_on=day)  # due today: not yet overdue
        police_late = commit_to(session, team, team.police, due_on=day - timedelta(days=3))
        finished = commit_to(session, team, team.school, due_on=day - timedelta(days=5))
        plans.update_commitment(
            session,
            team.school,
            case_id=team.case.id,
            commitment_id=finished.commitment.id,
            version=1,
            changes=CommitmentChanges(status="done"),
        )
        coordinator = make_actor(session, role=Role.COORDINATOR)
        listed = plans.overdue_commitments(session, coordinator, today=day)
        assert [v.commitment.id for v in listed.items] == [
            police_late.commitment.id,
            late.commitment.id,
        ]
        assert all(v.overdue for v in listed.items)
        assert listed.total == 2
        # Without `plan` in the consent the school sees its own agency's only.
        school = plans.overdue_commitments(session, team.school, today=day)
        assert [v.commitment.id for v in school.items] == [late.commitment.id]
        with pytest.raises(ValidationFailed):
            plans.overdue_commitments(session, coordinator, page_size=0)

    def test_my_commitments_are_mine_or_my_agencys_and_open(
        self, session: Session, keys: KeySet
    ) -> None:
        team = make_team(session, keys)
        day = today()
        mine = commit_to(session, team, team.school, due_on=day - timedelta(days=2))
        agencys = plans.add_commitment(
            session,
            team.owner,
            case_id=team.case.id,
            what="Skolan kallar till möte",
            agency_id=team.school.agency_id,
            due_on=day + timedelta(days=2),
        )
        commit_to(session, team, team.police)
        listed = plans.my_commitments(session, team.school, today=day)
        assert [(v.commitment.id, v.overdue) for v in listed] == [
            (mine.commitment.id, True),
            (agencys.commitment.id, False),
        ]
        assert all(v.case.reference == team.case.reference for v in listed)
