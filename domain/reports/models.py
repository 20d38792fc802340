"""The follow-up report and the release ledger (issue 14 item 5).

`follow_up_report` is the coordinator's working copy for one activity and one period: the
narrative ("Är målet nått? Vilka aktiviteter har genomförts?") and a version. It is `draft`
until published, then `published` and no longer editable; a correction reopens it as a
draft, and its next publication is a new release that `corrects` the last one.

`statistics_release` is the release ledger: one row per publication, never changed (the
database refuses UPDATE and DELETE, like the audit tables). It keeps the frozen files (JSON,
CSV, PDF) and the SHA-256 of each and of the release as a whole, who published it and when,
the audit checkpoint the data was computed up to, and the disclosure view of what it showed
(`disclosure`: cell keys, their microcells and the shown values; a suppressed cell's value is
null, never stored) so that every later release of the agreement is audited against it.

Neither table refers to a case or a young person; what they hold is already safe to publish.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import UTCDateTime
from common.ids import new_id

LEDGER_TABLES = ("statistics_release",)


class ReportState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class FollowUpReport(SQLModel, table=True):
    __tablename__ = "follow_up_report"
    __table_args__ = (
        UniqueConstraint("activity_id", "period_code"),
        CheckConstraint("state IN ('draft', 'published')", name="state"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    agreement_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("agreement.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    activity_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agreement_activity.id", ondelete="RESTRICT"), nullable=False)
    )
    period_code: str = Field(sa_column=Column(String(16), nullable=False))
    narrative: str = Field(default="", sa_column=Column(Text, nullable=False))
    state: str = Field(
        default=ReportState.DRAFT.value, sa_column=Column(String(16), nullable=False)
    )
    # The number of the last release published from this report (None: never published).
    last_release: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
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
    updated_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )


class StatisticsRelease(SQLModel, table=True):
    """A row of the release ledger. Append-only: no UPDATE, no DELETE."""

    __tablename__ = "statistics_release"
    __table_args__ = (
        UniqueConstraint("agreement_id", "number"),
        CheckConstraint("number >= 1", name="number"),
        CheckConstraint("corrects IS NULL OR corrects < number", name="corrects"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    agreement_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("agreement.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    number: int = Field(sa_column=Column(Integer, nullable=False))
    activity_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agreement_activity.id", ondelete="RESTRICT"), nullable=False)
    )
    report_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("follow_up_report.id", ondelete="RESTRICT"), nullable=False)
    )
    period_code: str = Field(sa_column=Column(String(16), nullable=False))
    corrects: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    document_json: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    document_csv: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    document_pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    json_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    csv_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    pdf_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    release_sha256: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    # The latest signed audit checkpoint when the figures were computed (None: none yet).
    checkpoint_size: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    checkpoint_root: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    disclosure: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    published_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
