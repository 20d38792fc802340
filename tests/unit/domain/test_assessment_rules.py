"""The cylinder model's pure rules: choosing levels, factors and participants, the day of an
assessment, configuring a level, the chart's axis and movements, and the snapshots."""

from __future__ import annotations

import uuid
from datetime import date

from common.errors import FieldError
from domain.assessments import rules
from domain.assessments.rules import Factor, Level, Movement, Participant

LEVELS = [Level("0", 0, "Ingen känd risk"), Level("D", 1, "Utkanten"), Level("A", 4, "Mest")]
RISK = Factor(uuid.uuid4(), "risk", "Hög skolfrånvaro")
PROTECTIVE = Factor(uuid.uuid4(), "protective", "Regelbunden skolgång")
TODAY = date(2026, 12, 3)


def fields(errors: list[FieldError]) -> list[str]:
    return [e.field for e in errors]


def test_a_current_level_is_chosen_by_code() -> None:
    errors: list[FieldError] = []
    assert rules.choose_level(" D ", LEVELS, errors) == LEVELS[1]
    assert errors == []


def test_an_unknown_or_missing_level_names_the_field_in_both_languages() -> None:
    for code in ("Z", ""):
        errors: list[FieldError] = []
        assert rules.choose_level(code, LEVELS, errors) is None
        [error] = errors
        assert error.field == "level_code"
        assert error.english
        assert error.message != error.english


def test_factors_are_chosen_once_in_catalogue_order_and_unknown_ones_refused() -> None:
    errors: list[FieldError] = []
    chosen = rules.choose_factors([PROTECTIVE.id, RISK.id, RISK.id], [RISK, PROTECTIVE], errors)
    assert chosen == [RISK, PROTECTIVE]
    assert errors == []
    assert rules.choose_factors([uuid.uuid4()], [RISK], errors) == []
    assert fields(errors) == ["factor_ids"]


def test_participants_must_be_on_the_team_and_at_least_one() -> None:
    member = Participant(uuid.uuid4(), "Sara", uuid.uuid4(), "Socialtjänsten")
    team = {member.user_id: member}
    errors: list[FieldError] = []
    assert rules.choose_participants([member.user_id, member.user_id], team, errors) == [member]
    assert rules.choose_participants([], team, errors) == []
    assert rules.choose_participants([uuid.uuid4()], team, errors) == []
    assert fields(errors) == ["participant_user_ids", "participant_user_ids"]


def test_the_day_is_the_meetings_or_the_date_given_and_never_in_the_future() -> None:
    def day(**kw: object) -> tuple[date | None, list[str]]:
        errors: list[FieldError] = []
        found = rules.assessment_day(today=TODAY, errors=errors, **kw)  # type: ignore[arg-type]
        return found, fields(errors)

    meeting = date(2026, 11, 20)
    assert day(given=None, meeting_day=meeting, has_meeting=True) == (meeting, [])
    assert day(given=meeting, meeting_day=meeting, has_meeting=True) == (meeting, [])
    assert day(given=TODAY, meeting_day=meeting, has_meeting=True) == (None, ["assessed_on"])
    assert day(given=None, meeting_day=date(2026, 12, 4), has_meeting=True) == (
        None,
        ["meeting_id"],
    )
    assert day(given=TODAY, meeting_day=None, has_meeting=False) == (TODAY, [])
    assert day(given=None, meeting_day=None, has_meeting=False) == (None, ["assessed_on"])
    assert day(given=date(2026, 12, 4), meeting_day=None, has_meeting=False) == (
        None,
        ["assessed_on"],
    )


def test_a_level_is_configured_with_a_code_wording_and_a_free_rank() -> None:
    errors: list[FieldError] = []
    level = rules.level_config(code="E", wording=" Ny nivå ", rank=2, others=LEVELS, errors=errors)
    assert level == Level("E", 2, "Ny nivå")
    assert errors == []
    rules.level_config(code="e!", wording="", rank=4, others=LEVELS, errors=errors)
    assert fields(errors) == ["code", "wording", "rank"]
    renamed: list[FieldError] = []
    assert rules.level_config(code="A", wording="x", rank=4, others=LEVELS, errors=renamed)
    assert renamed == []  # its own rank is not taken


def test_the_axis_adds_levels_the_configuration_no_longer_has_in_rank_order() -> None:
    retired = Level("C", 2, "Gammal formulering")
    assert rules.axis_levels(LEVELS, [LEVELS[1], retired]) == [
        LEVELS[0],
        LEVELS[1],
        retired,
        LEVELS[2],
    ]
    old_wording = Level("D", 1, "Äldre formulering av D")
    assert rules.axis_levels(LEVELS, [old_wording])[1] == LEVELS[1]  # current wording wins


def test_movements_compare_each_rank_with_the_one_before() -> None:
    assert rules.movements([1, 3, 3, 0]) == [
        Movement.FIRST,
        Movement.UP,
        Movement.SAME,
        Movement.DOWN,
    ]
    assert rules.movements([]) == []


def test_snapshots_round_trip() -> None:
    member = Participant(uuid.uuid4(), "Åsa Ödman", uuid.uuid4(), "Polisen")
    assert rules.participants_from_json(rules.participants_json([member])) == [member]
    assert rules.factors_from_json(rules.factors_json([RISK, PROTECTIVE])) == [RISK, PROTECTIVE]
