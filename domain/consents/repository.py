"""Queries behind the access decision and the consent pages.

`ScopeFacts` reads case, young-person and consent rows without a scope: it is what the scope
is computed from (`domain.access`), and what the consent sweep and the tracker judge cases by.
It never returns names, personnummer or other encrypted data. `ConsentRecords` is what the
consent pages show, through the actor's scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Row, bindparam, func, literal_column, true
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from common.db import execute_columns
from consent.guard import unscoped
from consent.models import BreakGlassGrant, ConsentRecord, ConsentWithdrawal, TeamMember
from consent.rules import (
    Category,
    ConsentFact,
    Decision,
    GuardianInfo,
    Signer,
    SignerKind,
    SigningPolicy,
)
from consent.scope import BreakGlass
from domain.cases.models import Case
from domain.configuration.repository import POLICY_IN_FORCE
from domain.people.models import Guardian, YoungPerson
from domain.scoping import ScopedRepository


@dataclass
class CaseSituation:
    state: str
    state_reason: str
    owner_agency_id: uuid.UUID
    birth_date: date
    guardians: list[GuardianInfo] = field(default_factory=list)
    facts: list[ConsentFact] = field(default_factory=list)


# A consent record and its withdrawal as the access decision needs them: read as plain columns,
# not entities, since every request's scope and the consent sweep read them.
_FACT_COLUMNS = (
    col(ConsentRecord.case_id),
    col(ConsentRecord.id),
    col(ConsentRecord.signer_kind),
    col(ConsentRecord.guardian_id),
    col(ConsentRecord.decision),
    col(ConsentRecord.valid_from),
    col(ConsentRecord.valid_until),
    col(ConsentRecord.agencies),
    col(ConsentRecord.categories),
    col(ConsentRecord.recorded_at),
    col(ConsentWithdrawal.withdrawn_at),
)


def _fact(row: Row[Any]) -> ConsentFact:
    signer = (
        Signer(SignerKind.GUARDIAN, row.guardian_id)
        if row.signer_kind == SignerKind.GUARDIAN
        else Signer(SignerKind.YOUNG_PERSON)
    )
    return ConsentFact(
        id=row.id,
        signer=signer,
        decision=Decision(row.decision),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        agencies=_agency_set(tuple(row.agencies)),
        categories=_category_set(tuple(row.categories)),
        recorded_at=row.recorded_at,
        withdrawn_at=row.withdrawn_at,
    )


# A municipality's consent records name a handful of agency and category combinations: the
# sets are made once per combination rather than per record (a tracker reads thousands).
@lru_cache(maxsize=4096)
def _agency_set(ids: tuple[str, ...]) -> frozenset[uuid.UUID]:
    return frozenset(uuid.UUID(a) for a in ids)


@lru_cache(maxsize=256)
def _category_set(codes: tuple[str, ...]) -> frozenset[Category]:
    return frozenset(Category(c) for c in codes)


SCOPE_FACTS = "the facts the access decision is computed from; never shown as they are"

# Built once: every request's scope decision and the case read send them.
_FACT_ROWS = (
    core_select(*_FACT_COLUMNS)
    .outerjoin(ConsentWithdrawal, col(ConsentWithdrawal.consent_id) == col(ConsentRecord.id))
    .where(col(ConsentRecord.case_id).in_(bindparam("case_ids", expanding=True)))
)
_FACTS = unscoped(
    _FACT_ROWS.order_by(col(ConsentRecord.recorded_at), col(ConsentRecord.id)), SCOPE_FACTS
)
# The facts of the cases with the signing policy in force at `at`, in one statement (one row
# of the policy with no facts when the cases have none; no policy when none is stored).
_FACTS_SUBQUERY = _FACT_ROWS.subquery("facts")
_FACTS_WITH_POLICY = unscoped(
    core_select(
        POLICY_IN_FORCE.c.young_person_from_age, POLICY_IN_FORCE.c.adult_age, _FACTS_SUBQUERY
    )
    .select_from(core_select(literal_column("1").label("one")).subquery("anchor"))
    .outerjoin(POLICY_IN_FORCE, true())
    .outerjoin(_FACTS_SUBQUERY, true())
    .order_by(_FACTS_SUBQUERY.c.recorded_at, _FACTS_SUBQUERY.c.id),
    SCOPE_FACTS,
)
_ACTIVE_BREAK_GLASS = unscoped(
    core_select(
        col(BreakGlassGrant.case_id), col(BreakGlassGrant.id), col(BreakGlassGrant.expires_at)
    ).where(
        col(BreakGlassGrant.user_id) == bindparam("user_id"),
        col(BreakGlassGrant.expires_at) > bindparam("now"),
    ),
    SCOPE_FACTS,
)


_TEAM_CASE_IDS = unscoped(
    core_select(col(TeamMember.case_id)).where(
        col(TeamMember.user_id) == bindparam("user_id"), col(TeamMember.removed_at).is_(None)
    ),
    SCOPE_FACTS,
)
_CASE_STATES = unscoped(
    core_select(
        col(Case.id),
        col(Case.young_person_id),
        col(Case.state),
        col(Case.state_reason),
        col(Case.owner_agency_id),
        col(YoungPerson.birth_date),
    )
    .join(YoungPerson, col(YoungPerson.id) == col(Case.young_person_id))
    .where(col(Case.id).in_(bindparam("case_ids", expanding=True))),
    SCOPE_FACTS,
)
_GUARDIAN_CUSTODY = unscoped(
    core_select(col(Guardian.id), col(Guardian.young_person_id), col(Guardian.has_custody)).where(
        col(Guardian.young_person_id).in_(bindparam("person_ids", expanding=True))
    ),
    SCOPE_FACTS,
)


class SituatedCase(Protocol):
    """What a situation needs of a case: a `Case`, or a row of its columns."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def young_person_id(self) -> uuid.UUID: ...
    @property
    def state(self) -> str: ...
    @property
    def state_reason(self) -> str: ...
    @property
    def owner_agency_id(self) -> uuid.UUID: ...


