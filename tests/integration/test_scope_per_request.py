"""The scope is built once per request (one session), and again after a gated write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

from common.errors import NotFound
from common.keys import KeySet
from common.roles import AgencyKind, Role
from domain import access
from domain.breakglass import service as breakglass
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


REASON = "Akut oro: polisen larmar om hot mot den unga i kväll."


def _reads_of_grants(engine: Engine, run: Callable[[], object]) -> int:
    seen: list[str] = []

    def note(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if "FROM break_glass_grant" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen)


def test_a_lookup_that_found_no_grant_spares_the_scope_its_read_until_one_is_written(
    session: Session, keys: KeySet
) -> None:
    owner = make_actor(session)
    colleague = make_actor(session, make_agency(session))
    case = make_case(session, owner, keys)
    session.commit()
    engine = session.get_bind()
    assert isinstance(engine, Engine)

    access.holds_no_break_glass(session, colleague)  # as `auth.resolve` notes it
    assert _reads_of_grants(engine, lambda: access.case_scope(session, colleague)) == 0
    with pytest.raises(NotFound):
        cases.get_case(session, colleague, case_id=case.id)

    breakglass.request_access(session, colleague, reference=case.reference, reason=REASON)
    # The grant written in this session makes the scope read the grants again.
    assert cases.get_case(session, colleague, case_id=case.id).break_glass_until is not None


def test_the_scope_at_a_given_moment_reads_the_grants_whatever_the_lookup_found(
    session: Session, keys: KeySet
) -> None:
    owner = make_actor(session)
    colleague = make_actor(session, make_agency(session))
    case = make_case(session, owner, keys)
    grant = breakglass.request_access(session, colleague, reference=case.reference, reason=REASON)
    session.commit()

    access.holds_no_break_glass(session, colleague)
    during = access.case_scope(session, colleague, at=grant.granted_at + timedelta(minutes=1))
    assert case.id in during.break_glass
