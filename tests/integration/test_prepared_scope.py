"""A statement built once (`domain.scoping.Prepared`) carries the scope as bound parameters;
it must let through exactly the rows the scope built as values lets through, for every scope,
the empty one included (deny by default)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from common.keys import KeySet
from common.roles import Role
from consent.models import TeamMember
from consent.scope import CaseScope
from domain.cases.models import Case, CaseStateChange
from domain.people.models import Guardian
from domain.scoping import (
    _LISTED,
    ScopedRepository,
    prepared_by_case,
    prepared_by_case_together,
    prepared_by_person,
    prepared_cases,
)
from tests.builders import make_actor, make_agency, make_case, make_young_person

_CASES = prepared_cases(select(Case.id))
_MEMBERS = prepared_by_case(select(TeamMember.id), TeamMember.case_id)
_GUARDIANS = prepared_by_person(select(Guardian.id), Guardian.young_person_id)
_MEMBERS_AND_CHANGES = prepared_by_case_together(
    (core_select(col(TeamMember.id)), TeamMember.case_id),
    (core_select(col(CaseStateChange.id)), CaseStateChange.case_id),
)
_ONE_CASE = prepared_cases(select(Case.id).where(col(Case.id) == bindparam("case_id")))


@dataclass(frozen=True)
class _Scope:
    """What the scope's where-clauses read of a `CaseScope`, for any combination of values."""

    owner_agency_ids: frozenset[uuid.UUID]
    programmes: frozenset[str]
    extra_case_ids: frozenset[uuid.UUID]


class _Both(ScopedRepository):
    """Reads each kind of statement both ways: built with the values, and built once."""

    def as_values(self) -> tuple[set[Any], set[Any], set[Any], set[Any]]:
        run = self._session.exec
        members = set(run(self._by_case(select(TeamMember.id), TeamMember.case_id)).all())
        changes = run(self._by_case(select(CaseStateChange.id), CaseStateChange.case_id)).all()
        return (
            set(run(self._cases(select(Case.id))).all()),
            members,
            set(run(self._by_person(select(Guardian.id), Guardian.young_person_id)).all()),
            members | set(changes),
        )

    def as_parameters(self) -> tuple[set[Any], set[Any], set[Any], set[Any]]:
        return (
            set(self._run(_CASES).all()),
            set(self._run(_MEMBERS).all()),
            set(self._run(_GUARDIANS).all()),
            set(self._run(_MEMBERS_AND_CHANGES).scalars().all()),
        )

    def one_case(self, case_id: uuid.UUID) -> Any:
        return self._run(_ONE_CASE, case_id=case_id).first()


@dataclass(frozen=True)
class _World:
    agencies: list[uuid.UUID]
    cases: list[Case]


def _world(session: Session, keys: KeySet) -> _World:
    """Three units, each with an SSPF and a SIG case, and a young person registered by the
    last unit who has no case at all (visible to that unit only). Six cases: more than a
    prepared statement binds one by one (`domain.scoping._LISTED`)."""
    agencies, cases = [], []
    for _ in range(3):
        agency = make_agency(session)
        actor = make_actor(session, agency, Role.SOCIAL_WORKER)
        agencies.append(agency.id)
        cases += [make_case(session, actor, keys, programme=p) for p in ("SSPF", "SIG")]
    make_young_person(session, actor, keys)
    session.commit()
    return _World(agencies, cases)


def _scopes(world: _World) -> st.SearchStrategy[_Scope]:
    return st.builds(
        _Scope,
        owner_agency_ids=st.frozensets(st.sampled_from(world.agencies)),
        programmes=st.frozensets(st.sampled_from(["SSPF", "SIG"])),
        extra_case_ids=st.frozensets(st.sampled_from([c.id for c in world.cases])),
    )


def test_the_prepared_scope_lets_through_what_the_scope_as_values_does(
    session: Session, keys: KeySet
) -> None:
    world = _world(session, keys)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scope=_scopes(world))
    def check(scope: _Scope) -> None:
        both = _Both(session, cast(CaseScope, scope))
        assert both.as_parameters() == both.as_values()
        for case in world.cases:
            assert (both.one_case(case.id) is not None) == (case.id in both.as_values()[0])

    check()


def test_the_empty_scope_sees_nothing_either_way(session: Session, keys: KeySet) -> None:
    _world(session, keys)
    both = _Both(session, cast(CaseScope, _Scope(frozenset(), frozenset(), frozenset())))
    assert both.as_parameters() == both.as_values() == (set(), set(), set(), set())


def test_a_scope_of_more_cases_than_listed_one_by_one_reads_alike(
    session: Session, keys: KeySet
) -> None:
    world = _world(session, keys)
    every_case = frozenset(c.id for c in world.cases)
    assert len(every_case) > _LISTED  # bound as one list, not value by value
    for extra in (every_case, frozenset(list(every_case)[:_LISTED])):
        both = _Both(session, cast(CaseScope, _Scope(frozenset(), frozenset(), extra)))
        assert both.as_parameters() == both.as_values()
        assert both.as_values()[0] == extra
