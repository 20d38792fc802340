"""The statistics service on a real database (issue 14 items 2–4): each indicator on a small
known data set (k=1 for exact numbers), suppression with k=5, "three young people in a
school", and pseudonyms that do not link across agreements."""

from __future__ import annotations

import gc
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from common.keys import KeySet
from common.roles import AgencyKind
from consent.models import ConsentRecord, ConsentWithdrawal
from domain.agencies.models import Agency
from domain.assessments.models import Assessment, CylinderLevel
from domain.cases.models import Case, CaseStateChange
from domain.meetings.models import Meeting, MeetingAttendee
from domain.people.models import Guardian, YoungPerson
from domain.plans.models import PlanCommitment
from domain.referrals.models import Referral
from domain.statistics import service
from domain.statistics.periods import parse
from domain.statistics.spec import (
    OTHER_AREA,
    OTHER_SCHOOL,
    SUPPRESSED_MARK,
    TOTAL,
    Breakdown,
    Coverage,
    Grid,
    SafeTable,
    StatisticsRequest,
    StatisticsResult,
)
from tests.builders import make_agency, make_user

T2 = parse("2025-T2")  # May–August 2025
T1 = parse("2025-T1")
AS_OF = datetime(2025, 12, 1, tzinfo=UTC)


def at(month: int, day: int, year: int = 2025) -> datetime:
    return datetime(year, month, day, 10, tzinfo=UTC)


@dataclass
class City:
    session: Session
    agency: Agency
    school: Agency
    user: uuid.UUID
    level_id: uuid.UUID
    people: list[YoungPerson] = field(default_factory=list)

    def person(
        self, *, born: date = date(2010, 3, 1), school: bool = True, area: str | None = "Norr"
    ) -> YoungPerson:
        n = len(self.people)
        person = YoungPerson(
            personnummer_index=f"idx-{uuid.uuid4()}",
            personnummer=f"20100301-{n:04d}",
            is_coordination_number=False,
            first_name="Testa",
            last_name="Påhittadsson",
            birth_date=born,
            gender="female" if n % 2 else "male",
            home_area=area,
            school_agency_id=self.school.id if school else None,
            owner_agency_id=self.agency.id,
            registered_by=self.user,
        )
        self.session.add(person)
        self.session.flush()
        self.people.append(person)
        return person

    def case(
        self,
        person: YoungPerson,
        *,
        programme: str = "SSPF",
        opened: datetime,
        active: datetime | None = None,
        closed: datetime | None = None,
        outcome: str | None = None,
    ) -> Case:
        case = Case(
            reference=f"{programme}-{uuid.uuid4().hex[:8]}",
            programme=programme,
            state="closed" if closed else "active" if active else "referred",
            outcome=outcome,
            young_person_id=person.id,
            owner_agency_id=self.agency.id,
            owner_user_id=self.user,
            opened_at=opened,
            closed_at=closed,
            activated_at=active,
        )
        self.session.add(case)
        self.session.flush()
        if active is not None:
            self.session.add(
                CaseStateChange(
                    case_id=case.id,
                    from_state="consent_pending",
                    to_state="active",
                    reason="consent_complete",
                    changed_at=active,
                )
            )
        return case


@pytest.fixture
def city(session: Session) -> City:
    agency = make_agency(session)
    school = make_agency(session, AgencyKind.SCHOOL, name="Nybyggeskolan")
    user = make_user(session, agency)
    level = CylinderLevel(code="X", version=1, rank=1, wording="Test")
    session.add(level)
    session.flush()
    return City(session, agency, school, user.id, level.id)


def request(
    city: City,
    *,
    k: int = 1,
    agreement: uuid.UUID | None = None,
    breakdowns: tuple[Breakdown, ...] = (Breakdown.PROGRAMME, Breakdown.SCHOOL),
    coverage: Coverage | None = None,
    indicators: tuple[str, ...] | None = None,
) -> StatisticsRequest:
    return StatisticsRequest(
        agreement_id=agreement or uuid.UUID(int=1),
        coverage=coverage or Coverage(),
        period=T2,
        agreement_periods=(T1, T2),
        grid=Grid(breakdowns=breakdowns, schools=((city.school.id, "Nybyggeskolan"),)),
        k=k,
        indicators=indicators,
    )


def run(city: City, req: StatisticsRequest, keys: KeySet) -> StatisticsResult:
    return service.compute(city.session, req, keys.statistics, as_of=AS_OF)


def table(result: StatisticsResult, indicator: str, breakdown: Breakdown | None) -> SafeTable:
    [found] = (t for t in result.tables if t.indicator == indicator and t.breakdown == breakdown)
    return found


def totals(result: StatisticsResult, indicator: str) -> dict[str, int | None]:
    t = table(result, indicator, None)
    return {row: t.values[(row, TOTAL)] for row in t.rows}


