"""The base of every repository that reads consent-gated rows for a person.

The scope is applied here and nowhere else: `_visible_cases` and `_visible_people` are the
where-clauses built from the actor's `CaseScope`, with its values or, in a statement built
once (`Prepared`), with bound parameters for them. Every read a subclass makes goes through
`_cases`, `_by_case`, `_people` or `_by_person`, or through `_run` with a statement made by
`prepared_cases`, `prepared_by_case`, `prepared_by_case_together` or `prepared_by_person`;
each ties the statement's rows to a visible case (or young person) and marks it for the
statement guard (`common.guard`).
A subclass cannot be built without a scope, and a read it makes any other way is refused by
the guard. tests/integration/test_prepared_scope.py holds the two forms equal.

Reads that must ignore the scope belong to a named system repository
(`domain.cases.repository.SystemCaseRepository`, `domain.consents.repository.ScopeFacts`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Exists,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    exists,
    false,
    or_,
    union_all,
)
from sqlalchemy.engine import Result
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from common.db import execute_columns
from consent.guard import scoped
from consent.scope import TEAM_VISIBILITY, CaseScope
from domain.cases.models import Case
from domain.people.models import YoungPerson

S = TypeVar("S", bound=Select[*tuple[Any, ...]])
R = TypeVar("R", bound=Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]])

# The row's case (or person) is looked up by key in a correlated EXISTS, not collected in an
# IN (subquery): that list holds every visible case, and SQLite builds it in full for each
# statement (a unit with 50,000 cases would pay for all of them on every read). The lookup
# reads an alias, so it never correlates with a `case_file` or `young_person` that the
# statement itself reads; the aliases are built once (building one copies every column).
_CASE = aliased(Case, name="scope_case")
_PERSON = aliased(YoungPerson, name="scope_person")

# What a scope restricts by: its values (`ScopedRepository`), or bound parameters for them (a
# statement built once, `Prepared`); None where the scope has none, and the clause is left out.
ScopeTerms = tuple[Any, Any, Any]  # owner agencies, programmes, cases outside the unit
_TERM_NAMES = ("scope_owner_agency_ids", "scope_programmes", "scope_extra_case_ids")


def _visible_cases(case: Any, terms: ScopeTerms) -> ColumnElement[bool]:
    """The scope as a condition on `case_file` (or an alias of it): deny by default."""
    owners, programmes, extra = terms
    clauses: list[ColumnElement[bool]] = []
    if owners is not None:
        clauses.append(case.owner_agency_id.in_(owners))
    if programmes is not None:
        clauses.append(case.programme.in_(programmes))
    if extra is not None:
        clauses.append(case.id.in_(extra))
    return or_(*clauses) if clauses else false()


def _visible_people(person: Any, terms: ScopeTerms) -> ColumnElement[bool]:
    """A young person is visible when registered by the actor's own unit or when one of
    their cases is visible."""
    clauses: list[ColumnElement[bool]] = [
        exists().where(_CASE.young_person_id == person.id, _visible_cases(_CASE, terms))
    ]
    if terms[0] is not None:
        clauses.append(person.owner_agency_id.in_(terms[0]))
    return or_(*clauses)


def _case_visible(case_id: Any, terms: ScopeTerms) -> Exists:
    return exists().where(_CASE.id == case_id, _visible_cases(_CASE, terms))


def _person_visible(young_person_id: Any, terms: ScopeTerms) -> Exists:
    return exists().where(col(_PERSON.id) == young_person_id, _visible_people(_PERSON, terms))


# How many values each of the scope's terms has (0: none, the clause is left out), counted
# up to _MANY: a term with more is bound as one list.
Shape = tuple[int, int, int]

# A term of up to this many values (an actor's agencies and programmes, a few cases) is bound
# value by value, `IN (?, ?)`: its SQL is fixed. A list parameter (`IN (...)` expanding) is
# spelled out again on every execution, ~10 µs a term, and the case read sends five scoped
# statements.
_LISTED = 4
_MANY = _LISTED + 1


def _size(term: frozenset[Any] | None) -> int:
    return min(len(term), _MANY) if term else 0


# The type each term's values are bound with: agency ids, programme codes, case ids.
_TERM_TYPES = (Uuid(), String(), Uuid())


def _term_parameters(name: str, type_: Any, size: int) -> Any:
    """A term's bound parameters in a statement built once (None: the scope has no values)."""
    if not size:
        return None
    if size == _MANY:
        return bindparam(name, expanding=True, type_=type_)
    return [bindparam(f"{name}_{n}", type_=type_) for n in range(size)]


def _term_values(name: str, term: frozenset[Any] | None) -> dict[str, Any]:
    """The values for `_term_parameters(name, _size(term))`."""
    if not term:
        return {}
    if _size(term) == _MANY:
        return {name: list(term)}
    return {f"{name}_{n}": value for n, value in enumerate(term)}


