"""A synthetic city for the follow-up benchmark (bench_followup.py), built fast with Core bulk
inserts on a migrated database: young people with guardians, cases of SSPF and SIG over
2023–2026 with their state changes, meetings with attendance, consent records and
withdrawals, cylinder assessments, commitments, referrals and a waiting list.

At `cases=50_000`: ~40,000 young people, 50,000 cases, 500,000 meetings, 150,000 consent
records, 100,000 assessments, 100,000 commitments, ~51,000 referrals. Everything scales with
`cases`. The data are random but seeded, so two builds of the same size are the same city
(ids and ciphertexts aside).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, event, insert, select
from sqlalchemy.engine import Connection, Engine

from common.db import make_engine, seal
from consent.models import ConsentRecord, ConsentWithdrawal
from domain.agencies.models import Agency
from domain.assessments.models import Assessment, CylinderLevel
from domain.cases.models import Case, CaseStateChange
from domain.meetings.models import Meeting, MeetingAttendee
from domain.people.models import Guardian, YoungPerson
from domain.plans.models import PlanCommitment
from domain.referrals.models import Referral
from domain.users.models import User

CHUNK = 5_000
SOCIAL_UNIT = "Socialtjänsten Väster"  # owns every case of the city
AREAS = (
    "Bäckby",
    "Hammarby",
    "Råby",
    "Skiljebo",
    "Vallby",
    "Viksäng",
    "Centrum",
    "Öster Mälarstrand",
)
SCHOOLS = tuple(f"Skola {letter}" for letter in "ABCDEFGHIJKL")
FIRST = datetime(2023, 1, 1, tzinfo=UTC)
AS_OF = datetime(2026, 12, 1, tzinfo=UTC)  # "now" of the city: nothing happens after it
MEETING_KINDS = (
    ("start", 10),
    ("network", 30),
    ("team", 30),
    ("follow_up", 20),
    ("emergency_stop", 5),
    ("worry_talk", 5),
)
OUTCOMES = (
    ("goals_met", 45),
    ("consent_withdrawn", 10),
    ("moved", 15),
    ("age_limit", 10),
    ("transferred", 15),
    ("other", 5),
)


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


@dataclass
class CityFacts:
    """What was built, for the report."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    school_ids: list[tuple[str, str]] = field(default_factory=list)  # (id as text, name)


class _Writer:
    """Chunked executemany per table. When one table has a chunk, every table is written,
    in `order` (parents first), so no row is written before the rows it refers to."""

    def __init__(
        self, connection: Connection, facts: CityFacts, order: tuple[type[Any], ...]
    ) -> None:
        self.connection = connection
        self.facts = facts
        self.order = order
        self.pending: dict[str, tuple[Table, list[dict[str, Any]]]] = {}

    def add(self, table: Table, row: dict[str, Any]) -> None:
        _, rows = self.pending.setdefault(table.name, (table, []))
        rows.append(row)
        if len(rows) >= CHUNK:
            self.flush_all()

    def flush(self, name: str) -> None:
        table, rows = self.pending.get(name, (None, []))
        if table is None or not rows:
            return
        self.connection.execute(insert(table), rows)
        self.facts.rows[name] = self.facts.rows.get(name, 0) + len(rows)
        rows.clear()

    def flush_all(self) -> None:
        for model in self.order:
            self.flush(_table(model).name)


def _bulk_engine(url: str) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":

        def fast_load(dbapi_connection: Any, _record: object) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB, for the bulk load only
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()

        event.listen(engine, "connect", fast_load)
    return engine


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> Callable[[], str]:
    values = [value for value, _ in choices]
    weights = [weight for _, weight in choices]
    return lambda: rng.choices(values, weights)[0]


def _uuids(rng: random.Random) -> Iterator[uuid.UUID]:
    while True:
        yield uuid.UUID(int=rng.getrandbits(128), version=4)


