from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import UTCDateTime
from common.guard import gated
from common.ids import new_id
from consent.rules import MoveReason
from domain.cases.rules import CaseState, Outcome, Programme


def _in(
    column: str, values: type[Programme] | type[CaseState] | type[Outcome] | type[MoveReason]
) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Case(SQLModel, table=True):
    __tablename__ = "case_file"  # "case" is an SQL keyword
    __table_args__ = (
        CheckConstraint(_in("programme", Programme), name="programme"),
        CheckConstraint(_in("state", CaseState), name="state"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', Outcome)}", name="outcome"),
        CheckConstraint(_in("state_reason", MoveReason), name="state_reason"),
        # A unit's cases newest first (the case list): its first page is read off the index,
        # not sorted out of every case the unit holds. Also the owner's foreign-key index.
        Index("ix_case_file_owner_newest", "owner_agency_id", "opened_at", "reference"),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    reference: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    programme: str = Field(sa_column=Column(String(8), nullable=False))
    state: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    outcome: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    # Why the case is in its state: the reason of its latest change. A case paused by hand
    # stays paused when consent is complete again; one the consent rules paused resumes.
    state_reason: str = Field(
        default=MoveReason.OPENED.value, sa_column=Column(String(32), nullable=False)
    )
    young_person_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("young_person.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    owner_agency_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=False)
    )
    owner_user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    opened_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # When the case first became active (the time of its first change to active, kept as it
    # was when the case pauses and resumes). The history holds it too; the follow-up report
    # reads it here for every case of a city rather than searching the history once a case.
    activated_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class CaseStateChange(SQLModel, table=True):
    """Every lifecycle move, kept for the case history and for statistics on durations.

    `changed_by` is empty for moves the system made by the consent rules (the sweep).
    """

    __tablename__ = "case_state_change"
    __table_args__ = (
        CheckConstraint(_in("reason", MoveReason), name="reason"),
        CheckConstraint("changed_by IS NOT NULL OR reason != 'manual'", name="manual_has_a_person"),
        # When a case first became active, read from the index alone.
        Index("ix_case_state_change_case_to", "case_id", "to_state", "changed_at"),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False)
    )
    from_state: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    to_state: str = Field(sa_column=Column(String(32), nullable=False))
    outcome: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    reason: str = Field(sa_column=Column(String(32), nullable=False))
    changed_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )
    changed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class CaseReferenceCounter(SQLModel, table=True):
    """Hands out the human reference numbers (SSPF-2026-0007) without gaps or races."""

    __tablename__ = "case_reference_counter"

    programme: str = Field(sa_column=Column(String(8), primary_key=True))
    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    last_number: int = Field(sa_column=Column(Integer, nullable=False))