class Prepared(Generic[R]):
    """A scoped statement built once instead of on every call: the case read sends a few on
    every request, and building a statement and its cache key costs more Python than running
    it. The scope's terms are in it as bound parameters, which only a `ScopedRepository`
    fills in (`_run`); executed any other way, it fails for want of them. A term the scope
    has no values for is left out, as in a statement built with the values, so there is one
    statement per shape of scope (how many values each term has, `Shape`: a few in use),
    each built on first use.
    Made by `prepared_cases`, `prepared_by_case`, `prepared_by_case_together` and
    `prepared_by_person`."""

    def __init__(self, restrict: Callable[[ScopeTerms], R]) -> None:
        self._restrict = restrict
        self._built: dict[Shape, R] = {}

    def statement(self, shape: Shape) -> R:
        built = self._built.get(shape)
        if built is None:  # two threads may both build it: the same statement either way
            terms = [
                _term_parameters(name, type_, size)
                for name, type_, size in zip(_TERM_NAMES, _TERM_TYPES, shape, strict=True)
            ]
            built = self._built[shape] = scoped(self._restrict((terms[0], terms[1], terms[2])))
        return built


def prepared_cases(statement: S) -> Prepared[S]:
    """`ScopedRepository._cases`, built once."""
    return Prepared(lambda terms: statement.where(_visible_cases(Case, terms)))


def prepared_by_case(statement: S, case_id: Any) -> Prepared[S]:
    """`ScopedRepository._by_case`, built once."""
    return Prepared(lambda terms: statement.where(_case_visible(col(case_id), terms)))


def prepared_by_case_together(
    *parts: tuple[Select[*tuple[Any, ...]], Any],
) -> Prepared[CompoundSelect[*tuple[Any, ...]]]:
    """Several `prepared_by_case` statements sent as one (UNION ALL): each part is a statement
    and the column holding its rows' case, and each part's rows are tied to a visible case as
    `prepared_by_case` ties them. One round trip instead of one per part; the parts must
    agree in their columns' number and types."""
    return Prepared(
        lambda terms: union_all(
            *(statement.where(_case_visible(col(case_id), terms)) for statement, case_id in parts)
        )
    )


def prepared_by_person(statement: S, young_person_id: Any) -> Prepared[S]:
    """`ScopedRepository._by_person`, built once."""
    return Prepared(lambda terms: statement.where(_person_visible(col(young_person_id), terms)))


class ScopedRepository:
    def __init__(self, session: Session, scope: CaseScope) -> None:
        self._session = session
        self._scope = scope

    @property
    def scope(self) -> CaseScope:
        return self._scope

    def _terms(self) -> ScopeTerms:
        scope = self._scope
        return (
            scope.owner_agency_ids or None,
            scope.programmes or None,
            scope.extra_case_ids or None,
        )

    def _bind(self, prepared: Prepared[R], values: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """A statement built once, for this scope's shape, with its parameters."""
        terms = self._terms()
        shape = (_size(terms[0]), _size(terms[1]), _size(terms[2]))
        bound: dict[str, Any] = {}
        for name, term in zip(_TERM_NAMES, terms, strict=True):
            bound |= _term_values(name, term)
        return prepared.statement(shape), bound | values

    def _run(self, prepared: Prepared[R], **values: Any) -> Any:
        """Execute a statement built once, with this scope's terms bound (and `values`)."""
        statement, params = self._bind(prepared, values)
        return self._session.exec(statement, params=params)

    def _run_columns(self, prepared: Prepared[R], **values: Any) -> Result[*tuple[Any, ...]]:
        """As `_run`, for a statement of plain columns (`common.db.execute_columns`)."""
        statement, params = self._bind(prepared, values)
        return execute_columns(self._session, statement, params)

    def _cases(self, statement: S) -> S:
        """A statement that reads `case_file` (and what it joins to it)."""
        return scoped(statement.where(_visible_cases(Case, self._terms())))

    def _by_case(self, statement: S, case_id: Any) -> S:
        """A statement whose rows belong to the case in column `case_id`."""
        return scoped(statement.where(_case_visible(col(case_id), self._terms())))

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
        return scoped(statement.where(_visible_people(YoungPerson, self._terms())))

    def _by_person(self, statement: S, young_person_id: Any) -> S:
        """A statement whose rows belong to the young person in column `young_person_id`."""
        return scoped(statement.where(_person_visible(col(young_person_id), self._terms())))

    def _one_case(self, case_id: uuid.UUID) -> Case | None:
        return self._session.exec(self._cases(select(Case).where(Case.id == case_id))).first()