def build(url: str, cases: int, seed: int = 1414) -> dict[str, Any]:
    """Fill the migrated database at `url` with a city of `cases` cases; returns the row
    counts per table and the seconds it took. The field key ring must be installed."""
    started = time.perf_counter()
    rng = random.Random(seed)
    ids = _uuids(rng)
    facts = CityFacts()
    engine = _bulk_engine(url)
    scale = cases / 50_000
    order: tuple[type[Any], ...] = (
        Agency,
        User,
        YoungPerson,
        Guardian,
        Case,
        CaseStateChange,
        ConsentRecord,
        ConsentWithdrawal,
        Meeting,
        MeetingAttendee,
        Assessment,
        PlanCommitment,
        Referral,
    )
    with engine.begin() as connection:
        levels = [
            (row.id, row.code, row.rank, row.wording)
            for row in connection.execute(
                select(CylinderLevel).where(CylinderLevel.is_default)  # type: ignore[arg-type]
            )
        ]
        w = _Writer(connection, facts, order)

        # Units and staff ------------------------------------------------------------------
        def agency(name: str, kind: str, area: str | None = None) -> uuid.UUID:
            agency_id = next(ids)
            w.add(
                _table(Agency),
                {
                    "id": agency_id,
                    "name": name,
                    "kind": kind,
                    "area": area,
                    "created_at": FIRST,
                    "version": 1,
                },
            )
            return agency_id

        social = agency(SOCIAL_UNIT, "social_services")
        schools = [agency(name, "school") for name in SCHOOLS]
        facts.school_ids = [(str(s), name) for s, name in zip(schools, SCHOOLS, strict=True)]
        by_kind = {
            "social_services": [social],
            "school": schools,
            "police": [agency("Polisen Västerås", "police")],
            "leisure": [agency("Fritidsgården", "leisure")],
            "other": [agency("Föreningen", "other")],
        }
        users = []
        for n in range(max(4, round(40 * scale))):
            user_id = next(ids)
            users.append(user_id)
            w.add(
                _table(User),
                {
                    "id": user_id,
                    "agency_id": social,
                    "username": f"bench{n}",
                    "display_name": f"Handläggare {n}",
                    "roles": ["social_worker"],
                    "programmes": [],
                    "password_hash": None,
                    "is_active": True,
                    "created_at": FIRST,
                    "disabled_by_federation": False,
                    "version": 1,
                },
            )
        w.flush_all()

        # Young people and guardians -------------------------------------------------------
        people: list[tuple[uuid.UUID, date, list[uuid.UUID], uuid.UUID | None]] = []
        person_count = round(cases * 0.8)
        gender = _weighted(rng, (("female", 40), ("male", 52), ("other", 3), ("unknown", 5)))
        for n in range(person_count):
            person_id = next(ids)
            born = date(2004, 1, 1) + timedelta(days=rng.randrange(12 * 365))
            area = rng.choice(AREAS) if rng.random() < 0.95 else None
            school = rng.choice(schools) if rng.random() < 0.85 else None
            w.add(
                _table(YoungPerson),
                {
                    "id": person_id,
                    "personnummer_index": f"idx-{n}",
                    "personnummer": seal(
                        "young_person.personnummer", person_id, f"{born:%Y%m%d}-{n % 10000:04d}"
                    ),
                    "is_coordination_number": False,
                    "first_name": seal("young_person.first_name", person_id, "Testa"),
                    "last_name": seal("young_person.last_name", person_id, "Påhittadsson"),
                    "birth_date": born,
                    "gender": gender(),
                    "home_area": seal("young_person.home_area", person_id, area) if area else None,
                    "school_agency_id": school,
                    "protected_identity": False,
                    "address": None,
                    "owner_agency_id": social,
                    "registered_by": users[n % len(users)],
                    "created_at": FIRST,
                    "version": 1,
                },
            )
            guardians = []
            for _ in range(1 if rng.random() < 0.5 else 2):
                guardian_id = next(ids)
                guardians.append(guardian_id)
                w.add(
                    _table(Guardian),
                    {
                        "id": guardian_id,
                        "young_person_id": person_id,
                        "name": seal("guardian.name", guardian_id, "Förälder Påhittad"),
                        "has_custody": True,
                        "created_at": FIRST,
                    },
                )
            people.append((person_id, born, guardians, school))
        w.flush_all()

        # Cases and everything on them ------------------------------------------------------
        outcome = _weighted(rng, OUTCOMES)
        meeting_kind = _weighted(rng, MEETING_KINDS)
        span_days = (AS_OF - FIRST).days - 30
        for n in range(cases):
            person_id, born, guardians, school = (
                people[n] if n < person_count else rng.choice(people)
            )
            case_id = next(ids)
            user = users[n % len(users)]
            programme = "SSPF" if rng.random() < 0.6 else "SIG"
            opened = FIRST + timedelta(days=rng.randrange(span_days), hours=rng.randrange(8, 17))
            pending = opened + timedelta(days=rng.randrange(1, 8))
            fate = rng.random()
            active: datetime | None = None
            closed: datetime | None = None
            changes: list[tuple[str | None, str, str, str | None, datetime]] = [
                ("referred", "consent_pending", "manual", None, pending)
            ]
            if fate < 0.85:  # consent complete: the case becomes active
                active = pending + timedelta(days=rng.randrange(2, 40))
                changes.append(("consent_pending", "active", "consent_complete", None, active))
                closed = active + timedelta(days=rng.randrange(60, 800))
                state = "active"
                if rng.random() < 0.05:
                    state = "paused"
                    changes.append(
                        ("active", "paused", "manual", None, active + timedelta(days=30))
                    )
            elif fate < 0.95:  # refused: declined, then closed
                declined = pending + timedelta(days=rng.randrange(2, 30))
                changes.append(("consent_pending", "declined", "consent_refused", None, declined))
                closed = declined + timedelta(days=rng.randrange(5, 60))
                state = "declined"
            else:
                state = "consent_pending"
            reached = [c for c in changes if c[4] < AS_OF]
            if closed is not None and closed < AS_OF:
                result = outcome() if state != "declined" else "other"
                reached.append((state, "closed", "manual", result, closed))
                state, case_outcome = "closed", result
            else:
                closed, case_outcome = None, None
                if reached[-1][1] != state:  # a move still in the future: not yet made
                    state = reached[-1][1]
                    if state != "active":
                        active = None
            if active is not None and active >= AS_OF:
                active = None
            w.add(
                _table(Case),
                {
                    "id": case_id,
                    "reference": f"{programme}-{n:07d}",
                    "programme": programme,
                    "state": state,
                    "outcome": case_outcome,
                    "state_reason": "opened",
                    "young_person_id": person_id,
                    "owner_agency_id": social,
                    "owner_user_id": user,
                    "opened_at": opened,
                    "closed_at": closed,
                    "activated_at": active,  # its change to active below, if it was made
                    "updated_at": opened,
                    "version": 1,
                },
            )
            for from_state, to_state, reason, change_outcome, at in [
                (None, "referred", "opened", None, opened),
                *reached,
            ]:
                w.add(
                    _table(CaseStateChange),
                    {
                        "id": next(ids),
                        "case_id": case_id,
                        "from_state": from_state,
                        "to_state": to_state,
                        "outcome": change_outcome,
                        "reason": reason,
                        "changed_by": None if reason.startswith("consent") else user,
                        "changed_at": at,
                    },
                )
            window_end = closed or AS_OF
            decided = active or pending
            consented = [social, *([school] if school else []), by_kind["police"][0]]
            _consents(w, rng, ids, case_id, user, guardians, consented, decided, fate, window_end)
            if active is not None:
                _activity(
                    w,
                    rng,
                    ids,
                    levels,
                    by_kind,
                    meeting_kind,
                    case_id,
                    person_id,
                    user,
                    guardians,
                    active,
                    window_end,
                )
            _referral(
                w,
                rng,
                ids,
                n,
                social,
                user,
                programme,
                case_id,
                born,
                opened,
                pending,
                active,
                person_count,
            )
        # The waiting list: referrals not (yet) taken up, some still waiting at AS_OF.
        for _ in range(round(cases * 0.03)):
            since = FIRST + timedelta(days=rng.randrange(span_days))
            left = since + timedelta(days=rng.randrange(5, 200))
            still_waiting = left >= AS_OF or rng.random() < 0.3
            registered = rng.random() < 0.5
            person = rng.randrange(person_count)
            referral_id = next(ids)
            row = {
                **_referral_base(referral_id, users[0], social, "SIG", since),
                "personnummer_index": f"idx-{person}" if registered else None,
                "personnummer": seal("referral.personnummer", referral_id, "20100101-0000")
                if registered
                else None,
                "name": None if registered else seal("referral.name", referral_id, "Okänd"),
                "birth_year": None if registered else rng.randrange(2008, 2014),
                "status": "waiting" if still_waiting else "taken_up",
                "decision": "wait_list",
                # a referral that left the list was decided when it left
                "decided_at": since if still_waiting else left,
                "days_to_decision": rng.randrange(1, 20),
                "waiting_since": since,
                "updated_at": since if still_waiting else left,
            }
            w.add(_table(Referral), row)
        w.flush_all()
    engine.dispose()
    facts.seconds = time.perf_counter() - started
    return {"rows": facts.rows, "seconds": round(facts.seconds, 1), "schools": facts.school_ids}


