"""Meetings and minutes through the service, on SQLite and PostgreSQL: who sees which items
(before and after a withdrawal, on a closed case), the rules of draft and final minutes, and
encryption at rest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from audit.models import AuditEvent
from common.actor import Actor
from common.clock import STOCKHOLM, today, utcnow
from common.db import new_session
from common.errors import Conflict, Forbidden, NotFound, StaleVersion, ValidationFailed
from common.keys import KeySet
from common.roles import AgencyKind, Role
from consent.guard import unscoped
from consent.models import ConsentMethod
from consent.rules import Decision, SignerKind
from domain.access import case_scope
from domain.cases import service as cases
from domain.cases.models import Case
from domain.consents import service as consents
from domain.meetings import service as meetings
from domain.meetings.models import Meeting
from domain.meetings.repository import MeetingRepository
from domain.meetings.service import AttendeeInput, ItemInput, MeetingChanges, MeetingInput
from domain.people.repository import YoungPersonRepository
from domain.teams import service as teams
from tests.builders import make_actor, make_agency, make_case, make_young_person


@dataclass
class Team:
    owner: Actor
    school: Actor
    police: Actor
    case: Case
    guardians: list[uuid.UUID]
    consent_ids: list[uuid.UUID]


def _consent(
    session: Session,
    owner: Actor,
    case: Case,
    signers: list[str],
    agencies: list[uuid.UUID],
    categories: list[str],
) -> list[uuid.UUID]:
    ids = []
    for signer in signers:
        record = consents.record_consent(
            session,
            owner,
            case_id=case.id,
            data=consents.ConsentInput(
                signer=signer,
                decision=Decision.GIVEN.value,
                signed_on=today(),
                valid_from=None,
                valid_until=None,
                agencies=[str(a) for a in agencies],
                categories=categories,
                method=ConsentMethod.PAPER_FORM.value,
            ),
        )
        ids.append(record.id)
    return ids


def make_team(session: Session, keys: KeySet, *, police_categories: bool = False) -> Team:
    """An active case; the school's consent covers basic + school, the police's (the same
    consent: agencies × categories) too; so police sees school items but not police ones
    unless `police_categories`."""
    unit = make_agency(session)
    owner = make_actor(session, unit)
    school = make_actor(session, make_agency(session, AgencyKind.SCHOOL), Role.CONTACT_PERSON)
    police = make_actor(session, make_agency(session, AgencyKind.POLICE), Role.CONTACT_PERSON)
    person = make_young_person(session, owner, keys, guardians=1)
    case = make_case(session, owner, keys, young_person=person)
    for partner in (school, police):
        teams.add_member(session, owner, case_id=case.id, user_id=partner.user_id)
    case = cases.change_state(
        session, owner, case_id=case.id, target="consent_pending", expected_version=case.version
    )
    people = YoungPersonRepository(session, case_scope(session, owner))
    guardians = [g.id for g in people.guardians_of(person)]
    signers = [str(g) for g in guardians]
    born = person.birth_date
    if (today() - born).days >= 15 * 365 + 4:
        signers.append(SignerKind.YOUNG_PERSON.value)
    categories = ["basic", "school", "plan"] + (["police"] if police_categories else [])
    ids = _consent(session, owner, case, signers, [school.agency_id, police.agency_id], categories)
    session.refresh(case)
    assert case.state == "active"
    return Team(owner, school, police, case, guardians, ids)


def _at(days: int, hour: int = 10) -> datetime:
    day = today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM).astimezone(UTC)


def schedule(session: Session, team: Team, **kwargs: object) -> uuid.UUID:
    data = {
        "kind": "network",
        "starts_at": _at(3),
        "ends_at": _at(3, 11),
        "place": "Rum Påhittat 3, Demoskolan",
        "attendees": [
            AttendeeInput(kind="user", user_id=team.school.user_id),
            AttendeeInput(kind="young_person"),
            AttendeeInput(kind="guardian", guardian_id=team.guardians[0]),
            AttendeeInput(kind="other", name="Olle Morbror", role="Morbror"),
        ],
    }
    data.update(kwargs)
    return meetings.schedule_meeting(
        session,
        team.owner,
        case_id=team.case.id,
        data=MeetingInput(**data),  # type: ignore[arg-type]
    ).id


def item(
    session: Session,
    team: Team,
    actor: Actor,
    meeting_id: uuid.UUID,
    heading: str,
    category: str,
    visibility: str = "team",
) -> uuid.UUID:
    return meetings.add_item(
        session,
        actor,
        case_id=team.case.id,
        meeting_id=meeting_id,
        data=ItemInput(
            heading=heading, text=f"Text om {heading}", category=category, visibility=visibility
        ),
    ).id


def headings(session: Session, team: Team, actor: Actor, meeting_id: uuid.UUID) -> list[str]:
    view = meetings.get_meeting(session, actor, case_id=team.case.id, meeting_id=meeting_id)
    return [i.heading for i in view.items]


@pytest.fixture
def team(session: Session, keys: KeySet) -> Team:
    return make_team(session, keys)


class TestWhoSeesWhichItems:
    def test_each_reader_sees_exactly_what_consent_and_agency_allow(
        self, session: Session, team: Team
    ) -> None:
        meeting = schedule(session, team)
        item(session, team, team.owner, meeting, "Skolnärvaro", "school")
        item(session, team, team.owner, meeting, "Socialtjänstens bedömning", "social")
        item(session, team, team.owner, meeting, "Egen anteckning", "school", "own_agency")
        item(session, team, team.police, meeting, "Polisens egen", "plan", "own_agency")
        item(session, team, team.school, meeting, "Skolans egen", "school", "own_agency")
        assert headings(session, team, team.owner, meeting) == [
            "Skolnärvaro",
            "Socialtjänstens bedömning",
            "Egen anteckning",
        ]
        assert headings(session, team, team.school, meeting) == ["Skolnärvaro", "Skolans egen"]
        assert headings(session, team, team.police, meeting) == ["Skolnärvaro", "Polisens egen"]

    def test_after_a_withdrawal_the_partner_sees_nothing(
        self, session: Session, team: Team
    ) -> None:
        meeting = schedule(session, team)
        item(session, team, team.owner, meeting, "Skolnärvaro", "school")
        session.commit()
        assert headings(session, team, team.school, meeting) == ["Skolnärvaro"]
        consents.withdraw_consent(session, team.owner, consent_id=team.consent_ids[0])
        session.commit()
        with pytest.raises(NotFound):
            meetings.get_meeting(session, team.school, case_id=team.case.id, meeting_id=meeting)
        with pytest.raises(NotFound):
            meetings.list_meetings(session, team.school, case_id=team.case.id)
        assert meetings.my_meetings(session, team.school, today=today()) == []
        assert headings(session, team, team.owner, meeting) == ["Skolnärvaro"]

    def test_a_closed_case_shows_partners_nothing(self, session: Session, team: Team) -> None:
        meeting = schedule(session, team)
        item(session, team, team.owner, meeting, "Skolnärvaro", "school")
        cases.change_state(
            session,
            team.owner,
            case_id=team.case.id,
            target="closed",
            expected_version=team.case.version,
            outcome="moved",
        )
        session.commit()
        with pytest.raises(NotFound):
            meetings.get_meeting(session, team.school, case_id=team.case.id, meeting_id=meeting)
        assert meetings.my_meetings(session, team.school, today=today()) == []
        with pytest.raises(Conflict):  # and nothing changes on it any more
            schedule(session, team)

    def test_guardian_names_need_the_social_category(self, session: Session, team: Team) -> None:
        meeting = schedule(session, team)
        owner_view = meetings.get_meeting(
            session, team.owner, case_id=team.case.id, meeting_id=meeting
        )
        school_view = meetings.get_meeting(
            session, team.school, case_id=team.case.id, meeting_id=meeting
        )
        names = {a.kind: a.name for a in owner_view.attendees}
        assert names["guardian"].startswith("Vårdnadshavare 0")
        assert names["other"] == "Olle Morbror"
        partner = {a.kind: a for a in school_view.attendees}
        assert partner["guardian"].name == "Vårdnadshavare"
        assert partner["guardian"].guardian_id is None
        assert partner["young_person"].name == "Testa Påhittadsson"
        # the police is on the team but not invited; the owner (chair) and school are shown
        assert {a.user_id for a in school_view.attendees if a.kind == "user"} == {
            team.owner.user_id,
            team.school.user_id,
        }

    def test_an_amendment_of_a_hidden_item_leaves_no_trace(
        self, session: Session, team: Team
    ) -> None:
        meeting = schedule(session, team)
        social = item(session, team, team.owner, meeting, "Bedömning", "social")
        school = item(session, team, team.owner, meeting, "Närvaro", "school")
        version = meetings.get_meeting(
            session, team.owner, case_id=team.case.id, meeting_id=meeting
        ).meeting.version
        meetings.finalise(
            session, team.owner, case_id=team.case.id, meeting_id=meeting, expected_version=version
        )
        for original in (social, school):
            meetings.amend_item(
                session,
                team.owner,
                case_id=team.case.id,
                meeting_id=meeting,
                item_id=original,
                data=ItemInput(heading="Rättelse", text="Rätt text", category="school"),
            )
        owner_items = meetings.get_meeting(
            session, team.owner, case_id=team.case.id, meeting_id=meeting
        ).items
        assert [(i.heading, len(i.amendments)) for i in owner_items] == [
            ("Bedömning", 1),
            ("Närvaro", 1),
        ]
        school_items = meetings.get_meeting(
            session, team.school, case_id=team.case.id, meeting_id=meeting
        ).items
        assert [(i.heading, i.amends_item_id, len(i.amendments)) for i in school_items] == [
            ("Närvaro", None, 1),
            ("Rättelse", None, 0),  # corrects the hidden item: shown plain, no reference
        ]
        assert school_items[0].amendments[0].amends_item_id == school

    def test_reads_are_audited_with_the_consent_basis(self, session: Session, team: Team) -> None:
        meeting = schedule(session, team)
        shown = item(session, team, team.owner, meeting, "Närvaro", "school")
        item(session, team, team.owner, meeting, "Bedömning", "social")
        meetings.get_meeting(session, team.school, case_id=team.case.id, meeting_id=meeting)
        meetings.minutes_for_print(session, team.school, case_id=team.case.id, meeting_id=meeting)
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.user_id == team.school.user_id)
            .order_by(col(AuditEvent.occurred_at))
        ).all()
        assert [row.action for row in rows] == ["meeting.read", "minutes.print"]
        basis = [row.basis for row in rows]
        assert basis[0]["kind"] == "consent"
        assert sorted(basis[0]["consent_records"]) == sorted(str(i) for i in team.consent_ids)
        assert basis[0]["minute_items"] == [str(shown)]
        assert basis[1]["export"] == "print"


class TestScheduling:
    def test_bad_input_names_the_field_and_stores_nothing(
        self, session: Session, team: Team, keys: KeySet
    ) -> None:
        other_person = make_young_person(session, team.owner, keys)
        people = YoungPersonRepository(session, case_scope(session, team.owner))
        foreign_guardian = people.guardians_of(other_person)[0].id
        outsider = make_actor(session, make_agency(session, AgencyKind.SCHOOL), Role.CONTACT_PERSON)
        cases_of_bad_input: list[tuple[dict[str, Any], str]] = [
            ({"ends_at": _at(3, 9)}, "ends_at"),
            ({"kind": "party"}, "kind"),
            ({"place": " "}, "place"),
            ({"chair_user_id": outsider.user_id}, "chair_user_id"),
            (
                {"attendees": [AttendeeInput(kind="user", user_id=outsider.user_id)]},
                "attendees.0.user_id",
            ),
            (
                {"attendees": [AttendeeInput(kind="guardian", guardian_id=foreign_guardian)]},
                "attendees.0.guardian_id",
            ),
            ({"attendees": [AttendeeInput(kind="other", name="")]}, "attendees.0.name"),
        ]
        for change, field in cases_of_bad_input:
            with pytest.raises(ValidationFailed) as caught:
                schedule(session, team, **change)
            assert [e.field for e in caught.value.errors] == [field], change
            assert all(e.english for e in caught.value.errors)
        assert meetings.list_meetings(session, team.owner, case_id=team.case.id) == []

    def test_partners_and_other_units_may_not_schedule(self, session: Session, team: Team) -> None:
        data = MeetingInput(kind="team", starts_at=_at(1), ends_at=_at(1, 11), place="Rum 1")
        with pytest.raises(Forbidden):
            meetings.schedule_meeting(session, team.school, case_id=team.case.id, data=data)
        other_unit = make_actor(session)
        with pytest.raises(NotFound):
            meetings.schedule_meeting(session, other_unit, case_id=team.case.id, data=data)

    def test_emergency_meeting_today_or_tomorrow_not_in_the_past(
        self, session: Session, team: Team
    ) -> None:
        def call(starts_at: datetime) -> uuid.UUID:
            return meetings.call_emergency_meeting(
                session,
                team.owner,
                case_id=team.case.id,
                data=MeetingInput(
                    kind="ignored",
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=1),
                    place="Socialkontoret, rum 2",
                ),
            ).id

        for bad in (utcnow() - timedelta(minutes=5), _at(2)):
            with pytest.raises(ValidationFailed) as caught:
                call(bad)
            assert [e.field for e in caught.value.errors] == ["starts_at"]
        meeting = call(_at(1))
        upcoming = meetings.my_meetings(session, team.police, today=today())
        assert [(m.meeting.id, m.emergency) for m in upcoming] == [(meeting, True)]
        assert upcoming[0].meeting.kind == "emergency_stop"

    def test_only_the_owner_or_the_coordinator_calls_an_emergency(
        self, session: Session, team: Team
    ) -> None:
        colleague = make_actor(session, make_agency(session))
        data = MeetingInput(kind="x", starts_at=_at(1), ends_at=_at(1, 11), place="Rum 1")
        with pytest.raises(NotFound):
            meetings.call_emergency_meeting(session, colleague, case_id=team.case.id, data=data)

    def test_change_raises_sequence_and_stale_version_is_refused(
        self, session: Session, team: Team
    ) -> None:
        meeting_id = schedule(session, team)
        meeting = meetings.update_meeting(
            session,
            team.owner,
            case_id=team.case.id,
            meeting_id=meeting_id,
            changes=MeetingChanges(place="Nytt rum"),
            expected_version=1,
        )
        assert (meeting.version, meeting.sequence) == (2, 1)
        meeting = meetings.update_meeting(
            session,
            team.owner,
            case_id=team.case.id,
            meeting_id=meeting_id,
            changes=MeetingChanges(chair_user_id=team.school.user_id),
            expected_version=2,
        )
        assert (meeting.version, meeting.sequence) == (3, 1)  # the chair is not in the .ics
        with pytest.raises(StaleVersion) as caught:
            meetings.update_meeting(
                session,
                team.owner,
                case_id=team.case.id,
                meeting_id=meeting_id,
                changes=MeetingChanges(status="cancelled"),
                expected_version=2,
            )
        assert caught.value.current_version == 3

    def test_the_later_of_two_writers_gets_409_with_the_current_version(
        self, engine: Engine, keys: KeySet
    ) -> None:
        """Both read version 1; the first to write wins, the second loses at the database's
        compare-and-set (its own copy still says 1) and learns the current version."""
        with new_session(engine) as setup:
            team = make_team(setup, keys)
            meeting_id = schedule(setup, team)
            setup.commit()
        with new_session(engine) as later:
            scope = case_scope(later, team.owner)
            loaded = MeetingRepository(later, scope).get(team.case.id, meeting_id)
            assert loaded is not None
            assert loaded.version == 1
            later.rollback()  # end the read: SQLite's snapshot must not predate the write
            with new_session(engine) as first:
                meetings.update_meeting(
                    first,
                    team.owner,
                    case_id=team.case.id,
                    meeting_id=meeting_id,
                    changes=MeetingChanges(place="Rum A"),
                    expected_version=1,
                )
                first.commit()
            with pytest.raises(StaleVersion) as caught:
                meetings.update_meeting(
                    later,
                    team.owner,
                    case_id=team.case.id,
                    meeting_id=meeting_id,
                    changes=MeetingChanges(place="Rum B"),
                    expected_version=1,
                )
            assert caught.value.current_version == 2
            # the compare-and-set itself: from a version no longer stored, nothing changes
            repo = MeetingRepository(later, case_scope(later, team.owner))
            stored = repo.get(team.case.id, meeting_id)
            assert stored is not None
            assert repo.claim_meeting(stored, 1, raise_sequence=True) is False
            assert repo.current_version(stored) == 2
            later.rollback()
        with new_session(engine) as check:
            view = meetings.get_meeting(
                check, team.owner, case_id=team.case.id, meeting_id=meeting_id
            )
            assert (view.meeting.place, view.meeting.version) == ("Rum A", 2)


class TestMinutes:
    def test_draft_final_and_amendment_rules(self, session: Session, team: Team) -> None:
        meeting = schedule(session, team)
        mine = item(session, team, team.school, meeting, "Skolans punkt", "school")
        ctx = {"case_id": team.case.id, "meeting_id": meeting}
        new = ItemInput(heading="Ny rubrik", text="Ny text", category="school")
        with pytest.raises(Forbidden):  # not the author
            meetings.edit_item(
                session, team.owner, item_id=mine, data=new, expected_version=1, **ctx
            )
        edited = meetings.edit_item(
            session, team.school, item_id=mine, data=new, expected_version=1, **ctx
        )
        assert edited.version == 2
        with pytest.raises(StaleVersion) as stale:
            meetings.edit_item(
                session, team.school, item_id=mine, data=new, expected_version=1, **ctx
            )
        assert stale.value.current_version == 2
        with pytest.raises(Conflict):  # amending a draft
            meetings.amend_item(session, team.school, item_id=mine, data=new, **ctx)
        with pytest.raises(Forbidden):  # only the chair finalises
            meetings.finalise(session, team.school, expected_version=1, **ctx)
        meetings.finalise(session, team.owner, expected_version=1, **ctx)
        with pytest.raises(Conflict):  # twice
            meetings.finalise(session, team.owner, expected_version=2, **ctx)
        with pytest.raises(Conflict):  # a final item never changes
            meetings.edit_item(
                session, team.school, item_id=mine, data=new, expected_version=2, **ctx
            )
        with pytest.raises(Conflict):  # no new items on final minutes
            item(session, team, team.school, meeting, "Sen punkt", "school")
        with pytest.raises(Forbidden):  # the police is neither author nor chair
            meetings.amend_item(session, team.police, item_id=mine, data=new, **ctx)
        amendment = meetings.amend_item(session, team.school, item_id=mine, data=new, **ctx)
        assert amendment.amends_item_id == mine

    def test_a_partner_writes_only_categories_their_consent_covers(
        self, session: Session, team: Team
    ) -> None:
        meeting = schedule(session, team)
        for visibility in ("team", "own_agency"):
            with pytest.raises(ValidationFailed) as caught:
                item(session, team, team.school, meeting, "Polisiär", "police", visibility)
            assert [e.field for e in caught.value.errors] == ["category"]
        with pytest.raises(ValidationFailed) as unknown:
            item(session, team, team.owner, meeting, "X", "gossip")
        assert [e.field for e in unknown.value.errors] == ["category"]

    def test_my_draft_minutes_and_my_meetings(self, session: Session, team: Team) -> None:
        first = schedule(session, team)
        second = schedule(session, team, starts_at=_at(1), ends_at=_at(1, 11))
        drafts = meetings.my_draft_minutes(session, team.owner)
        assert [m.id for m in drafts] == [second, first]
        assert meetings.my_draft_minutes(session, team.school) == []
        mine = meetings.my_meetings(session, team.school, today=today())
        assert [m.meeting.id for m in mine] == [second, first]  # invited to both
        assert meetings.my_meetings(session, team.police, today=today()) == []


class TestInvitation:
    def test_ics_carries_no_names(self, session: Session, team: Team) -> None:
        from icalendar import Calendar

        meeting = schedule(session, team)
        data = meetings.invitation(session, team.school, case_id=team.case.id, meeting_id=meeting)
        event = Calendar.from_ical(data).walk("VEVENT")[0]
        assert str(event["UID"]) == f"{meeting}@samsyn"
        assert str(event["SUMMARY"]) == f"{team.case.reference}: Nätverksmöte"
        assert str(event["LOCATION"]) == "Rum Påhittat 3, Demoskolan"
        decoded = data.decode()
        for secret in ("Testa", "Påhittadsson", "Olle", "Morbror", "Vårdnadshavare 0"):
            assert secret not in decoded


def test_free_text_is_encrypted_at_rest(session: Session, team: Team) -> None:
    meeting = schedule(session, team)
    item(session, team, team.owner, meeting, "Hemlig rubrik", "school")
    session.commit()
    stored = " ".join(
        str(value)
        for table in ("meeting", "meeting_attendee", "minute_item")
        for row in session.execute(unscoped(text(f"SELECT * FROM {table}"), "test")).all()
        for value in row
    )
    for plain in ("Rum Påhittat", "Olle Morbror", "Hemlig rubrik", "Text om Hemlig"):
        assert plain not in stored
    assert "v2." in stored


def test_the_meeting_keeps_the_summary_of_its_attendance(session: Session, team: Team) -> None:
    """What the follow-up counts (recorded, the young person came, guardians who came) is kept
    on the meeting by every write of the attendance, as stored, not only in the session."""

    def stored() -> tuple[bool, bool, int]:
        session.expire_all()
        row = session.exec(
            unscoped(
                select(
                    Meeting.attendance_recorded, Meeting.young_person_came, Meeting.guardians_came
                ).where(Meeting.id == meeting_id),
                "test: the stored summary",
            )
        ).one()
        return bool(row[0]), bool(row[1]), int(row[2])

    def record(version: int, young_person: str, guardian: str, school: str) -> None:
        meetings.record_attendance(
            session,
            team.owner,
            case_id=team.case.id,
            meeting_id=meeting_id,
            attendees=[
                AttendeeInput(kind="user", user_id=team.school.user_id, status=school),
                AttendeeInput(kind="young_person", status=young_person),
                AttendeeInput(kind="guardian", guardian_id=team.guardians[0], status=guardian),
            ],
            expected_version=version,
        )

    meeting_id = schedule(session, team)
    assert stored() == (False, False, 0)  # everyone invited, nobody recorded
    record(1, young_person="came", guardian="came", school="absent")
    assert stored() == (True, True, 1)
    record(2, young_person="absent", guardian="invited", school="came")
    assert stored() == (True, False, 0)
    record(3, young_person="invited", guardian="invited", school="invited")
    assert stored() == (False, False, 0)
    emergency = meetings.call_emergency_meeting(
        session,
        team.owner,
        case_id=team.case.id,
        data=MeetingInput(
            kind="emergency_stop",
            starts_at=_at(1),
            ends_at=_at(1, 11),
            place="Rum Påhittat 3",
            attendees=[
                AttendeeInput(kind="young_person", status="came"),
                AttendeeInput(kind="guardian", guardian_id=team.guardians[0], status="came"),
            ],
        ),
    )
    meeting_id = emergency.id
    assert stored() == (True, True, 1)  # recorded when scheduled
