"""The base of every repository that reads consent-gated rows for a person.

The scope is applied here and nowhere else: `_visible_cases` is the one where-clause built
from the actor's `CaseScope`, and every read a subclass makes goes through `_cases`,
`_by_case`, `_people` or `_by_person`, which tie the statement's rows to a visible case (or
young person) and mark it for the statement guard (`common.guard`). A subclass cannot be
built without a scope, and a read it makes any other way is refused by the guard.

Reads that must ignore the scope belong to a named system repository
(`domain.cases.repository.SystemCaseRepository`, `domain.consents.repository.ScopeFacts`).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Exists, Select, and_, exists, false, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from consent.guard import scoped
from consent.scope import TEAM_VISIBILITY, CaseScope
from domain.cases.models import Case
from domain.people.models import YoungPerson

S = TypeVar("S", bound=Select[*tuple[Any, ...]])

# The row's case (or person) is looked up by key in a correlated EXISTS, not collected in an
# IN (subquery): that list holds every visible case, and SQLite builds it in full for each
# statement (a unit with 50,000 cases would pay for all of them on every read). The lookup
# reads an alias, so it never correlates with a `case_file` or `young_person` that the
# statement itself reads; the aliases are built once (building one copies every column).
_CASE = aliased(Case, name="scope_case")
_PERSON = aliased(YoungPerson, name="scope_person")


class ScopedRepository:
    def __init__(self, session: Session, scope: CaseScope) -> None:
        self._session = session
        self._scope = scope

    @property
    def scope(self) -> CaseScope:
        return self._scope

    def _visible_cases(self, case: Any = Case) -> ColumnElement[bool]:
        """The scope as a condition on `case_file` (or an alias of it): deny by default."""
        scope = self._scope
        clauses: list[ColumnElement[bool]] = []
        if scope.owner_agency_ids:
            clauses.append(case.owner_agency_id.in_(scope.owner_agency_ids))
        if scope.programmes:
            clauses.append(case.programme.in_(scope.programmes))
        if scope.extra_case_ids:
            clauses.append(case.id.in_(scope.extra_case_ids))
        return or_(*clauses) if clauses else false()

    def _visible_people(self, person: Any = YoungPerson) -> ColumnElement[bool]:
        """A young person is visible when registered by the actor's own unit or when one of
        their cases is visible."""
        clauses: list[ColumnElement[bool]] = [
            exists().where(_CASE.young_person_id == person.id, self._visible_cases(_CASE))
        ]
        if self._scope.owner_agency_ids:
            clauses.append(person.owner_agency_id.in_(self._scope.owner_agency_ids))
        return or_(*clauses)

    def _case_visible(self, case_id: Any) -> Exists:
        return exists().where(_CASE.id == case_id, self._visible_cases(_CASE))

    def _cases(self, statement: S) -> S:
        """A statement that reads `case_file` (and what it joins to it)."""
        return scoped(statement.where(self._visible_cases()))

    def _by_case(self, statement: S, case_id: Any) -> S:
        """A statement whose rows belong to the case in column `case_id`."""
        return scoped(statement.where(self._case_visible(col(case_id))))

    def _entries(
        self,
        statement: S,
        *,
        case_id: Any,
        category: Any,
        visibility: Any,
        author_agency_id: Any,
    ) -> S:
        """A statement whose rows are shared entries of a case (DESIGN §3): of a visible
        case, and either written by the reader's agency or shared with the team in a
        category the reader may see of that case (`CaseScope.sees_entry`, as SQL)."""
        scope = self._scope
        full: list[ColumnElement[bool]] = []  # cases the reader sees every category of
        if scope.owner_agency_ids:
            full.append(col(_CASE.owner_agency_id).in_(scope.owner_agency_ids))
        if scope.programmes:
            full.append(col(_CASE.programme).in_(scope.programmes))
        if scope.break_glass:
            full.append(col(_CASE.id).in_(frozenset(scope.break_glass)))
        shared: list[ColumnElement[bool]] = []
        if full:
            shared.append(exists().where(col(_CASE.id) == col(case_id), or_(*full)))
        for grant_case, grant in scope.partner_grants.items():
            shared.append(
                and_(col(case_id) == grant_case, col(category).in_(sorted(grant.categories)))
            )
        readable = or_(
            col(author_agency_id) == scope.actor.agency_id,
            and_(col(visibility) == TEAM_VISIBILITY, or_(*shared) if shared else false()),
        )
        return self._by_case(statement.where(readable), case_id)

    def _people(self, statement: S) -> S:
        """A statement that reads `young_person`."""
        return scoped(statement.where(self._visible_people()))

    def _by_person(self, statement: S, young_person_id: Any) -> S:
        """A statement whose rows belong to the young person in column `young_person_id`."""
        visible = exists().where(
            col(_PERSON.id) == col(young_person_id), self._visible_people(_PERSON)
        )
        return scoped(statement.where(visible))

    def _one_case(self, case_id: uuid.UUID) -> Case | None:
        return self._session.exec(self._cases(select(Case).where(Case.id == case_id))).first()