def _consents(
    w: _Writer,
    rng: random.Random,
    ids: Iterator[uuid.UUID],
    case_id: uuid.UUID,
    user: uuid.UUID,
    guardians: list[uuid.UUID],
    agencies: list[uuid.UUID],
    decided: datetime,
    fate: float,
    window_end: datetime,
) -> None:
    """Three records per case: the young person and the guardians (a lone guardian signs
    twice, a renewal), refused when the case was declined; some withdrawn later. Each
    shares with `agencies`: the social unit, the young person's school and the police."""
    signers: list[tuple[str, uuid.UUID | None]] = [("young_person", None)]
    signers += [("guardian", g) for g in guardians]
    while len(signers) < 3:
        signers.append(("guardian", guardians[0]))
    for number, (kind, guardian) in enumerate(signers):
        record_id = next(ids)
        signed = (decided - timedelta(days=rng.randrange(0, 3) + 200 * (number == 2))).date()
        refused = 0.85 <= fate < 0.95 and number == 0
        w.add(
            _table(ConsentRecord),
            {
                "id": record_id,
                "case_id": case_id,
                "signer_kind": kind,
                "guardian_id": guardian,
                "decision": "refused" if refused else "given",
                "signed_on": signed,
                "valid_from": signed,
                "valid_until": None,
                "agencies": [str(agency) for agency in agencies],
                "categories": ["basic", "school", "social", "police"],
                "method": "paper_form",
                "document_sha256": None,
                "recorded_by": user,
                "recorded_at": datetime(signed.year, signed.month, signed.day, 12, tzinfo=UTC),
            },
        )
        if not refused and rng.random() < 0.04:
            withdrawn = decided + timedelta(days=rng.randrange(10, 400))
            if withdrawn < min(window_end, AS_OF):
                w.add(
                    _table(ConsentWithdrawal),
                    {
                        "id": next(ids),
                        "consent_id": record_id,
                        "withdrawn_at": withdrawn,
                        "recorded_by": user,
                        "recorded_at": withdrawn,
                    },
                )


