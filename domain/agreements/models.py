"""The collaboration agreement (samverkansöverenskommelse, DESIGN §2) and what it promises.

An `agreement` has parties, goal areas (the Västerås agreement's A–H), activities that each
cover a programme and some schools or areas, and targets on the built-in indicators
(`domain.statistics.spec.INDICATORS`). It fixes the follow-up grid before any data is seen:
the period kind, `k`, the breakdowns and the areas and schools they list. The grid is frozen
(`grid_frozen_at`) when the first report is published, and never changes afterwards, so that
two releases of one agreement can never be cut differently and differenced.

These tables are municipal configuration: they hold no reference to a case or a young person
and no personal data (schools are agency ids; the creator is a user id). Keep it so.

Lists (breakdowns, areas, schools, programmes) are JSON arrays of strings, in the order the
coordinator gave them; a school is its agency id as text.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import UTCDateTime
from common.ids import new_id
from domain.statistics.periods import PeriodKind
from domain.statistics.spec import DEFAULT_K, Comparison, TargetKind

MIN_K = 3
MAX_K = 20


def _in(column: str, values: type[PeriodKind] | type[TargetKind] | type[Comparison]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Agreement(SQLModel, table=True):
    """`ends_on` is exclusive: an agreement 2023-06-01 – 2027-06-01 ends before 1 June 2027."""

    __tablename__ = "agreement"
    __table_args__ = (
        CheckConstraint("starts_on < ends_on", name="dates"),
        CheckConstraint(f"k >= {MIN_K} AND k <= {MAX_K}", name="k"),
        CheckConstraint(_in("period_kind", PeriodKind), name="period_kind"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False))
    starts_on: date = Field(sa_column=Column(Date, nullable=False))
    ends_on: date = Field(sa_column=Column(Date, nullable=False))
    period_kind: str = Field(sa_column=Column(String(16), nullable=False))
    k: int = Field(default=DEFAULT_K, sa_column=Column(Integer, nullable=False))
    # The grid: `Breakdown` values, area names, school agency ids (as text).
    breakdowns: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    areas: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    school_agency_ids: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    follow_up_by: str = Field(default="", sa_column=Column(String(200), nullable=False))
    grid_frozen_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    created_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class AgreementParty(SQLModel, table=True):
    """A party that signed: a name, and the agency when it is one of ours."""

    __tablename__ = "agreement_party"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    agreement_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agreement.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name: str = Field(sa_column=Column(String(200), nullable=False))
    agency_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=True),
    )
    position: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class AgreementGoalArea(SQLModel, table=True):
    """Målområde: a letter (A–Z, unique within the agreement) and a title."""

    __tablename__ = "agreement_goal_area"
    __table_args__ = (UniqueConstraint("agreement_id", "letter"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    agreement_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agreement.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    letter: str = Field(sa_column=Column(String(1), nullable=False))
    title: str = Field(sa_column=Column(String(300), nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class AgreementActivity(SQLModel, table=True):
    """An activity under one goal area, e.g. "SSPF på Nybyggeskolan". Its coverage (an empty
    list: no restriction on that dimension) lies within the agreement's grid."""

    __tablename__ = "agreement_activity"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    agreement_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agreement.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    goal_area_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("agreement_goal_area.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    name: str = Field(sa_column=Column(String(200), nullable=False))
    programmes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    school_agency_ids: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    areas: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    responsible: str = Field(default="", sa_column=Column(String(300), nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class AgreementTarget(SQLModel, table=True):
    """A target on one built-in indicator: `row_code` None is the indicator's total. `value`
    is a count (an integer), a share in percent (0–100) or a median in days."""

    __tablename__ = "agreement_target"
    __table_args__ = (
        CheckConstraint(_in("kind", TargetKind), name="kind"),
        CheckConstraint(_in("comparison", Comparison), name="comparison"),
        CheckConstraint("value >= 0", name="value"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    activity_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("agreement_activity.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    indicator: str = Field(sa_column=Column(String(64), nullable=False))
    row_code: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    comparison: str = Field(sa_column=Column(String(16), nullable=False))
    value: float = Field(sa_column=Column(Float, nullable=False))
    label: str = Field(sa_column=Column(String(200), nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
