"""The runtime guard refuses ORM reads of consent-gated tables that do not say how."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from common.keys import KeySet
from consent.guard import UnscopedRead, scoped, unscoped
from consent.models import ConsentRecord
from domain.agencies.models import Agency
from domain.cases.models import Case
from domain.people.models import Guardian, YoungPerson
from tests.builders import make_actor, make_case


@pytest.mark.parametrize(
    "statement",
    [
        select(Case),
        select(Case.reference),
        select(func.count()).select_from(YoungPerson),
        select(Agency.id).where(col(Agency.id).in_(select(Case.owner_agency_id))),
        select(Guardian.name),
        select(ConsentRecord),
    ],
    ids=["entity", "column", "count", "subquery", "guardian", "consent"],
)
def test_an_unmarked_read_of_gated_data_is_refused(
    session: Session, keys: KeySet, statement: object
) -> None:
    make_case(session, make_actor(session), keys)
    with pytest.raises(UnscopedRead):
        session.exec(statement)  # type: ignore[call-overload]


def test_marked_reads_and_other_tables_pass(session: Session, keys: KeySet) -> None:
    make_case(session, make_actor(session), keys)
    assert session.exec(scoped(select(Case))).all()
    assert session.exec(unscoped(select(Case.id), "test")).all()
    assert session.exec(select(Agency)).all()  # organisations are not case data


def test_session_get_needs_an_exemption(session: Session, keys: KeySet) -> None:
    case = make_case(session, make_actor(session), keys)
    session.commit()
    session.expunge_all()
    with pytest.raises(UnscopedRead):
        session.get(Case, case.id)
