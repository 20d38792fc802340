"""The collaboration agreement over the JSON API. Configuration only: nothing here names a
case or a young person."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from domain.agreements.models import (
    Agreement,
    AgreementActivity,
    AgreementGoalArea,
    AgreementParty,
    AgreementTarget,
)
from domain.agreements.service import AgreementView
from domain.statistics.spec import DEFAULT_K


class PartyIn(BaseModel):
    name: str = Field(max_length=400)
    agency_id: uuid.UUID | None = Field(default=None, description="When the party is an agency")


class PartyOut(BaseModel):
    id: uuid.UUID
    name: str
    agency_id: uuid.UUID | None

    @classmethod
    def of(cls, party: AgreementParty) -> PartyOut:
        return cls(id=party.id, name=party.name, agency_id=party.agency_id)


class AgreementIn(BaseModel):
    name: str = Field(max_length=400)
    starts_on: date
    ends_on: date = Field(description="Exclusive: the first day after the agreement")
    period_kind: str = Field(description="tertial, half_year, school_term or year")
    k: int = Field(default=DEFAULT_K, description="The smallest count shown (3-20)")
    breakdowns: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Subset of: programme, area, school, gender, age_band",
    )
    areas: list[str] = Field(default_factory=list, max_length=200)
    school_agency_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    follow_up_by: str = Field(default="", max_length=400, description="Who follows up")
    parties: list[PartyIn] = Field(default_factory=list, max_length=50)


class AgreementPatch(BaseModel):
    """Only the fields given change. After the first publication the grid (period kind, k,
    dates, breakdowns, areas, schools) cannot change: 409."""

    version: int = Field(description="The version the change is based on")
    name: str | None = Field(default=None, max_length=400)
    starts_on: date | None = None
    ends_on: date | None = None
    period_kind: str | None = None
    k: int | None = None
    breakdowns: list[str] | None = Field(default=None, max_length=10)
    areas: list[str] | None = Field(default=None, max_length=200)
    school_agency_ids: list[uuid.UUID] | None = Field(default=None, max_length=200)
    follow_up_by: str | None = Field(default=None, max_length=400)


class AgreementSummaryOut(BaseModel):
    id: uuid.UUID
    name: str
    starts_on: date
    ends_on: date
    period_kind: str
    version: int
    grid_frozen_at: datetime | None

    @classmethod
    def of(cls, agreement: Agreement) -> AgreementSummaryOut:
        return cls(
            id=agreement.id,
            name=agreement.name,
            starts_on=agreement.starts_on,
            ends_on=agreement.ends_on,
            period_kind=agreement.period_kind,
            version=agreement.version,
            grid_frozen_at=agreement.grid_frozen_at,
        )


class GoalAreaIn(BaseModel):
    letter: str = Field(max_length=4)
    title: str = Field(max_length=600)


class GoalAreaPatch(BaseModel):
    version: int
    title: str = Field(max_length=600)


class GoalAreaOut(BaseModel):
    id: uuid.UUID
    letter: str
    title: str
    version: int

    @classmethod
    def of(cls, goal_area: AgreementGoalArea) -> GoalAreaOut:
        return cls(
            id=goal_area.id,
            letter=goal_area.letter,
            title=goal_area.title,
            version=goal_area.version,
        )


class ActivityIn(BaseModel):
    goal_area_id: uuid.UUID
    name: str = Field(max_length=400)
    programmes: list[str] = Field(
        default_factory=list, max_length=2, description="SSPF, SIG; empty: both"
    )
    school_agency_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=200, description="Within the agreement's; empty: all"
    )
    areas: list[str] = Field(
        default_factory=list, max_length=200, description="Within the agreement's; empty: all"
    )
    responsible: str = Field(default="", max_length=600)


class ActivityPatch(BaseModel):
    version: int
    goal_area_id: uuid.UUID | None = None
    name: str | None = Field(default=None, max_length=400)
    programmes: list[str] | None = Field(default=None, max_length=2)
    school_agency_ids: list[uuid.UUID] | None = Field(default=None, max_length=200)
    areas: list[str] | None = Field(default=None, max_length=200)
    responsible: str | None = Field(default=None, max_length=600)


class TargetIn(BaseModel):
    indicator: str = Field(max_length=64, description="A built-in indicator's code")
    row_code: str | None = Field(
        default=None, max_length=64, description="One of the indicator's rows; null: the total"
    )
    kind: str = Field(description="count, share or median_days (as the indicator takes)")
    comparison: str = Field(description="at_least or at_most")
    value: float = Field(description="count: an integer >= 0; share: 0-100; median days >= 0")
    label: str = Field(max_length=400, description='E.g. "Bryta loss minst 15 unga"')


class TargetPatch(BaseModel):
    version: int
    indicator: str | None = Field(default=None, max_length=64)
    row_code: str | None = Field(default=None, max_length=64)
    kind: str | None = None
    comparison: str | None = None
    value: float | None = None
    label: str | None = Field(default=None, max_length=400)


class TargetOut(BaseModel):
    id: uuid.UUID
    indicator: str
    row_code: str | None
    kind: str
    comparison: str
    value: float
    label: str
    version: int

    @classmethod
    def of(cls, target: AgreementTarget) -> TargetOut:
        return cls(
            id=target.id,
            indicator=target.indicator,
            row_code=target.row_code,
            kind=target.kind,
            comparison=target.comparison,
            value=target.value,
            label=target.label,
            version=target.version,
        )


class ActivityOut(BaseModel):
    id: uuid.UUID
    goal_area_id: uuid.UUID
    name: str
    programmes: list[str]
    school_agency_ids: list[uuid.UUID]
    areas: list[str]
    responsible: str
    version: int
    targets: list[TargetOut]

    @classmethod
    def of(
        cls, activity: AgreementActivity, targets: list[AgreementTarget] | None = None
    ) -> ActivityOut:
        return cls(
            id=activity.id,
            goal_area_id=activity.goal_area_id,
            name=activity.name,
            programmes=list(activity.programmes),
            school_agency_ids=[uuid.UUID(s) for s in activity.school_agency_ids],
            areas=list(activity.areas),
            responsible=activity.responsible,
            version=activity.version,
            targets=[TargetOut.of(t) for t in targets or []],
        )


class PeriodOut(BaseModel):
    code: str
    label: str
    start: date
    end: date = Field(description="Exclusive")


class AgreementOut(BaseModel):
    id: uuid.UUID
    name: str
    starts_on: date
    ends_on: date = Field(description="Exclusive")
    period_kind: str
    k: int
    breakdowns: list[str]
    areas: list[str]
    school_agency_ids: list[uuid.UUID]
    follow_up_by: str
    grid_frozen_at: datetime | None
    version: int
    created_at: datetime
    parties: list[PartyOut]
    goal_areas: list[GoalAreaOut]
    activities: list[ActivityOut]
    periods: list[PeriodOut]

    @classmethod
    def of(cls, view: AgreementView) -> AgreementOut:
        agreement = view.agreement
        return cls(
            id=agreement.id,
            name=agreement.name,
            starts_on=agreement.starts_on,
            ends_on=agreement.ends_on,
            period_kind=agreement.period_kind,
            k=agreement.k,
            breakdowns=list(agreement.breakdowns),
            areas=list(agreement.areas),
            school_agency_ids=[uuid.UUID(s) for s in agreement.school_agency_ids],
            follow_up_by=agreement.follow_up_by,
            grid_frozen_at=agreement.grid_frozen_at,
            version=agreement.version,
            created_at=agreement.created_at,
            parties=[PartyOut.of(p) for p in view.parties],
            goal_areas=[GoalAreaOut.of(g) for g in view.goal_areas],
            activities=[
                ActivityOut.of(a, list(view.targets.get(a.id, ()))) for a in view.activities
            ],
            periods=[
                PeriodOut(code=p.code, label=p.label, start=p.start, end=p.end)
                for p in view.periods
            ],
        )