class _CaseStateRow(NamedTuple):
    id: uuid.UUID
    young_person_id: uuid.UUID
    state: str
    state_reason: str
    owner_agency_id: uuid.UUID


class ScopeFacts:
    """The facts the scope is decided from. No person reads these rows as they are."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def active_team_case_ids(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        rows = execute_columns(self._session, _TEAM_CASE_IDS, {"user_id": user_id})
        return list(rows.scalars())

    def situations(self, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CaseSituation]:
        if not case_ids:
            return {}
        rows = execute_columns(self._session, _CASE_STATES, {"case_ids": list(case_ids)})
        return self.situations_of([(_CaseStateRow(*row[:5]), row[5]) for row in rows])

    def situations_of(
        self, cases: Sequence[tuple[SituatedCase, date]]
    ) -> dict[uuid.UUID, CaseSituation]:
        """The situations of cases the caller has read already, each with its young person's
        birth date: only the guardians and the consent records are read here."""
        if not cases:
            return {}
        person_of = {case.id: case.young_person_id for case, _born in cases}
        found = {
            case.id: CaseSituation(case.state, case.state_reason, case.owner_agency_id, born)
            for case, born in cases
        }
        guardians = execute_columns(
            self._session, _GUARDIAN_CUSTODY, {"person_ids": list(set(person_of.values()))}
        )
        guardians_of: dict[uuid.UUID, list[GuardianInfo]] = {}
        for g_id, person_id, custody in guardians:
            guardians_of.setdefault(person_id, []).append(
                GuardianInfo(id=g_id, has_custody=custody)
            )
        for case_id, person_id in person_of.items():
            found[case_id].guardians = list(guardians_of.get(person_id, ()))
        for case_id, fact in self.facts_for_cases(list(found)):
            found[case_id].facts.append(fact)
        return found

    def facts_for_cases(self, case_ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, ConsentFact]]:
        """(case id, fact) for each consent record of the cases, the oldest recorded first."""
        rows = execute_columns(self._session, _FACTS, {"case_ids": list(case_ids)})
        return [(row.case_id, _fact(row)) for row in rows]

    def facts_with_policy(
        self, case_ids: Sequence[uuid.UUID], at: datetime
    ) -> tuple[list[tuple[uuid.UUID, ConsentFact]], SigningPolicy | None]:
        """As `facts_for_cases`, with the signing policy stored in force at `at`
        (`ConfigurationRepository.policy_at`) read in the same statement."""
        rows = execute_columns(
            self._session, _FACTS_WITH_POLICY, {"case_ids": list(case_ids), "at": at}
        ).all()
        first = rows[0]  # the anchor makes one row at least
        policy = (
            None
            if first.young_person_from_age is None
            else SigningPolicy(first.young_person_from_age, first.adult_age)
        )
        return [(row.case_id, _fact(row)) for row in rows if row.id is not None], policy

    def active_break_glass(self, user_id: uuid.UUID, now: datetime) -> dict[uuid.UUID, BreakGlass]:
        """The user's unexpired emergency grants, by case."""
        rows = execute_columns(self._session, _ACTIVE_BREAK_GLASS, {"user_id": user_id, "now": now})
        return {case_id: BreakGlass(grant_id, expires_at) for case_id, grant_id, expires_at in rows}


class ConsentRecords(ScopedRepository):
    """Consent records of the cases the actor's scope reaches."""

    def for_case(self, case_id: uuid.UUID) -> list[tuple[ConsentRecord, ConsentWithdrawal | None]]:
        statement = (
            select(ConsentRecord, ConsentWithdrawal)
            .outerjoin(
                ConsentWithdrawal, col(ConsentWithdrawal.consent_id) == col(ConsentRecord.id)
            )
            .where(ConsentRecord.case_id == case_id)
            .order_by(col(ConsentRecord.recorded_at), col(ConsentRecord.id))
        )
        rows = self._session.exec(self._by_case(statement, ConsentRecord.case_id)).all()
        return [(record, withdrawal) for record, withdrawal in rows]

    def get(self, consent_id: uuid.UUID) -> ConsentRecord | None:
        statement = select(ConsentRecord).where(ConsentRecord.id == consent_id)
        return self._session.exec(self._by_case(statement, ConsentRecord.case_id)).first()

    def withdrawal_of(self, record: ConsentRecord) -> ConsentWithdrawal | None:
        statement = (
            select(ConsentWithdrawal)
            .join(ConsentRecord, col(ConsentRecord.id) == col(ConsentWithdrawal.consent_id))
            .where(ConsentWithdrawal.consent_id == record.id)
        )
        return self._session.exec(self._by_case(statement, ConsentRecord.case_id)).first()


class ConsentRepository:
    """Writes of consent and break-glass rows, and the auditor's list of break-glass grants."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def break_glass_grants(self, *, offset: int, limit: int) -> tuple[list[BreakGlassGrant], int]:
        total = self._session.exec(
            unscoped(select(func.count()).select_from(BreakGlassGrant), "the auditor's review")
        ).one()
        statement = (
            select(BreakGlassGrant)
            .order_by(col(BreakGlassGrant.granted_at).desc())
            .offset(offset)
            .limit(limit)
        )
        rows = self._session.exec(unscoped(statement, "the auditor's review")).all()
        return list(rows), int(total)

    def add(self, row: ConsentRecord | ConsentWithdrawal | BreakGlassGrant) -> None:
        self._session.add(row)
        self._session.flush()
