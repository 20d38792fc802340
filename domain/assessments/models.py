"""The cylinder model's tables: the municipality's levels and factor catalogues (configuration
with history), and the assessments made with them.

Configuration rows are never rewritten: a renamed level or factor is a new row (the next
`version` of the same `code` / `factor_id`) and the old row gets `superseded_at`; a retired one
is a new version with `retired` set. The current configuration is the rows not superseded and
not retired. The defaults shipped by the migration carry `is_default`, a set to be replaced by
the municipality's own wording.

An assessment is a shared entry (DESIGN §3) of category `risk`, visibility `team`, author
agency the recording unit, read through `ScopedRepository._entries`. It is immutable: it keeps
the level code, rank and wording, and the factor texts, it was made with; a new assessment
supersedes it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import EncryptedString, UTCDateTime
from common.guard import gated
from common.ids import new_id
from consent.rules import Category
from consent.scope import TEAM_VISIBILITY

RISK_CATEGORY = Category.RISK.value
FACTOR_KINDS = ("risk", "protective")


class CylinderLevel(SQLModel, table=True):
    """One version of one level: `rank` orders the levels (0 at the bottom of the cylinder,
    the highest rank the most criminally active)."""

    __tablename__ = "cylinder_level"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code: str = Field(sa_column=Column(String(8), nullable=False, index=True))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    rank: int = Field(sa_column=Column(Integer, nullable=False))
    wording: str = Field(sa_column=Column(String(300), nullable=False))
    is_default: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    retired: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    recorded_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )
    superseded_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class AssessmentFactor(SQLModel, table=True):
    """One version of one risk or protective factor; `factor_id` is the factor across its
    versions (what an assessment and the API name)."""

    __tablename__ = "assessment_factor"
    __table_args__ = (
        UniqueConstraint("factor_id", "version"),
        CheckConstraint("kind IN ('risk', 'protective')", name="kind"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    factor_id: uuid.UUID = Field(sa_column=Column(Uuid(), nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    rank: int = Field(sa_column=Column(Integer, nullable=False))
    text: str = Field(sa_column=Column(String(300), nullable=False))
    is_default: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    retired: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    recorded_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )
    superseded_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class Assessment(SQLModel, table=True):
    """`factors` and `participants` are JSON snapshots (the factor texts ticked; the team
    members who took part with their names and agencies), encrypted with the rationale: which
    factors were ticked says as much about the young person as the rationale does."""

    __tablename__ = "assessment"
    __table_args__ = (
        CheckConstraint(f"category = '{RISK_CATEGORY}'", name="category"),
        CheckConstraint("visibility IN ('team', 'own_agency')", name="visibility"),
        # A case's assessments in order with their levels, read from the index alone.
        Index("ix_assessment_case_order", "case_id", "assessed_on", "recorded_at", "level_rank"),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False)
    )
    level_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("cylinder_level.id", ondelete="RESTRICT"), nullable=False)
    )
    level_code: str = Field(sa_column=Column(String(8), nullable=False))
    level_rank: int = Field(sa_column=Column(Integer, nullable=False))
    level_wording: str = Field(sa_column=Column(String(300), nullable=False))
    factors: str = Field(sa_column=Column(EncryptedString("assessment.factors"), nullable=False))
    rationale: str = Field(
        sa_column=Column(EncryptedString("assessment.rationale"), nullable=False)
    )
    participants: str = Field(
        sa_column=Column(EncryptedString("assessment.participants"), nullable=False)
    )
    meeting_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("meeting.id"), nullable=True)
    )
    assessed_on: date = Field(sa_column=Column(Date, nullable=False))
    category: str = Field(default=RISK_CATEGORY, sa_column=Column(String(16), nullable=False))
    visibility: str = Field(default=TEAM_VISIBILITY, sa_column=Column(String(16), nullable=False))
    author_agency_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=False)
    )
    recorded_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