def test_every_indicator_counts_a_known_city(city: City, keys: KeySet) -> None:
    s = city.session
    a, b, c, d = (city.person() for _ in range(4))
    # a: active since T1, still open. b: opened in T2, active, closed in T2 (goals met).
    # c: SIG opened in T2 never active. d: active in T1 only (closed in April).
    case_a = city.case(a, opened=at(2, 1), active=at(2, 10))
    case_b = city.case(b, opened=at(5, 2), active=at(5, 10), closed=at(7, 1), outcome="goals_met")
    city.case(c, programme="SIG", opened=at(6, 1))
    city.case(d, opened=at(1, 5), active=at(1, 10), closed=at(4, 1), outcome="moved")
    guardian = Guardian(young_person_id=a.id, name="Vh", has_custody=True)
    s.add(guardian)
    s.flush()
    for signer, decision, signed in (
        ("young_person", "given", date(2025, 5, 3)),
        ("guardian", "given", date(2025, 5, 3)),
        ("guardian", "refused", date(2025, 6, 3)),
        ("guardian", "given", date(2025, 1, 3)),  # T1: not counted
    ):
        s.add(
            ConsentRecord(
                case_id=case_a.id,
                signer_kind=signer,
                guardian_id=guardian.id if signer == "guardian" else None,
                decision=decision,
                signed_on=signed,
                valid_from=signed,
                method="paper_form",
                recorded_by=city.user,
            )
        )
    s.flush()
    withdrawn = ConsentRecord(
        case_id=case_b.id,
        signer_kind="young_person",
        decision="given",
        signed_on=date(2025, 1, 3),
        valid_from=date(2025, 1, 3),
        method="paper_form",
        recorded_by=city.user,
    )
    s.add(withdrawn)
    s.flush()
    s.add(ConsentWithdrawal(consent_id=withdrawn.id, withdrawn_at=at(6, 5), recorded_by=city.user))
    meetings = []
    for kind, starts, final, cancelled in (
        ("emergency_stop", at(6, 1), True, False),
        ("network", at(6, 2), False, False),  # attendance recorded below: held
        ("team", at(6, 3), False, False),  # nothing recorded: not held
        ("team", at(6, 4), True, True),  # cancelled
        ("follow_up", at(3, 4), True, False),  # T1
    ):
        m = Meeting(
            case_id=case_a.id,
            kind=kind,
            starts_at=starts,
            ends_at=starts.replace(hour=11),
            place="Rum",
            chair_user_id=city.user,
            status="cancelled" if cancelled else "scheduled",
            minutes_state="final" if final else "draft",
            finalised_at=starts if final else None,
            finalised_by=city.user if final else None,
            created_by=city.user,
        )
        s.add(m)
        meetings.append(m)
    s.flush()
    s.add(
        MeetingAttendee(
            meeting_id=meetings[0].id, kind="guardian", guardian_id=guardian.id, status="came"
        )
    )
    s.add(MeetingAttendee(meeting_id=meetings[1].id, kind="young_person", status="came"))
    # The meetings' summary of it, as `MeetingRepository` keeps it.
    meetings[0].attendance_recorded, meetings[0].guardians_came = True, 1
    meetings[1].attendance_recorded = meetings[1].young_person_came = True
    for case, rank, day in ((case_a, 3, date(2025, 2, 1)), (case_a, 1, date(2025, 6, 1))):
        s.add(
            Assessment(
                case_id=case.id,
                level_id=city.level_id,
                level_code="X",
                level_rank=rank,
                level_wording="Test",
                factors="[]",
                rationale="r",
                participants="[]",
                assessed_on=day,
                author_agency_id=city.agency.id,
                recorded_by=city.user,
            )
        )
    for due, completed in ((date(2025, 6, 1), at(6, 20)), (date(2025, 7, 1), None)):
        s.add(
            PlanCommitment(
                case_id=case_a.id,
                what="Göra",
                agency_id=city.school.id,
                due_on=due,
                status="done" if completed else "open",
                completed_at=completed,
                completed_by=city.user if completed else None,
                created_by=city.user,
            )
        )
    for waiting_since, decided, status in (
        (at(4, 1), at(4, 1), "waiting"),  # still waiting
        (at(5, 1), at(6, 11), "taken_up"),  # waited 41 days, left in T2
    ):
        s.add(
            Referral(
                sender_user_id=city.user,
                sender_agency_id=city.agency.id,
                receiving_agency_id=city.agency.id,
                personnummer_index=a.personnummer_index,
                personnummer=a.personnummer,
                programme="SSPF",
                case_programme="SSPF",
                status=status,
                decision="wait_list" if status == "waiting" else "open_case",
                decided_at=decided,
                days_to_decision=10,
                waiting_since=waiting_since,
                created_at=at(3, 20),
            )
        )
    s.flush()

    result = run(city, request(city), keys)

    assert totals(result, "cases_opened") == {"SSPF": 1, "SIG": 1, TOTAL: 2}
    assert totals(result, "cases_active") == {"SSPF": 2, "SIG": 0, TOTAL: 2}
    closed = totals(result, "cases_closed")
    assert closed["Målen uppnådda"] == 1
    assert closed["Flyttat"] == 0
    flow = totals(result, "young_people_flow")
    assert flow == {
        "Nya under perioden": 1,  # b (a was active in T1)
        "Avslutade under perioden": 1,  # b
        "Kvar vid periodens slut": 1,  # a
        TOTAL: 3,
    }
    consents = totals(result, "consents")
    assert consents["Givna – den unga"] == 1
    assert consents["Givna – vårdnadshavare"] == 1
    assert consents["Nekade – vårdnadshavare"] == 1
    assert consents["Återkallade – den unga"] == 1
    meetings_held = totals(result, "meetings")
    assert meetings_held["Nödstoppsmöte"] == 1
    assert meetings_held["Nätverksmöte"] == 1
    assert meetings_held["Teammöte"] == 0
    assert meetings_held["Uppföljning"] == 0
    assert totals(result, "emergency_stop") == {
        "Nödstoppsmöten": 1,
        "Närvarande vårdnadshavare": 1,
        TOTAL: 2,
    }
    assert totals(result, "young_people_attending")["Unga som deltagit"] == 1
    assert totals(result, "cylinder_movement")["Mot lägre risk"] == 1
    assert totals(result, "commitments_done")["Skola"] == 1
    assert totals(result, "commitments_overdue")["Skola"] == 1
    assert totals(result, "waiting_list")["Väntande"] == 1
    figures = {f.indicator: f.value for f in result.figures}
    assert figures["case_duration"] == 60  # 2 May to 1 July
    assert figures["days_waited"] == 41
    assert figures["days_referral_to_decision"] == 10
    assert figures["consent_share"] == pytest.approx(66.7)
    by_school = table(result, "cases_active", Breakdown.SCHOOL)
    assert by_school.values[("SSPF", "Nybyggeskolan")] == 2
    assert by_school.values[("SSPF", OTHER_SCHOOL)] == 0


