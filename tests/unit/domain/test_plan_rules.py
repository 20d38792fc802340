"""The plan's pure rules: overdue, status moves, and input checks naming their field."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from common.errors import FieldError, InvalidTransition
from domain.plans import rules
from domain.plans.rules import CommitmentStatus

DAY = date(2026, 5, 10)
OWNER, SCHOOL, POLICE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ANNA, PER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(
    ("status", "due_on", "overdue"),
    [
        ("open", date(2026, 5, 9), True),
        ("open", DAY, False),
        ("open", date(2026, 5, 11), False),
        ("done", date(2026, 5, 1), False),
        ("cancelled", date(2026, 5, 1), False),
    ],
)
def test_overdue_is_open_and_past_its_due_date(status: str, due_on: date, overdue: bool) -> None:
    assert rules.is_overdue(status, due_on, DAY) is overdue


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (CommitmentStatus.OPEN, CommitmentStatus.DONE),
        (CommitmentStatus.OPEN, CommitmentStatus.CANCELLED),
        (CommitmentStatus.DONE, CommitmentStatus.OPEN),
        (CommitmentStatus.CANCELLED, CommitmentStatus.OPEN),
        (CommitmentStatus.OPEN, CommitmentStatus.OPEN),
    ],
)
def test_allowed_moves(current: CommitmentStatus, target: CommitmentStatus) -> None:
    rules.check_commitment_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (CommitmentStatus.DONE, CommitmentStatus.DONE),
        (CommitmentStatus.CANCELLED, CommitmentStatus.DONE),
        (CommitmentStatus.DONE, CommitmentStatus.CANCELLED),
        (CommitmentStatus.CANCELLED, CommitmentStatus.CANCELLED),
    ],
)
def test_refused_moves_are_409_in_both_languages(
    current: CommitmentStatus, target: CommitmentStatus
) -> None:
    with pytest.raises(InvalidTransition) as refused:
        rules.check_commitment_move(current, target)
    assert refused.value.status_code == 409
    assert refused.value.english
    assert refused.value.english != refused.value.detail


def _fields(errors: list[FieldError]) -> list[str]:
    return [e.field for e in errors]


def test_agency_must_own_the_case_or_be_on_the_team() -> None:
    for agency, ok in ((OWNER, True), (SCHOOL, True), (POLICE, False), (None, False)):
        errors: list[FieldError] = []
        rules.check_agency(
            agency, owner_agency_id=OWNER, team_agencies=frozenset({SCHOOL}), errors=errors
        )
        assert _fields(errors) == ([] if ok else ["agency_id"]), agency


def test_person_must_be_on_the_team_and_in_the_agency() -> None:
    team = {ANNA: SCHOOL}
    cases = [(None, []), (ANNA, []), (PER, ["person_user_id"])]
    for person, expected in cases:
        errors: list[FieldError] = []
        rules.check_person(person, agency_id=SCHOOL, team=team, errors=errors)
        assert _fields(errors) == expected
    errors = []
    rules.check_person(ANNA, agency_id=POLICE, team=team, errors=errors)
    assert _fields(errors) == ["person_user_id"]
    assert "aktör" in errors[0].message
    assert "agency" in (errors[0].english or "")


def test_text_is_trimmed_required_and_bounded() -> None:
    errors: list[FieldError] = []
    assert rules.required_text("  Ringa  ", "what", "vad", errors) == "Ringa"
    assert rules.required_text(" ", "what", "vad", errors) is None
    assert rules.required_text("x" * (rules.MAX_TEXT + 1), "what", "vad", errors) is None
    assert _fields(errors) == ["what", "what"]
    assert rules.optional_comment("   ", errors) is None
    assert len(errors) == 2


def test_unknown_statuses_name_the_status_field() -> None:
    errors: list[FieldError] = []
    assert rules.goal_status("reached", errors) is rules.GoalStatus.REACHED
    assert rules.goal_status("finished", errors) is None
    assert rules.commitment_status("klart", errors) is None
    assert _fields(errors) == ["status", "status"]
