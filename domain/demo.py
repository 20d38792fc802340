"""A synthetic municipality for trying Samsyn out. Every person in it is made up.

Names are visibly fictitious (surnames such as "Påhittadsson", "Exempeldotter"), and the
personnummer are generated with a valid check digit from a seeded random generator (ages
12–18 counted from the day of seeding).
"""

from __future__ import annotations

import random
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from common.actor import Actor
from common.clock import STOCKHOLM, stopped_at, today
from common.crypto import BlindIndex
from common.roles import AgencyKind, Role
from consent.models import ConsentMethod
from consent.rules import Category, Decision, SignerKind
from domain.agencies.models import Agency
from domain.agencies.repository import AgencyRepository
from domain.agencies.service import create_agency
from domain.agreements import service as agreements
from domain.assessments import service as assessments
from domain.auth.service import actor_for
from domain.cases import service as cases
from domain.cases.models import Case
from domain.cases.rules import CaseState, Outcome, Programme
from domain.consents import service as consents
from domain.consents.service import ConsentInput
from domain.meetings import service as meetings
from domain.meetings.service import AttendeeInput, ItemInput, MeetingInput
from domain.people.models import Gender
from domain.people.personnummer import luhn_check_digit
from domain.people.service import GuardianInput, YoungPersonInput, register_young_person
from domain.plans import service as plans
from domain.plans.service import CommitmentChanges
from domain.statistics.spec import Breakdown
from domain.teams import service as teams
from domain.users.service import create_user

DEMO_PASSWORD = "demo-losenord-2026"  # noqa: S105 - printed for the demo on purpose