def _activity(
    w: _Writer,
    rng: random.Random,
    ids: Iterator[uuid.UUID],
    levels: list[tuple[uuid.UUID, str, int, str]],
    by_kind: dict[str, list[uuid.UUID]],
    meeting_kind: Callable[[], str],
    case_id: uuid.UUID,
    person_id: uuid.UUID,
    user: uuid.UUID,
    guardians: list[uuid.UUID],
    active: datetime,
    window_end: datetime,
) -> None:
    """An active case's meetings (11.8 on average, 500,000 at 50,000 cases: only ~85 % of
    cases become active), 2.35 assessments and 2.35 commitments."""
    days = max(1, (min(window_end, AS_OF) - active).days)
    for _ in range(rng.randrange(4, 20)):
        meeting_id = next(ids)
        starts = active + timedelta(days=rng.randrange(days), hours=rng.randrange(0, 6))
        past = starts + timedelta(hours=2) < AS_OF
        final = past and rng.random() < 0.7
        cancelled = rng.random() < 0.05
        meeting: dict[str, Any] = {
            "id": meeting_id,
            "case_id": case_id,
            "kind": meeting_kind(),
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=1),
            "place": seal("meeting.place", meeting_id, "Familjecentralen"),
            "chair_user_id": user,
            "status": "cancelled" if cancelled else "scheduled",
            "minutes_state": "final" if final else "draft",
            "finalised_at": starts + timedelta(hours=2) if final else None,
            "finalised_by": user if final else None,
            "created_by": user,
            "created_at": starts - timedelta(days=7),
            "version": 1,
            "sequence": 0,
            "attendance_recorded": False,
            "young_person_came": False,
            "guardians_came": 0,
        }
        attendance: list[dict[str, Any]] = []
        if past and not cancelled and rng.random() < 0.45:  # attendance recorded
            attendees: list[tuple[str, uuid.UUID | None, uuid.UUID | None]] = [
                ("user", user, None),
                ("young_person", None, None),
                *(("guardian", None, g) for g in guardians),
            ]
            for kind, user_id, guardian_id in attendees:
                attendance.append(
                    {
                        "id": next(ids),
                        "meeting_id": meeting_id,
                        "kind": kind,
                        "user_id": user_id,
                        "guardian_id": guardian_id,
                        "name": None,
                        "role_text": None,
                        "status": "came" if rng.random() < 0.75 else "absent",
                    }
                )
            came = [a["kind"] for a in attendance if a["status"] == "came"]
            meeting["attendance_recorded"] = True  # every attendee came or was absent
            meeting["young_person_came"] = "young_person" in came
            meeting["guardians_came"] = came.count("guardian")
        w.add(_table(Meeting), meeting)
        for attendee in attendance:
            w.add(_table(MeetingAttendee), attendee)
    rank = rng.randrange(1, len(levels))
    for number in range(rng.randrange(1, 5)):
        assessment_id = next(ids)
        level_id, code, level_rank, wording = next(level for level in levels if level[2] == rank)
        assessed = (active + timedelta(days=min(days - 1, 60 * number))).date()
        recorded = datetime(assessed.year, assessed.month, assessed.day, 15, tzinfo=UTC)
        if recorded >= AS_OF:
            break
        w.add(
            _table(Assessment),
            {
                "id": assessment_id,
                "case_id": case_id,
                "level_id": level_id,
                "level_code": code,
                "level_rank": level_rank,
                "level_wording": wording,
                "factors": seal("assessment.factors", assessment_id, "[]"),
                "rationale": seal("assessment.rationale", assessment_id, "Bedömning i teamet."),
                "participants": seal("assessment.participants", assessment_id, "[]"),
                "meeting_id": None,
                "assessed_on": assessed,
                "category": "risk",
                "visibility": "team",
                "author_agency_id": by_kind["social_services"][0],
                "recorded_by": user,
                "recorded_at": recorded,
            },
        )
        rank = max(1, min(len(levels) - 1, rank + rng.choice((-1, -1, 0, 0, 1))))
    for _ in range(rng.randrange(1, 5)):
        commitment_id = next(ids)
        kind = rng.choice(("social_services", "school", "police", "leisure", "other"))
        created = active + timedelta(days=rng.randrange(days))
        due = (created + timedelta(days=rng.randrange(14, 120))).date()
        done_at = created + timedelta(days=rng.randrange(5, 150))
        done = done_at < AS_OF and rng.random() < 0.7
        status = "done" if done else "cancelled" if rng.random() < 0.1 else "open"
        w.add(
            _table(PlanCommitment),
            {
                "id": commitment_id,
                "case_id": case_id,
                "what": seal("plan_commitment.what", commitment_id, "Stöd med läxor"),
                "agency_id": rng.choice(by_kind[kind]),
                "person_user_id": None,
                "due_on": due,
                "status": status,
                "comment": None,
                "decided_at_meeting_id": None,
                "category": "plan",
                "visibility": "team",
                "created_by": user,
                "created_at": created,
                "updated_at": created,
                "completed_at": done_at if done else None,
                "completed_by": user if done else None,
                "version": 1,
            },
        )


