"""Every query on cases. Reads take the actor's case scope; nothing else reads case rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Uuid,
    bindparam,
    func,
    literal_column,
    null,
    or_,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, aliased, defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from common.db import execute_columns
from consent.guard import system, unscoped
from consent.models import ConsentRecord, TeamMember
from domain.agencies.models import Agency
from domain.cases.models import Case, CaseReferenceCounter, CaseStateChange
from domain.people.models import YoungPerson
from domain.scoping import (
    Prepared,
    S,
    ScopedRepository,
    prepared_by_case,
    prepared_by_case_together,
    prepared_cases,
)
from domain.users.models import User


def case_id_by_reference(session: Session, reference: str) -> uuid.UUID | None:
    """The id behind a human reference and nothing else: for the auditor's access report,
    whose role may find a case's log but never read the case."""
    statement = unscoped(
        select(Case.id).where(Case.reference == reference.strip().upper()),
        "an id by reference, for the auditor and break-glass: no case data",
    )
    return session.exec(statement).first()


# A list shows the young person by name: the other encrypted columns stay unloaded (each is a
# decryption per row) until asked for.
_NAMES_ONLY = tuple(
    defer(cast("QueryableAttribute[Any]", column))
    for column in (YoungPerson.personnummer, YoungPerson.home_area, YoungPerson.address)
)

# The case read's statements, built once (`domain.scoping.Prepared`).
_SCHOOL = aliased(Agency, name="school")
_CASE_WITH_PERSON = prepared_cases(
    select(Case, YoungPerson, Agency, _SCHOOL)
    .join(YoungPerson, col(YoungPerson.id) == col(Case.young_person_id))
    .join(Agency, col(Agency.id) == col(Case.owner_agency_id))
    .outerjoin(_SCHOOL, col(_SCHOOL.id) == col(YoungPerson.school_agency_id))
    .where(col(Case.id) == bindparam("case_id"))
)


def _current_team(*columns: Any) -> Select[*tuple[Any, ...]]:
    """`columns` of the current members of the case in parameter `case_id`, each joined to
    their user and agency."""
    return (
        core_select(*columns)
        .select_from(TeamMember)
        .join(User, col(User.id) == col(TeamMember.user_id))
        .join(Agency, col(Agency.id) == col(User.agency_id))
        .where(
            col(TeamMember.case_id) == bindparam("case_id"), col(TeamMember.removed_at).is_(None)
        )
    )


_TEAM: Prepared[Select[*tuple[Any, ...]]] = prepared_by_case(
    _current_team(
        col(TeamMember.user_id),
        col(User.display_name),
        col(Agency.id).label("agency_id"),
        col(Agency.name).label("agency_name"),
        col(TeamMember.role),
    ).order_by(col(TeamMember.added_at)),
    TeamMember.case_id,
)


def _absent(type_: Any) -> Any:
    """An empty column of one part of `_TEAM_AND_HISTORY`, typed like the other part's."""
    return cast_(null(), type_)


# The team and the history of a case in one round trip: one column layout for both, each
# part's own columns filled and the other's empty, told apart by `kind`.
_TEAM_AND_HISTORY = prepared_by_case_together(
    (
        _current_team(
            literal_column("'team'").label("kind"),
            col(TeamMember.user_id).label("user_id"),
            col(User.display_name).label("name"),
            col(Agency.id).label("agency_id"),
            col(Agency.name).label("agency_name"),
            col(TeamMember.role).label("role"),
            _absent(String()).label("from_state"),
            _absent(String()).label("to_state"),
            _absent(String()).label("outcome"),
            _absent(String()).label("reason"),
            col(TeamMember.added_at).label("at"),
            col(TeamMember.id).label("tie"),
        ),
        TeamMember.case_id,
    ),
    (
        core_select(
            literal_column("'history'"),
            col(CaseStateChange.changed_by),
            col(User.display_name),
            _absent(Uuid()),
            _absent(String()),
            _absent(String()),
            col(CaseStateChange.from_state),
            col(CaseStateChange.to_state),
            col(CaseStateChange.outcome),
            col(CaseStateChange.reason),
            col(CaseStateChange.changed_at),
            col(CaseStateChange.id),
        )
        .outerjoin(User, col(User.id) == col(CaseStateChange.changed_by))
        .where(col(CaseStateChange.case_id) == bindparam("case_id")),
        CaseStateChange.case_id,
    ),
)


@dataclass(frozen=True)
class CaseSummary:
    """A case as a list shows it: its header, and whom it is about by name (category
    `basic`). The young person's other details are not read."""

    id: uuid.UUID
    reference: str
    programme: str
    state: str
    state_reason: str
    outcome: str | None
    opened_at: datetime
    closed_at: datetime | None
    version: int
    owner_agency_id: uuid.UUID
    young_person_id: uuid.UUID
    first_name: str
    last_name: str


