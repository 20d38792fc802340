"""The plan's tables: goals for the young person, and who promised to do what by when.

Both are shared entries (DESIGN §3): each carries its information category (`plan`), its
visibility and its author agency, and is read through `ScopedRepository._entries`. A goal's
author agency is its creator's; a commitment's is the committing agency (`agency_id`), so an
agency always sees what it has promised while it sees the case.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import EncryptedString, UTCDateTime
from common.guard import gated
from common.ids import new_id
from consent.rules import Category
from consent.scope import TEAM_VISIBILITY
from domain.plans.rules import CommitmentStatus, GoalStatus

PLAN_CATEGORY = Category.PLAN.value
_VISIBILITIES = "visibility IN ('team', 'own_agency')"


def _in(column: str, values: type[GoalStatus] | type[CommitmentStatus]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class PlanGoal(SQLModel, table=True):
    __tablename__ = "plan_goal"
    __table_args__ = (
        CheckConstraint(_in("status", GoalStatus), name="status"),
        CheckConstraint(f"category = '{PLAN_CATEGORY}'", name="category"),
        CheckConstraint(_VISIBILITIES, name="visibility"),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    text: str = Field(sa_column=Column(EncryptedString("plan_goal.text"), nullable=False))
    status: str = Field(default=GoalStatus.OPEN.value, sa_column=Column(String(16), nullable=False))
    category: str = Field(default=PLAN_CATEGORY, sa_column=Column(String(16), nullable=False))
    visibility: str = Field(default=TEAM_VISIBILITY, sa_column=Column(String(16), nullable=False))
    author_agency_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=False)
    )
    created_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class PlanCommitment(SQLModel, table=True):
    """`decided_at_meeting_id` names the meeting of the same case that decided it (the service
    checks the case; a deleted meeting leaves the commitment undecided-by-meeting)."""

    __tablename__ = "plan_commitment"
    __table_args__ = (
        CheckConstraint(_in("status", CommitmentStatus), name="status"),
        CheckConstraint(f"category = '{PLAN_CATEGORY}'", name="category"),
        CheckConstraint(_VISIBILITIES, name="visibility"),
        CheckConstraint(
            "(status = 'done') = (completed_at IS NOT NULL) "
            "AND (completed_at IS NULL) = (completed_by IS NULL)",
            name="completion",
        ),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    what: str = Field(sa_column=Column(EncryptedString("plan_commitment.what"), nullable=False))
    agency_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    person_user_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True, index=True),
    )
    due_on: date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(
        default=CommitmentStatus.OPEN.value, sa_column=Column(String(16), nullable=False)
    )
    comment: str | None = Field(
        default=None,
        sa_column=Column(EncryptedString("plan_commitment.comment"), nullable=True),
    )
    decided_at_meeting_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("meeting.id", ondelete="SET NULL"), nullable=True),
    )
    category: str = Field(default=PLAN_CATEGORY, sa_column=Column(String(16), nullable=False))
    visibility: str = Field(default=TEAM_VISIBILITY, sa_column=Column(String(16), nullable=False))
    created_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    completed_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