SOCIAL_SERVICES = "Socialtjänsten Demokommun, Barn och unga"
MUNICIPALITY = "Hela Demokommun"  # the area the demo's one social-services unit serves
AGENCIES = [
    (SOCIAL_SERVICES, AgencyKind.SOCIAL_SERVICES),
    ("Ekbackens skola (demo)", AgencyKind.SCHOOL),
    ("Solbergaskolan (demo)", AgencyKind.SCHOOL),
    ("Lokalpolisområde Demokommun", AgencyKind.POLICE),
    ("Fritidsgården Stjärnan (demo)", AgencyKind.LEISURE),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    agency: str
    role: Role


USERS = [
    DemoUser("handlaggare", "Hanna Handläggare (demo)", SOCIAL_SERVICES, Role.SOCIAL_WORKER),
    DemoUser("handlaggare2", "Hugo Handläggare (demo)", SOCIAL_SERVICES, Role.SOCIAL_WORKER),
    DemoUser("samordnare", "Sara Samordnare (demo)", SOCIAL_SERVICES, Role.COORDINATOR),
    DemoUser("skola", "Sven Skolkurator (demo)", "Ekbackens skola (demo)", Role.CONTACT_PERSON),
    DemoUser(
        "skola2", "Selma Biträdande rektor (demo)", "Solbergaskolan (demo)", Role.CONTACT_PERSON
    ),
    DemoUser("polis", "Petra Polis (demo)", "Lokalpolisområde Demokommun", Role.CONTACT_PERSON),
    DemoUser(
        "fritid", "Filip Fritidsledare (demo)", "Fritidsgården Stjärnan (demo)", Role.CONTACT_PERSON
    ),
    DemoUser("styrgrupp", "Stina Styrgrupp (demo)", SOCIAL_SERVICES, Role.STEERING_GROUP),
    DemoUser("forvaltare", "Folke Förvaltare (demo)", SOCIAL_SERVICES, Role.ADMINISTRATOR),
    DemoUser("logggranskare", "Lova Logggranskare (demo)", SOCIAL_SERVICES, Role.AUDITOR),
]

FIRST_NAMES = {
    Gender.FEMALE: [
        "Alva",
        "Elsa",
        "Maja",
        "Wilma",
        "Saga",
        "Ebba",
        "Nora",
        "Leah",
        "Selma",
        "Tyra",
    ],
    Gender.MALE: [
        "Liam",
        "Noah",
        "Elias",
        "Hugo",
        "Oliver",
        "Adam",
        "Lucas",
        "Alexander",
        "Vincent",
        "Theo",
    ],
}
SURNAMES = [
    "Påhittadsson",
    "Exempeldotter",
    "Testberg",
    "Fiktivsson",
    "Låtsasström",
    "Demolin",
    "Provqvist",
    "Fantasiborg",
]
AREAS = ["Norra Demo", "Södra Demo", "Centrum (demo)", "Ekbacken (demo)"]

# 20 young people: the states cycle so every one occurs at least three times.
STATE_CYCLE = [
    CaseState.ACTIVE,
    CaseState.CONSENT_PENDING,
    CaseState.REFERRED,
    CaseState.PAUSED,
    CaseState.DECLINED,
    CaseState.CLOSED,
    CaseState.ACTIVE,
]


def synthetic_personnummer(rng: random.Random, born: date, gender: Gender) -> str:
    serial = rng.randrange(0, 100) * 10 + (
        rng.choice([1, 3, 5, 7, 9]) if gender is Gender.MALE else rng.choice([0, 2, 4, 6, 8])
    )
    nine = born.strftime("%y%m%d") + f"{serial:03d}"
    return f"{born.strftime('%Y%m%d')}-{serial:03d}{luhn_check_digit(nine)}"


def is_seeded(session: Session) -> bool:
    return AgencyRepository(session).by_name(SOCIAL_SERVICES) is not None


def seed(session: Session, *, index: BlindIndex, young_people: int = 20) -> None:
    """Create the demo municipality in the caller's transaction."""
    agencies = {
        name: create_agency(
            session,
            name=name,
            kind=kind.value,
            area=MUNICIPALITY if name == SOCIAL_SERVICES else None,
        )
        for name, kind in AGENCIES
    }
    actors: dict[str, Actor] = {}
    for demo in USERS:
        user = create_user(
            session,
            agency_id=agencies[demo.agency].id,
            username=demo.username,
            display_name=demo.display_name,
            roles=[demo.role.value],
            password=DEMO_PASSWORD,
            programmes=("SSPF", "SIG") if demo.role is Role.COORDINATOR else (),
        )
        actors[demo.username] = actor_for(session, user)

    rng = random.Random(2026)  # noqa: S311 - reproducible synthetic data, not security
    schools = [agencies["Ekbackens skola (demo)"], agencies["Solbergaskolan (demo)"]]
    now = today()
    closed: list[tuple[str, date]] = []  # personnummer and birth date of closed cases' people
    for number in range(young_people):
        gender = Gender.FEMALE if number % 2 else Gender.MALE
        born = now - timedelta(days=rng.randrange(12 * 365, 19 * 365))
        first = FIRST_NAMES[gender][number % 10]
        last = SURNAMES[number % len(SURNAMES)]
        owner = actors["handlaggare" if number % 3 else "handlaggare2"]
        pnr = synthetic_personnummer(rng, born, gender)
        person = register_young_person(
            session,
            owner,
            index=index,
            data=YoungPersonInput(
                personnummer=pnr,
                first_name=first,
                last_name=last,
                gender=gender.value,
                home_area=AREAS[number % len(AREAS)],
                school_agency_id=schools[number % 2].id,
                protected_identity=number == 7,
                address=f"Påhittade gatan {number + 1}, Demokommun",
                guardians=[
                    GuardianInput(
                        name=f"Anna {last} (vh)", has_custody=True, phone="070-000 00 00"
                    ),
                    GuardianInput(name=f"Erik {last} (vh)", has_custody=number % 4 != 0),
                ],
            ),
        )
        case = cases.open_case(
            session,
            owner,
            young_person_id=person.id,
            programme=(Programme.SIG if number % 5 == 4 else Programme.SSPF).value,
        )
        partners = [
            actors["skola" if number % 2 == 0 else "skola2"],
            actors["polis"],
            actors["fritid"],
        ]
        state = STATE_CYCLE[number % len(STATE_CYCLE)]
        if state is CaseState.CLOSED:
            closed.append((pnr, born))
        # One active case's consent ends in two weeks: the start page warns about it.
        consent_days = 34 if number == 13 else 365
        _follow_path(session, owner, case, state, partners, consent_days=consent_days)
        if state is CaseState.ACTIVE:
            team_meeting = _meetings(session, owner, case, partners, now)
            _assessments(session, owner, case, partners, number, team_meeting, now)  # issue 13
        if number == 0:  # active, with the demo school, police and leisure contacts on it
            _demo_plan(session, owner, case, partners)
            _emergency(session, owner, case, partners, now)
    _demo_history(session, actors, schools, index=index, rng=rng)  # issue 14
    _demo_referrals(
        session, actors, index=index, unit_id=agencies[SOCIAL_SERVICES].id, rng=rng, closed=closed
    )
    _demo_agreement(session, actors["samordnare"], agencies)  # issue 14


# Issue 14: the programme's earlier years, so that the follow-up has periods with figures to
# show (at k = 5 the twenty young people of today show almost nothing on their own).
HISTORY_FROM = date(2025, 1, 7)
HISTORY_PEOPLE = 90
OUTCOMES = [
    *[Outcome.GOALS_MET] * 6,
    Outcome.MOVED,
    Outcome.AGE_LIMIT,
    Outcome.TRANSFERRED,
    Outcome.OTHER,
]
LEVEL_PATHS = [("C", "D"), ("D", "0"), ("B", "C"), ("D", "D"), ("C", "B"), ("D", "0")]


def _demo_history(
    session: Session,
    actors: dict[str, Actor],
    schools: list[Agency],
    *,
    index: BlindIndex,
    rng: random.Random,
) -> None:
    """Young people whose cases opened from January 2025 on, each taken through its life with
    the clock stopped at the day it happened: consent (a few refuse), a start meeting, network
    and team meetings with the young person and guardians, now and then an emergency stop, two
    cylinder-model assessments, and for most a closing with an outcome."""
    now = today()
    last_opening = now - timedelta(days=60)
    catalogue = assessments.current_factors(session, actors["handlaggare"])
    factors = [f.factor_id for f in catalogue]
    for number in range(HISTORY_PEOPLE):
        opened = HISTORY_FROM + timedelta(days=rng.randrange((last_opening - HISTORY_FROM).days))
        gender = Gender.FEMALE if rng.random() < 0.45 else Gender.MALE
        born = opened - timedelta(days=rng.randrange(12 * 365, 18 * 365))
        last = SURNAMES[(number + 3) % len(SURNAMES)]
        owner = actors["handlaggare" if number % 2 else "handlaggare2"]
        at_ekbacken = rng.random() < 0.65
        partners = [
            actors["skola" if at_ekbacken else "skola2"],
            actors["polis"],
            actors["fritid"],
        ]

        def on(day: date, hour: int = 10) -> AbstractContextManager[None]:
            return stopped_at(_local(day, hour).astimezone(UTC))

        with on(opened):
            person = register_young_person(
                session,
                owner,
                index=index,
                data=YoungPersonInput(
                    personnummer=synthetic_personnummer(rng, born, gender),
                    first_name=FIRST_NAMES[gender][(number + 5) % 10],
                    last_name=last,
                    gender=gender.value,
                    home_area=AREAS[rng.randrange(len(AREAS))],
                    school_agency_id=schools[0 if at_ekbacken else 1].id,
                    guardians=[
                        GuardianInput(name=f"Maria {last} (vh)", has_custody=True),
                        GuardianInput(name=f"Johan {last} (vh)", has_custody=number % 3 != 0),
                    ],
                ),
            )
            programme = Programme.SIG if rng.random() < 0.3 else Programme.SSPF
            case = cases.open_case(
                session, owner, young_person_id=person.id, programme=programme.value
            )
        with on(opened + timedelta(days=2)):
            case = cases.change_state(
                session,
                owner,
                case_id=case.id,
                target=CaseState.CONSENT_PENDING.value,
                expected_version=case.version,
            )
            for partner in partners:
                teams.add_member(session, owner, case_id=case.id, user_id=partner.user_id)
        signed = opened + timedelta(days=rng.randrange(3, 12))
        refuses = rng.random() < 0.12
        with on(signed):
            overview = consents.consent_overview(session, owner, case_id=case.id)
            guardians = [g.id for g in overview.guardians if g.has_custody]
            signers = [*map(str, guardians), SignerKind.YOUNG_PERSON.value]
            for signer in signers[:1] if refuses else signers:
                consents.record_consent(
                    session,
                    owner,
                    case_id=case.id,
                    data=ConsentInput(
                        signer=signer,
                        decision=(Decision.REFUSED if refuses else Decision.GIVEN).value,
                        signed_on=signed,
                        valid_from=signed,
                        valid_until=signed + timedelta(days=730),
                        agencies=[] if refuses else [str(p.agency_id) for p in partners],
                        categories=[] if refuses else [c.value for c in SHARED_CATEGORIES],
                        method=ConsentMethod.PAPER_FORM.value,
                    ),
                )
        if refuses:
            continue
        closes = signed + timedelta(days=rng.randrange(90, 420))
        ends = min(closes, now - timedelta(days=3))
        day, kind = signed + timedelta(days=rng.randrange(4, 15)), "start"
        first_meeting: uuid.UUID | None = None
        while day < ends:
            with on(day, 8):  # scheduled in the morning, held at nine
                meeting = _held_meeting(session, owner, case, partners, guardians, kind, day, rng)
            first_meeting = first_meeting or meeting
            day += timedelta(days=rng.randrange(40, 90))
            kind = "emergency_stop" if rng.random() < 0.07 else rng.choice(MEETING_KINDS)
        path = LEVEL_PATHS[number % len(LEVEL_PATHS)]
        for level, assessed in ((path[0], signed + timedelta(days=10)), (path[1], ends)):
            if assessed > ends or first_meeting is None:
                break
            with on(assessed, 15):
                assessments.record_assessment(
                    session,
                    owner,
                    case_id=case.id,
                    level_code=level,
                    factor_ids=rng.sample(factors, 3),
                    rationale=ASSESSMENT_RATIONALES[level],
                    participant_user_ids=[owner.user_id, partners[1].user_id],
                    assessed_on=assessed,
                    today=assessed,
                )
        if closes < now - timedelta(days=3):
            with on(closes, 16):
                current = cases.get_case(session, owner, case_id=case.id).case
                cases.change_state(
                    session,
                    owner,
                    case_id=case.id,
                    target=CaseState.CLOSED.value,
                    expected_version=current.version,
                    outcome=rng.choice(OUTCOMES).value,
                )


MEETING_KINDS = ("network", "network", "team", "follow_up")


def _held_meeting(
    session: Session,
    owner: Actor,
    case: Case,
    partners: list[Actor],
    guardians: list[uuid.UUID],
    kind: str,
    day: date,
    rng: random.Random,
) -> uuid.UUID:
    """A meeting on `day` that was held: who came, one line of minutes, finalised."""
    came = [AttendeeInput(kind="user", user_id=p.user_id, status="came") for p in partners[:2]]
    came.append(
        AttendeeInput(kind="young_person", status="came" if rng.random() < 0.85 else "absent")
    )
    came.extend(
        AttendeeInput(
            kind="guardian", guardian_id=g, status="came" if rng.random() < 0.7 else "absent"
        )
        for g in guardians
    )
    meeting = meetings.schedule_meeting(
        session,
        owner,
        case_id=case.id,
        data=MeetingInput(
            kind=kind,
            starts_at=_local(day, 9),
            ends_at=_local(day, 10),
            place="Socialkontoret Demokommun (demo)",
            attendees=came,
        ),
    )
    meetings.add_item(
        session,
        owner,
        case_id=case.id,
        meeting_id=meeting.id,
        data=ItemInput(heading="Genomgång", text="Mötet hölls (demo).", category="plan"),
    )
    with stopped_at(_local(day, 11).astimezone(UTC)):
        meetings.finalise(
            session,
            owner,
            case_id=case.id,
            meeting_id=meeting.id,
            expected_version=meeting.version,
        )
    return meeting.id


# The Västerås agreement's goal areas (seeds/000: samverkansöverenskommelse 2023–2027).
GOAL_AREAS = (
    ("A", "Inga utsatta områden – god socioekonomi, låg kriminell inverkan"),
    ("B", "Barn och unga ska lyckas"),
    ("C", "Ökad tillit till myndigheter"),
    ("D", "Minskad socioekonomisk segregation"),
    ("E", "Egenmakt – möjlighet att påverka och känna ansvar för sitt område"),
    ("F", "Öka möjlighet till långsiktig försörjning"),
    ("G", "Trygga och bra boendemiljöer"),
    ("H", "Reducera dödligt våld"),
)


def _demo_agreement(session: Session, coordinator: Actor, agencies: dict[str, Agency]) -> None:
    """A Västerås-like collaboration agreement, followed up per tertial, with an SSPF activity
    at one school and a SIG activity, and targets of each kind."""
    schools = [agencies["Ekbackens skola (demo)"], agencies["Solbergaskolan (demo)"]]
    agreement = agreements.create_agreement(
        session,
        coordinator,
        name="Samverkansöverenskommelse Demokommun 2023–2027 (demo)",
        starts_on=date(2023, 6, 1),  # as Västerås: 2023-06-01 – 2027-06-01
        ends_on=date(2027, 6, 1),
        period_kind="tertial",
        k=5,
        breakdowns=[b.value for b in Breakdown],
        areas=AREAS,
        school_agency_ids=[str(school.id) for school in schools],
        follow_up_by="Styrgruppen för SSPF och SIG (demo)",
        parties=[
            agreements.PartyInput("Demokommun", agencies[SOCIAL_SERVICES].id),
            agreements.PartyInput(
                "Lokalpolisområde Demokommun", agencies["Lokalpolisområde Demokommun"].id
            ),
            agreements.PartyInput("Bostadsbolaget (demo)"),
            agreements.PartyInput("Region (demo)"),
        ],
    )
    goal_areas = {
        letter: agreements.add_goal_area(
            session, coordinator, agreement.id, letter=letter, title=title
        )
        for letter, title in GOAL_AREAS
    }
    sspf = agreements.add_activity(
        session,
        coordinator,
        agreement.id,
        goal_area_id=goal_areas["B"].id,
        name="SSPF på Ekbackens skola (demo)",
        programmes=["SSPF"],
        school_agency_ids=[str(schools[0].id)],
        responsible="SSPF-samordnaren och rektor (demo)",
    )
    sig = agreements.add_activity(
        session,
        coordinator,
        agreement.id,
        goal_area_id=goal_areas["H"].id,
        name="SIG 12–17 (demo)",
        programmes=["SIG"],
        responsible="SIG-samordnaren (demo)",
    )
    targets = (
        (sspf, "cases_closed", "goals_met", "count", "at_least", 15, "Bryta loss minst 15 unga"),
        (sspf, "consent_share", None, "share", "at_least", 80, "Minst 80 % skriver på samtycket"),
        (sspf, "emergency_stop", "meetings", "count", "at_least", 2, "Nödstoppsmöten hålls"),
        (
            sspf,
            "days_referral_to_first_meeting",
            None,
            "median_days",
            "at_most",
            14,
            "Första mötet inom 14 dagar från aktualisering",
        ),
        (sig, "cases_closed", "goals_met", "count", "at_least", 15, "Bryta loss minst 15 unga"),
        (sig, "consent_share", None, "share", "at_least", 80, "Minst 80 % skriver på samtycket"),
    )
    for activity, indicator, row, kind, comparison, value, label in targets:
        agreements.add_target(
            session,
            coordinator,
            agreement.id,
            activity.id,
            indicator=indicator,
            row_code=row,
            kind=kind,
            comparison=comparison,
            value=value,
            label=label,
        )


SHARED_CATEGORIES = [
    Category.BASIC,
    Category.SCHOOL,
    Category.POLICE,
    Category.LEISURE,
    Category.PLAN,
]


def _follow_path(
    session: Session,
    owner: Actor,
    case: Case,
    state: CaseState,
    partners: list[Actor],
    *,
    consent_days: int = 365,
) -> None:
    """Take a demo case to `state` the way it happens for real: team, consent records valid
    for `consent_days` from their signing 20 days ago, and the lifecycle following the
    consent (withdrawal pauses, refusal declines)."""
    if state is CaseState.REFERRED:
        return
    case = cases.change_state(
        session,
        owner,
        case_id=case.id,
        target=CaseState.CONSENT_PENDING.value,
        expected_version=case.version,
    )
    for partner in partners:
        teams.add_member(session, owner, case_id=case.id, user_id=partner.user_id)
    overview = consents.consent_overview(session, owner, case_id=case.id)
    signers = [str(g.id) for g in overview.guardians if g.has_custody] + [
        SignerKind.YOUNG_PERSON.value
    ]
    if state is CaseState.CONSENT_PENDING:
        signers = signers[:1]  # one guardian has signed; the others have not yet
    signed_on = today() - timedelta(days=20)
    records = []
    for signer in signers:
        refusing = state is CaseState.DECLINED
        records.append(
            consents.record_consent(
                session,
                owner,
                case_id=case.id,
                data=ConsentInput(
                    signer=signer,
                    decision=(Decision.REFUSED if refusing else Decision.GIVEN).value,
                    signed_on=signed_on,
                    valid_from=signed_on,
                    valid_until=signed_on + timedelta(days=consent_days),
                    agencies=[] if refusing else [str(p.agency_id) for p in partners],
                    categories=[] if refusing else [c.value for c in SHARED_CATEGORIES],
                    method=ConsentMethod.PAPER_FORM.value,
                ),
            )
        )
        if refusing:
            return
    if state is CaseState.PAUSED:
        consents.withdraw_consent(session, owner, consent_id=records[0].id)
    elif state is CaseState.CLOSED:
        current = cases.get_case(session, owner, case_id=case.id).case
        cases.change_state(
            session,
            owner,
            case_id=case.id,
            target=CaseState.CLOSED.value,
            expected_version=current.version,
            outcome=Outcome.GOALS_MET.value,
        )


def _demo_plan(session: Session, owner: Actor, case: Case, partners: list[Actor]) -> None:
    """A living plan: two goals, commitments of social services, the school and the police,
    one of them overdue and one done (by the police contact, as it happens for real)."""
    school, police, _leisure = partners
    for text in (
        "Går i skolan varje dag och klarar godkänt i kärnämnena till terminens slut.",
        "Har en meningsfull fritid två kvällar i veckan, utan de äldre kamraterna.",
    ):
        plans.add_goal(session, owner, case_id=case.id, text=text)
    now = today()
    plans.add_commitment(
        session,
        owner,
        case_id=case.id,
        what="Boka uppföljande nätverksmöte med familjen.",
        agency_id=owner.agency_id,
        person_user_id=owner.user_id,
        due_on=now + timedelta(days=14),
    )
    plans.add_commitment(
        session,
        owner,
        case_id=case.id,
        what="Ta fram en närvaroplan och ringa hem samma dag vid frånvaro.",
        agency_id=school.agency_id,
        person_user_id=school.user_id,
        due_on=now - timedelta(days=3),  # overdue: the school has not reported back
    )
    orienting = plans.add_commitment(
        session,
        owner,
        case_id=case.id,
        what="Orosamtal med vårdnadshavarna om kamratkretsen.",
        agency_id=police.agency_id,
        person_user_id=police.user_id,
        due_on=now - timedelta(days=5),
    )
    plans.update_commitment(
        session,
        police,
        case_id=case.id,
        commitment_id=orienting.commitment.id,
        version=orienting.commitment.version,
        changes=CommitmentChanges(
            status="done", comment="Samtalet hölls, båda vårdnadshavarna kom."
        ),
    )


def _emergency(
    session: Session, owner: Actor, case: Case, partners: list[Actor], now: date
) -> None:
    """An emergency-stop meeting tomorrow morning, with the young person, a guardian, the
    school and the police: first on every team member's start page."""
    school, police, _leisure = partners
    guardian = consents.consent_overview(session, owner, case_id=case.id).guardians[0].id
    meetings.call_emergency_meeting(
        session,
        owner,
        case_id=case.id,
        data=MeetingInput(
            kind="emergency_stop",
            starts_at=_local(now + timedelta(days=1), 8),
            ends_at=_local(now + timedelta(days=1), 9),
            place="Socialkontoret Demokommun, rum Akuten (demo)",
            attendees=[
                AttendeeInput(kind="young_person"),
                AttendeeInput(kind="guardian", guardian_id=guardian),
                AttendeeInput(kind="user", user_id=school.user_id),
                AttendeeInput(kind="user", user_id=police.user_id),
            ],
        ),
    )


def _local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)


