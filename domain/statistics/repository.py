"""`StatisticsFacts`: the only code that reads case data for aggregates (DESIGN §7).

A named system repository: every statement is a Core select of the few columns the indicators
need, marked `system(..., "statistics: ...")`, and returns plain tuples, streamed. Nothing here
is shown to anyone: the service turns these facts into microcell counts and suppresses them.
Where the database can aggregate (meetings, assessments), it does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, or_, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Session, col

from common.db import Sealed
from consent.guard import system
from consent.models import ConsentRecord, ConsentWithdrawal
from domain.agencies.models import Agency
from domain.assessments.models import Assessment
from domain.cases.models import Case
from domain.meetings.models import Meeting
from domain.people.models import YoungPerson
from domain.plans.models import PlanCommitment
from domain.referrals.models import Referral

_BATCH = 5000

# Ids that only link facts to each other (cases, young people) are read as text, the
# database's own spelling: building a UUID for each of a city's million fact rows costs more
# than the rest of the reading. They are never shown and never compared with a UUID.
Key = str

# (young person key, birth date, gender, home area (sealed) or None, school agency id or None)
PersonFact = tuple[Key, date, str, Sealed | None, uuid.UUID | None]
_HOME_AREA = "young_person.home_area"  # the column's encryption context
# (case key, young person key, programme, state, outcome, opened_at, closed_at, active at)
CaseFact = tuple[Key, Key, str, str, str | None, datetime, datetime | None, datetime | None]


def _key(column: Any) -> ColumnElement[str]:
    return cast(column, String)


class _Scanned(ColumnElement[Any]):
    """A column SQLite must not search an index of: rendered `+column` there (SQLite's way of
    saying so), the column itself elsewhere. These reads take nearly every row of a table,
    and with planner statistics SQLite took the cases through an index on their unit and
    opening date (then each row by its key) and the commitments agency by agency: 0.33 and
    0.13 s against 0.22 and 0.07 s for a plain scan at 50,000 cases."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: Any) -> None:  # a model's column attribute
        self.column: ColumnElement[Any] = column.expression
        self.type = self.column.type


@compiles(_Scanned)
def _scanned(element: _Scanned, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(_Scanned, "sqlite")
def _scanned_on_sqlite(element: _Scanned, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.column, **kw)}"