_SUMMARY_COLUMNS: tuple[Any, ...] = (
    col(Case.id),
    col(Case.reference),
    col(Case.programme),
    col(Case.state),
    col(Case.state_reason),
    col(Case.outcome),
    col(Case.opened_at),
    col(Case.closed_at),
    col(Case.version),
    col(Case.owner_agency_id),
    col(YoungPerson.id).label("young_person_id"),
    col(YoungPerson.first_name),
    col(YoungPerson.last_name),
)


@dataclass(frozen=True)
class TeamEntry:
    """A current member of a case's team, by name and agency."""

    user_id: uuid.UUID
    display_name: str
    agency_id: uuid.UUID
    agency_name: str
    role: str


@dataclass(frozen=True)
class HistoryEntry:
    """A state change of a case, with who made it (None: the system moved the case)."""

    from_state: str | None
    to_state: str
    outcome: str | None
    reason: str
    changed_at: datetime
    changed_by: uuid.UUID | None
    changed_by_name: str | None


class CaseRepository(ScopedRepository):
    """Cases as the actor's scope lets them be seen; writes of cases the caller has read."""

    @staticmethod
    def references(session: Session, case_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        """References only, for the auditor's lists (like `case_id_by_reference`, no content)."""
        if not case_ids:
            return {}
        statement = unscoped(
            select(Case.id, Case.reference).where(col(Case.id).in_(case_ids)),
            "references only, for the auditor's lists",
        )
        return dict(session.exec(statement).all())

    def get(self, case_id: uuid.UUID) -> Case | None:
        statement = self._cases(select(Case).where(Case.id == case_id))
        return self._session.exec(statement).first()

    def get_with_person(
        self, case_id: uuid.UUID
    ) -> tuple[Case, YoungPerson, Agency, Agency | None] | None:
        """A case with its young person, owning unit and the person's school (None: none
        registered), in one query. The person is visible whenever the case is
        (`domain.scoping._visible_people`), so the case's scope is the whole condition."""
        row = self._run(_CASE_WITH_PERSON, case_id=case_id).first()
        return None if row is None else (row[0], row[1], row[2], row[3])

    def summaries(
        self, *, states: Sequence[str] | None, offset: int, limit: int
    ) -> tuple[list[CaseSummary], int]:
        """A page of visible cases as a list shows them, newest first, with the total count
        for paging."""
        statement, total = self._page(core_select(*_SUMMARY_COLUMNS), states, offset, limit)
        rows = execute_columns(self._session, statement, {})
        return [CaseSummary(*row) for row in rows], total

    def list_with_people(
        self, *, states: Sequence[str] | None, offset: int, limit: int
    ) -> tuple[list[tuple[Case, YoungPerson]], int]:
        """A page of visible cases with their young people, newest first, with the total
        count for paging."""
        statement, total = self._page(
            select(Case, YoungPerson).options(*_NAMES_ONLY), states, offset, limit
        )
        return [(case, person) for case, person in self._session.exec(statement).all()], total

    def _page(
        self, statement: S, states: Sequence[str] | None, offset: int, limit: int
    ) -> tuple[S, int]:
        """`statement` (of cases and their young people) as a page of the visible cases in
        `states`, newest first; and how many there are in all."""
        where = [col(Case.state).in_(states)] if states else []
        count = self._cases(core_select(func.count()).select_from(Case).where(*where))
        total = execute_columns(self._session, count, {}).scalar_one()
        page = (
            statement.join(YoungPerson, col(YoungPerson.id) == col(Case.young_person_id))
            .where(*where)
            .order_by(col(Case.opened_at).desc(), col(Case.reference).desc())
            .offset(offset)
            .limit(limit)
        )
        return self._cases(page), int(total)

    def of_member(
        self,
        user_id: uuid.UUID,
        *,
        states: Sequence[str],
        programmes: frozenset[str],
        consent_valid_until: tuple[date, date] | None = None,
    ) -> Sequence[Case]:
        """Visible cases in `states` that the user is currently on the team of, or that
        belong to one of `programmes` (a coordinator's). With `consent_valid_until` (first,
        last day), only the cases with a consent record valid until a day in that range: the
        only ones whose consent in force can end then."""
        on_team = select(TeamMember.case_id).where(
            TeamMember.user_id == user_id, col(TeamMember.removed_at).is_(None)
        )
        mine: ColumnElement[bool] = col(Case.id).in_(on_team)
        if programmes:
            mine = or_(mine, col(Case.programme).in_(programmes))
        statement = select(Case).where(col(Case.state).in_(states), mine)
        if consent_valid_until is not None:
            first, last = consent_valid_until
            ending = select(ConsentRecord.case_id).where(
                col(ConsentRecord.valid_until).between(first, last)
            )
            statement = statement.where(col(Case.id).in_(ending))
        return self._session.exec(self._cases(statement.order_by(col(Case.reference)))).all()

    def team_case_ids(self, user_id: uuid.UUID) -> set[uuid.UUID]:
        """The visible cases the user is currently on the team of."""
        statement = select(TeamMember.case_id).where(
            TeamMember.user_id == user_id, col(TeamMember.removed_at).is_(None)
        )
        return set(self._session.exec(self._by_case(statement, TeamMember.case_id)).all())

    def for_young_person(self, young_person_id: uuid.UUID) -> Sequence[Case]:
        statement = (
            select(Case)
            .where(Case.young_person_id == young_person_id)
            .order_by(col(Case.opened_at).desc())
        )
        return self._session.exec(self._cases(statement)).all()

    def has_open_case(
        self, young_person_id: uuid.UUID, programme: str, open_states: Sequence[str]
    ) -> bool:
        statement = select(Case.id).where(
            Case.young_person_id == young_person_id,
            Case.programme == programme,
            col(Case.state).in_(open_states),
        )
        return (
            self._session.exec(unscoped(statement, "uniqueness: yes or no, no case data")).first()
            is not None
        )

    def next_reference_number(self, programme: str, year: int) -> int:
        """Atomic on both databases: the counter row is updated in place, or created once."""
        bump = (
            update(CaseReferenceCounter)
            .where(
                col(CaseReferenceCounter.programme) == programme,
                col(CaseReferenceCounter.year) == year,
            )
            .values(last_number=col(CaseReferenceCounter.last_number) + 1)
            .returning(col(CaseReferenceCounter.last_number))
        )
        number: int | None = self._session.execute(bump).scalar_one_or_none()
        if number is not None:
            return number
        try:
            with self._session.begin_nested():
                self._session.add(
                    CaseReferenceCounter(programme=programme, year=year, last_number=1)
                )
            return 1
        except IntegrityError:  # another transaction created this year's row first
            retried: int = self._session.execute(bump).scalar_one()
            return retried

    def add(self, case: Case, change: CaseStateChange, owner: TeamMember) -> None:
        self._session.add(case)
        self._session.flush()
        self._session.add(change)
        self._session.add(owner)
        self._session.flush()

    @staticmethod
    def set_state(
        session: Session,
        case: Case,
        *,
        state: str,
        reason: str,
        outcome: str | None,
        closed_at: datetime | None,
        activated_at: datetime | None,
        now: datetime,
        change: CaseStateChange,
    ) -> bool:
        """Compare-and-set on the version `case` was read at; False when someone else changed
        the case first. The caller has read `case` through a scope (or locked it as the
        system); writing needs none."""
        expected_version = case.version
        result = session.execute(
            update(Case)
            .where(col(Case.id) == case.id, col(Case.version) == expected_version)
            .values(
                state=state,
                state_reason=reason,
                outcome=outcome,
                closed_at=closed_at,
                activated_at=activated_at,
                updated_at=now,
                version=expected_version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        session.add(change)
        session.flush()
        # The update above went round the ORM: give the loaded object the stored values
        # without another read (and without marking it changed).
        for name, value in (
            ("state", state),
            ("state_reason", reason),
            ("outcome", outcome),
            ("closed_at", closed_at),
            ("activated_at", activated_at),
            ("updated_at", now),
            ("version", expected_version + 1),
        ):
            set_committed_value(case, name, value)
        return True

    def team_and_history(self, case: Case) -> tuple[list[TeamEntry], list[HistoryEntry]]:
        """The case's current team in the order they joined (as `team`), and its state
        changes in order, in one query."""
        team: list[TeamEntry] = []
        history: list[HistoryEntry] = []
        rows = self._run_columns(_TEAM_AND_HISTORY, case_id=case.id).all()
        for row in sorted(rows, key=lambda row: (row.at, row.tie)):
            if row.kind == "team":
                team.append(
                    TeamEntry(row.user_id, row.name, row.agency_id, row.agency_name, row.role)
                )
            else:
                history.append(
                    HistoryEntry(
                        row.from_state,
                        row.to_state,
                        row.outcome,
                        row.reason,
                        changed_at=row.at,
                        changed_by=row.user_id,
                        changed_by_name=row.name,
                    )
                )
        return team, history

    def team(self, case: Case) -> list[TeamEntry]:
        """The case's current team, in the order they joined."""
        return [TeamEntry(*row) for row in self._run_columns(_TEAM, case_id=case.id)]


class SystemCaseRepository:
    """Reads of the consent sweep: the system moves cases by rule, and no person reads them.
    Nothing here may serve a page or an API response."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def open_case_ids(self, states: Sequence[str]) -> Sequence[uuid.UUID]:
        """Ids of the cases in `states`: ids only, no case data."""
        statement = system(
            select(Case.id).where(col(Case.state).in_(states)).order_by(col(Case.id)),
            "the consent sweep finds the cases its rules may move",
        )
        return self._session.exec(statement).all()

    def lock(self, case_id: uuid.UUID) -> Case | None:
        """The case row, locked until the transaction ends (PostgreSQL; SQLite has one
        writer at a time), for the consent sweep to move it by rule."""
        statement = system(
            select(Case).where(col(Case.id) == case_id).with_for_update(),
            "the consent sweep moves a case by rule",
        )
        return self._session.exec(statement).first()