def _meetings(
    session: Session, owner: Actor, case: Case, partners: list[Actor], now: date
) -> uuid.UUID:
    """A past team meeting with final, amended minutes (items in several categories, one
    kept within social services) and an upcoming network meeting with a draft. Returns the
    past meeting's id."""
    school, police, _leisure = partners
    guardian = consents.consent_overview(session, owner, case_id=case.id).guardians[0].id
    came = [
        AttendeeInput(kind="user", user_id=school.user_id, status="came"),
        AttendeeInput(kind="user", user_id=police.user_id, status="came"),
        AttendeeInput(kind="young_person", status="came"),
        AttendeeInput(kind="guardian", guardian_id=guardian, status="came"),
    ]
    past = meetings.schedule_meeting(
        session,
        owner,
        case_id=case.id,
        data=MeetingInput(
            kind="team",
            starts_at=_local(now - timedelta(days=7), 14),
            ends_at=_local(now - timedelta(days=7), 15),
            place="Socialkontoret Demokommun, rum Ekbacken (demo)",
            attendees=came,
        ),
    )

    def item(actor: Actor, heading: str, text: str, category: str, **kw: object) -> uuid.UUID:
        return meetings.add_item(
            session,
            actor,
            case_id=case.id,
            meeting_id=past.id,
            data=ItemInput(heading=heading, text=text, category=category, **kw),  # type: ignore[arg-type]
        ).id

    item(owner, "Nuläge", "Den unga och vårdnadshavaren berättade om veckan (demo).", "basic")
    attendance = item(
        school,
        "Skolnärvaro",
        "Närvaron har ökat till 70 % de senaste två veckorna (demo).",
        "school",
    )
    item(police, "Iakttagelser", "Inga nya händelser i området sedan förra mötet (demo).", "police")
    item(
        owner,
        "Beslut: fritidsaktivitet",
        "Fritidsgården erbjuder en plats i fotbollsgruppen.",
        "leisure",
        decision=True,
    )
    item(
        owner,
        "Socialtjänstens anteckning",
        "Intern bedömning inför nästa möte (demo).",
        "social",
        visibility="own_agency",
    )
    meetings.finalise(
        session, owner, case_id=case.id, meeting_id=past.id, expected_version=past.version
    )
    meetings.amend_item(
        session,
        school,
        case_id=case.id,
        meeting_id=past.id,
        item_id=attendance,
        data=ItemInput(
            heading="Rättelse: skolnärvaro",
            text="Närvaron var 65 %, inte 70 % (demo).",
            category="school",
        ),
    )
    upcoming = meetings.schedule_meeting(
        session,
        owner,
        case_id=case.id,
        data=MeetingInput(
            kind="network",
            starts_at=_local(now + timedelta(days=3), 9),
            ends_at=_local(now + timedelta(days=3), 10),
            place="Ekbackens skola (demo), konferensrummet",
            attendees=[
                AttendeeInput(kind="user", user_id=school.user_id),
                AttendeeInput(kind="user", user_id=police.user_id),
                AttendeeInput(kind="young_person"),
                AttendeeInput(kind="guardian", guardian_id=guardian),
            ],
        ),
    )
    meetings.add_item(
        session,
        owner,
        case_id=case.id,
        meeting_id=upcoming.id,
        data=ItemInput(
            heading="Dagordning",
            text="Uppföljning av skolnärvaro och fritid (demo).",
            category="plan",
        ),
    )
    return past.id