def _referral_base(
    referral_id: uuid.UUID, user: uuid.UUID, social: uuid.UUID, programme: str, at: datetime
) -> dict[str, Any]:
    return {
        "id": referral_id,
        "sender_user_id": user,
        "sender_agency_id": social,
        "receiving_agency_id": social,
        "note": None,
        "programme": programme,
        "case_programme": None,
        "ground_ids": [],
        "text": None,
        "decline_reason": None,
        "crime_criteria_met": None,
        "crime_criteria_confirmed_by": None,
        "decided_by": user,
        "first_meeting_at": None,
        "days_to_first_meeting": None,
        "waiting_since": None,
        "case_id": None,
        "created_at": at,
        "version": 1,
    }


def _referral(
    w: _Writer,
    rng: random.Random,
    ids: Iterator[uuid.UUID],
    n: int,
    social: uuid.UUID,
    user: uuid.UUID,
    programme: str,
    case_id: uuid.UUID,
    born: date,
    opened: datetime,
    decided: datetime,
    active: datetime | None,
    person_count: int,
) -> None:
    """The referral that opened the case: decided when the case went to consent, its first
    meeting when the case became active."""
    referral_id = next(ids)
    created = opened - timedelta(days=rng.randrange(1, 30))
    person = n if n < person_count else rng.randrange(person_count)
    w.add(
        _table(Referral),
        {
            **_referral_base(referral_id, user, social, rng.choice((programme, "assess")), created),
            "personnummer_index": f"idx-{person}",
            "personnummer": seal("referral.personnummer", referral_id, f"{born:%Y%m%d}-0000"),
            "name": None,
            "birth_year": None,
            "case_programme": programme,
            "status": "taken_up",
            "decision": "open_case",
            "decided_at": decided,
            "days_to_decision": (decided - created).days,
            "first_meeting_at": active,
            "days_to_first_meeting": (active - created).days if active else None,
            "case_id": case_id,
            "updated_at": decided,
        },
    )