class StatisticsFacts:
    """Reads for the statistics service, as the system job "statistics"."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _stream(self, statement: Executable, because: str) -> Iterator[Any]:
        marked = system(statement, f"statistics: {because}").execution_options(yield_per=_BATCH)
        for row in self._session.connection().execute(marked):
            yield tuple(row)

    def people(self) -> Iterator[PersonFact]:
        """Every young person with the attributes the breakdowns use. The home area comes as
        stored, opened when first used (`Sealed`): a report places only the people its facts
        reach, and at 50,000 cases a third of the 40,000 home areas are never needed."""
        statement = select(
            _key(YoungPerson.id),
            col(YoungPerson.birth_date),
            col(YoungPerson.gender),
            type_coerce(col(YoungPerson.home_area), String),  # as stored: not opened here
            _key(YoungPerson.school_agency_id),
        )
        schools: dict[str, uuid.UUID] = {}  # few schools: each spelling converted once
        for pid, birth, gender, area, school in self._stream(statement, "breakdown attributes"):
            if school is not None:
                school = schools.get(school) or schools.setdefault(school, uuid.UUID(school))
            yield (
                pid,
                birth,
                gender,
                None if area is None else Sealed(_HOME_AREA, area, pid),
                school,
            )

    def cases(self, until: datetime) -> Iterator[CaseFact]:
        """Cases opened before `until`, with when each first became active (if it did)."""
        statement = select(
            _key(Case.id),
            _key(Case.young_person_id),
            col(Case.programme),
            col(Case.state),
            col(Case.outcome),
            col(Case.opened_at),
            col(Case.closed_at),
            col(Case.activated_at),
        ).where(_Scanned(Case.opened_at) < until)
        return self._stream(statement, "case lifecycle dates")

    def consents(
        self, start: date, end: date, start_at: datetime, end_at: datetime
    ) -> Iterator[tuple[Key, str, str, bool, bool]]:
        """(case key, signer kind, decision, signed in the period, withdrawn in the period)
        for the consent records signed or withdrawn in the period."""
        signed = and_(col(ConsentRecord.signed_on) >= start, col(ConsentRecord.signed_on) < end)
        withdrawn = and_(
            col(ConsentWithdrawal.withdrawn_at) >= start_at,
            col(ConsentWithdrawal.withdrawn_at) < end_at,
        )
        statement = (
            select(
                _key(ConsentRecord.case_id),
                col(ConsentRecord.signer_kind),
                col(ConsentRecord.decision),
                case((signed, literal(True)), else_=literal(False)),
                case((withdrawn, literal(True)), else_=literal(False)),
            )
            .outerjoin(
                ConsentWithdrawal, col(ConsentWithdrawal.consent_id) == col(ConsentRecord.id)
            )
            .where(or_(signed, withdrawn))
        )
        return self._stream(statement, "consent decisions and withdrawals")

    def meetings(
        self, start_at: datetime, end_at: datetime
    ) -> Iterator[tuple[Key, str, int, int, int]]:
        """Per case and meeting kind, the meetings held in the period: (case key, kind,
        meetings held, guardians who came, meetings the young person came to). Held = not
        cancelled, and final minutes or attendance recorded (someone marked came or absent).
        Guardians are counted at emergency-stop meetings only, the one indicator that
        reports them (0 for the other kinds). Each meeting keeps the summary of its
        attendance that this needs, so the period index answers it alone."""
        guardians = case(
            (col(Meeting.kind) == "emergency_stop", col(Meeting.guardians_came)), else_=0
        )
        young_person = case((col(Meeting.young_person_came), 1), else_=0)
        statement = (
            select(
                _key(Meeting.case_id),
                col(Meeting.kind),
                func.count(),
                func.sum(guardians),
                func.sum(young_person),
            )
            .where(
                col(Meeting.starts_at) >= start_at,
                col(Meeting.starts_at) < end_at,
                col(Meeting.status) != "cancelled",
                or_(col(Meeting.minutes_state) == "final", col(Meeting.attendance_recorded)),
            )
            .group_by(col(Meeting.case_id), col(Meeting.kind))
        )
        return self._stream(statement, "meetings held per case and kind")

    def assessments(self, before: date) -> Iterator[tuple[Key, int, int]]:
        """Per case with at least two assessments before `before`: (case key, rank of the
        first, rank of the latest), by assessment date then recording time."""
        other = aliased(Assessment)

        def rank(*order: Any) -> Any:
            return (
                select(col(other.level_rank))
                .where(
                    col(other.case_id) == col(Assessment.case_id),
                    col(other.assessed_on) < before,
                )
                .order_by(*order)
                .limit(1)
                .scalar_subquery()
            )

        first = rank(col(other.assessed_on), col(other.recorded_at))
        latest = rank(col(other.assessed_on).desc(), col(other.recorded_at).desc())
        statement = (
            select(_key(Assessment.case_id), first, latest)
            .where(col(Assessment.assessed_on) < before)
            .group_by(col(Assessment.case_id))
            .having(func.count() >= 2)
        )
        return self._stream(statement, "first and latest cylinder level per case")

    def commitments(
        self, start_at: datetime, end_at: datetime, end: date
    ) -> Iterator[tuple[Key, str, bool, bool]]:
        """(case key, agency kind, done in the period, overdue at the period's end) for the
        commitments that are either. Overdue: due before the end, not done by then, and not
        cancelled (a cancellation's date is not kept, so a cancelled one never counts)."""
        done = and_(
            col(PlanCommitment.completed_at) >= start_at, col(PlanCommitment.completed_at) < end_at
        )
        overdue = and_(
            col(PlanCommitment.due_on) < end,
            col(PlanCommitment.status) != "cancelled",
            or_(
                col(PlanCommitment.completed_at).is_(None),
                col(PlanCommitment.completed_at) >= end_at,
            ),
        )
        statement = (
            select(
                _key(PlanCommitment.case_id),
                col(Agency.kind),
                case((done, literal(True)), else_=literal(False)),
                case((overdue, literal(True)), else_=literal(False)),
            )
            .join(Agency, col(Agency.id) == _Scanned(PlanCommitment.agency_id))
            .where(or_(done, overdue))
        )
        return self._stream(statement, "commitments done or overdue")

    def referrals(
        self, start_at: datetime, end_at: datetime
    ) -> Iterator[
        tuple[
            str,
            str | None,
            Key | None,
            datetime,
            datetime | None,
            int | None,
            datetime | None,
            int | None,
            datetime | None,
            str,
            int | None,
            str | None,
        ]
    ]:
        """Referrals that touch the period: (wished programme, chosen programme, young person
        key if registered, created_at, decided_at, days to decision, first meeting at, days to
        first meeting, waiting since, status, birth year, personnummer) — the last two for the
        age of a young person not yet registered."""
        touches = or_(
            and_(col(Referral.decided_at) >= start_at, col(Referral.decided_at) < end_at),
            and_(
                col(Referral.first_meeting_at) >= start_at, col(Referral.first_meeting_at) < end_at
            ),
            and_(
                col(Referral.waiting_since) < end_at,
                or_(col(Referral.status) == "waiting", col(Referral.decided_at) >= start_at),
            ),
        )
        statement = (
            select(
                col(Referral.programme),
                col(Referral.case_programme),
                _key(YoungPerson.id),
                col(Referral.created_at),
                col(Referral.decided_at),
                col(Referral.days_to_decision),
                col(Referral.first_meeting_at),
                col(Referral.days_to_first_meeting),
                col(Referral.waiting_since),
                col(Referral.status),
                col(Referral.birth_year),
                col(Referral.personnummer),
            )
            .outerjoin(
                YoungPerson,
                col(YoungPerson.personnummer_index) == col(Referral.personnummer_index),
            )
            .where(touches)
        )
        return self._stream(statement, "referral handling times and waiting list")