# Issue 13: each active case's path in the cylinder model, as (level, days ago) with the last
# made at the past team meeting. Some move up, some down. The partners' consents do not cover
# `risk` (SHARED_CATEGORIES), so only social services see these: the demo shows the gating.
ASSESSMENT_PATHS: list[list[tuple[str, int]]] = [
    [("D", 150), ("C", 110), ("B", 70), ("C", 35), ("D", 7)],
    [("0", 90), ("D", 7)],
    [("B", 120), ("C", 60), ("D", 7)],
    [("D", 100), ("D", 50), ("C", 7)],
]
ASSESSMENT_RATIONALES = {
    "0": "Inget känt riskbeteende; oron gäller skolfrånvaro (demo).",
    "D": "Ses med äldre kamrater i centrum på kvällarna; går i skolan (demo).",
    "C": "Misstänkt för snatteri tillsammans med äldre kamrater (demo).",
    "B": "Upprepade brott och inflytande över yngre i området (demo).",
}


def _assessments(
    session: Session,
    owner: Actor,
    case: Case,
    partners: list[Actor],
    number: int,
    meeting_id: uuid.UUID,
    now: date,
) -> None:
    school, police, _leisure = partners
    catalogue = assessments.current_factors(session, owner)
    risk = [f.factor_id for f in catalogue if f.kind == "risk"]
    protective = [f.factor_id for f in catalogue if f.kind == "protective"]
    path = ASSESSMENT_PATHS[number % len(ASSESSMENT_PATHS)]
    for step, (level, days_ago) in enumerate(path):
        at_meeting = step == len(path) - 1
        assessments.record_assessment(
            session,
            owner,
            case_id=case.id,
            level_code=level,
            factor_ids=[*risk[step : step + 3], *protective[number % 3 : number % 3 + 2]],
            rationale=ASSESSMENT_RATIONALES[level],
            participant_user_ids=[owner.user_id, school.user_id, police.user_id],
            meeting_id=meeting_id if at_meeting else None,
            assessed_on=None if at_meeting else now - timedelta(days=days_ago),
            today=now,
        )


