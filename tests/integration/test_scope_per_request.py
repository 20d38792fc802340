"""The scope is built once per request (one session), and again after a gated write."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from common.keys import KeySet
from common.roles import AgencyKind, Role
from domain import access
from domain.cases import service as cases
from domain.teams import service as teams
from tests.builders import give_consent, make_actor, make_agency, make_case


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    made: list[Any] = []
    decide = access._decide

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append(args[1])
        return decide(*args, **kwargs)

    monkeypatch.setattr(access, "_decide", counting)
    return made


def test_reads_in_one_session_share_one_scope(
    session: Session, keys: KeySet, decisions: list[Any]
) -> None:
    owner = make_actor(session)
    case = make_case(session, owner, keys)
    session.commit()
    decisions.clear()
    cases.get_case(session, owner, case_id=case.id)
    cases.list_cases(session, owner)
    cases.get_case(session, owner, case_id=case.id)
    assert decisions == [owner]


def test_a_gated_write_in_the_session_makes_the_next_read_decide_again(
    session: Session, keys: KeySet, decisions: list[Any]
) -> None:
    owner = make_actor(session)
    school = make_agency(session, AgencyKind.SCHOOL)
    partner = make_actor(session, school, Role.CONTACT_PERSON)
    case = make_case(session, owner, keys)
    teams.add_member(session, owner, case_id=case.id, user_id=partner.user_id)
    assert cases.list_cases(session, partner).total == 0  # no consent yet
    cases.change_state(
        session, owner, case_id=case.id, target="consent_pending", expected_version=case.version
    )
    give_consent(session, owner, case, agencies=[school.id])
    assert cases.list_cases(session, partner).total == 1  # the same session sees the change
    session.commit()
    decisions.clear()
    cases.list_cases(session, partner)
    assert decisions == [partner]  # the commit ended the transaction: decided afresh
