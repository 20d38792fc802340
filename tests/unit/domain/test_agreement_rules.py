"""The agreement's pure rules: its periods, a period that must be its own, coverage within the
grid, target kinds that fit the indicator, the frozen grid, and the statistics request."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from common.errors import FieldError, ValidationFailed
from domain.agreements import rules
from domain.agreements.models import Agreement, AgreementActivity
from domain.statistics.periods import parse
from domain.statistics.spec import Breakdown, TargetKind

SCHOOL = str(uuid.uuid4())


def agreement(**changes: Any) -> Agreement:
    values: dict[str, Any] = {
        "name": "Test",
        "starts_on": date(2023, 6, 1),
        "ends_on": date(2027, 6, 1),
        "period_kind": "tertial",
        "k": 5,
        "breakdowns": ["programme", "school"],
        "areas": ["Norr", "Söder"],
        "school_agency_ids": [SCHOOL],
        "created_by": uuid.uuid4(),
        **changes,
    }
    return Agreement(**values)


def test_the_periods_are_the_whole_tertials_within_the_dates() -> None:
    codes = [p.code for p in rules.agreement_periods(agreement())]
    assert codes[:2] == ["2023-T3", "2024-T1"]
    assert codes[-1] == "2027-T1"


def test_a_period_outside_the_agreement_names_period() -> None:
    found = agreement()
    assert rules.period_of(found, "2025-T2").code == "2025-T2"
    for code in ("2023-T2", "2027-T2", "2025-H1", "nonsense"):
        with pytest.raises(ValidationFailed) as raised:
            rules.period_of(found, code)
        assert [e.field for e in raised.value.errors] == ["period"]


def test_coverage_must_lie_within_the_grid() -> None:
    errors: list[FieldError] = []
    rules.check_coverage(
        agreement(), school_agency_ids=[str(uuid.uuid4())], areas=["Väster"], errors=errors
    )
    assert {e.field for e in errors} == {"school_agency_ids", "areas"}
    errors = []
    rules.check_coverage(agreement(), school_agency_ids=[SCHOOL], areas=["Norr"], errors=errors)
    assert errors == []


@pytest.mark.parametrize(
    ("indicator", "kind", "value", "field"),
    [
        ("consent_share", "count", 5, "kind"),
        ("meetings", "median_days", 5, "kind"),
        ("consent_share", "share", 100.5, "value"),
        ("meetings", "count", 1.5, "value"),
        ("case_duration", "median_days", -1, "value"),
    ],
)
def test_a_target_must_fit_its_indicator(
    indicator: str, kind: str, value: float, field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        rules.target(
            indicator=indicator,
            row_code=None,
            kind=kind,
            comparison="at_least",
            value=value,
            label="Mål",
        )
    assert field in {e.field for e in raised.value.errors}


def test_a_valid_target() -> None:
    given = rules.target(
        indicator="cases_closed",
        row_code="goals_met",
        kind="count",
        comparison="at_least",
        value="15",
        label=" Bryta loss minst 15 unga ",
    )
    assert (given.kind, given.value, given.label) == (
        TargetKind.COUNT,
        15,
        "Bryta loss minst 15 unga",
    )


def test_the_frozen_grid_refuses_changes_but_not_an_unchanged_value() -> None:
    frozen = agreement(grid_frozen_at=datetime(2025, 9, 1, tzinfo=UTC))
    rules.check_grid_change(frozen, rules.GridChange(k=5, areas=["Norr", "Söder"]))
    for change in (
        rules.GridChange(k=6),
        rules.GridChange(period_kind="year"),
        rules.GridChange(breakdowns=["programme"]),
        rules.GridChange(school_agency_ids=[]),
        rules.GridChange(ends_on=date(2028, 1, 1)),
    ):
        with pytest.raises(rules.GridFrozen):
            rules.check_grid_change(frozen, change)
    rules.check_grid_change(agreement(), rules.GridChange(k=6))  # not frozen: allowed


def test_the_statistics_request_takes_the_grid_from_the_agreement() -> None:
    found = agreement()
    activity = AgreementActivity(
        agreement_id=found.id,
        goal_area_id=uuid.uuid4(),
        name="SSPF på X",
        programmes=["SSPF"],
        school_agency_ids=[SCHOOL],
        areas=[],
    )
    request = rules.statistics_request(
        found, activity, parse("2025-T2"), school_names={uuid.UUID(SCHOOL): "Skolan"}
    )
    assert request.agreement_id == found.id
    assert request.k == 5
    assert request.grid.breakdowns == (Breakdown.PROGRAMME, Breakdown.SCHOOL)
    assert request.grid.areas == ("Norr", "Söder")
    assert request.grid.schools == ((uuid.UUID(SCHOOL), "Skolan"),)
    assert request.coverage.programmes == frozenset({"SSPF"})
    assert request.agreement_periods == tuple(rules.agreement_periods(found))
    with pytest.raises(ValidationFailed):
        rules.statistics_request(found, activity, parse("2030-T1"))