def test_three_young_people_in_a_school_show_no_number(city: City, keys: KeySet) -> None:
    for _ in range(3):
        city.case(city.person(), opened=at(5, 2), active=at(5, 10))
    for _ in range(6):
        city.case(city.person(school=False), opened=at(5, 2), active=at(5, 10))

    result = run(city, request(city, k=5), keys)

    school = table(result, "cases_active", Breakdown.SCHOOL)
    assert school.values[("SSPF", "Nybyggeskolan")] is None
    assert school.values[(TOTAL, "Nybyggeskolan")] is None
    # The other school's 6 cannot stay beside a shown total of 9: it would give the 3 away.
    shown = {v for v in school.values.values() if v is not None}
    assert 3 not in shown
    assert not (9 in shown and 6 in shown)
    assert any("skola" in note and SUPPRESSED_MARK in note for note in result.notes)
    assert all(not any(ch.isdigit() for ch in note) for note in result.notes)


def test_young_people_are_placed_by_their_encrypted_home_area(city: City, keys: KeySet) -> None:
    """The area breakdown, and an activity of one area, from the home areas as stored
    (encrypted, opened only for the people placed)."""
    for area, people in (("Norr", 2), ("Söder", 3), ("Väster", 1), (None, 1)):
        for _ in range(people):
            city.case(city.person(area=area), opened=at(5, 2), active=at(5, 10))
    whole = replace(
        request(city),
        grid=Grid(breakdowns=(Breakdown.PROGRAMME, Breakdown.AREA), areas=("Norr", "Söder")),
    )

    by_area = table(run(city, whole, keys), "cases_active", Breakdown.AREA)
    assert [by_area.values[("SSPF", area)] for area in ("Norr", "Söder", OTHER_AREA)] == [2, 3, 2]

    south = replace(whole, coverage=Coverage(areas=frozenset({"Söder"})))
    flow = table(run(city, south, keys), "young_people_flow", Breakdown.AREA)
    assert flow.columns == ("Söder", TOTAL)
    # Söder's three young people, each new in the period and still there at its end.
    assert flow.values[(TOTAL, "Söder")] == 6


def test_pseudonyms_link_within_an_agreement_only(city: City, keys: KeySet) -> None:
    person = city.person()
    city.case(person, opened=at(5, 2), active=at(5, 10))
    scope_a = keys.statistics.scoped("young_people", str(uuid.UUID(int=1)))
    scope_b = keys.statistics.scoped("young_people", str(uuid.UUID(int=2)))
    assert scope_a.of(str(person.id)) != scope_b.of(str(person.id))
    result = run(city, request(city, agreement=uuid.UUID(int=2)), keys)
    text = repr(result.tables) + repr(result.figures) + repr(result.notes)
    assert str(person.id) not in text
    assert scope_a.of(str(person.id)).hex() not in text


def test_a_report_gives_the_cycle_collector_back_as_it_found_it(city: City, keys: KeySet) -> None:
    """The report pauses the cyclic garbage collector while it counts; it must be running
    again afterwards, also when the report fails, and stay off where it was off."""
    city.case(city.person(), opened=at(5, 2), active=at(5, 10))
    assert gc.isenabled()
    run(city, request(city), keys)
    assert gc.isenabled()
    with pytest.raises(ValueError, match="unknown indicators"):
        run(city, request(city, indicators=("no_such_indicator",)), keys)
    assert gc.isenabled()
    gc.disable()
    try:
        run(city, request(city), keys)
        assert not gc.isenabled()
    finally:
        gc.enable()