def _demo_referrals(
    session: Session,
    actors: dict[str, Actor],
    *,
    index: BlindIndex,
    unit_id: uuid.UUID,
    rng: random.Random,
    closed: list[tuple[str, date]],
) -> None:
    """Referrals (issue 13) in every status: a duplicate pair (school and police about the
    same young person, received), one under assessment, two taken up (a new SSPF case for a
    young person whose earlier case is closed, a new SIG case), one not taken up, and two
    young people on the SIG waiting list, police capacity being full."""
    from domain.referrals import service as referrals  # issue 13: kept apart from the above
    from domain.referrals.service import DecisionInput, DecisionResult, ReferralInput

    grounds = [g.id for g in referrals.active_grounds(session, actors["skola"])]
    now = today()

    def refer(sender: str, age: int, programme: str, picks: list[int]) -> uuid.UUID:
        born = now - timedelta(days=365 * age + rng.randrange(30, 300))
        return refer_pnr(sender, synthetic_personnummer(rng, born, Gender.MALE), programme, picks)

    def refer_pnr(sender: str, pnr: str, programme: str, picks: list[int]) -> uuid.UUID:
        made = referrals.raise_referral(
            session,
            actors[sender],
            index=index,
            data=ReferralInput(
                programme=programme,
                ground_ids=[grounds[i] for i in picks],
                personnummer=pnr,
                text="Påhittad oro för demon.",
                receiving_agency_id=unit_id,
            ),
        )
        return made.id

    def decide(referral_id: uuid.UUID, decision: str, **extra: object) -> DecisionResult:
        return referrals.decide(
            session,
            actors["handlaggare"],
            index=index,
            referral_id=referral_id,
            data=DecisionInput(decision=decision, version=1, **extra),  # type: ignore[arg-type]
        )

    shared = synthetic_personnummer(rng, now - timedelta(days=365 * 14 + 40), Gender.FEMALE)
    refer_pnr("skola", shared, "SSPF", [0, 7])
    refer_pnr("polis", shared, "assess", [2, 6])
    decide(refer("skola2", 13, "SSPF", [0]), "start_assessment")
    again = next((pnr for pnr, born in closed if 12 * 366 < (now - born).days < 17 * 365), None)
    if again is not None:
        decide(refer_pnr("skola", again, "SSPF", [0, 4]), "open_case")
    decide(refer("fritid", 12, "assess", [7]), "decline", reason="Påhittat skäl (demo).")
    # A SIG case opened from the police's referral, the demo police officer on its team as on
    # the other open SIG cases: police capacity (two per contact person) is full, past it in
    # fact (opening past capacity is allowed and warned), so the next two SIG referrals wait.
    taken = refer("polis", 15, "SIG", [3, 10])
    sig_case = decide(
        taken,
        "open_case",
        crime_criteria_met=True,
        first_name="Sigge",
        last_name="Påhittadsson",
        gender=Gender.MALE.value,
    ).case
    if sig_case is not None:
        teams.add_member(
            session, actors["handlaggare"], case_id=sig_case.id, user_id=actors["polis"].user_id
        )
    for age in (16, 17):
        decide(refer("polis", age, "SIG", [3, 10]), "wait_list", crime_criteria_met=True)
