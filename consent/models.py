"""Tables the access policy rests on: who is on which case's team."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, Date, ForeignKey, String
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import EncryptedString, UTCDateTime
from common.guard import gated
from common.ids import new_id


class TeamRole(StrEnum):
    OWNER = "owner"
    COORDINATOR = "coordinator"
    CONTACT = "contact"


TEAM_ROLE_LABELS = {
    TeamRole.OWNER: "Ärendeägare",
    TeamRole.COORDINATOR: "Samordnare",
    TeamRole.CONTACT: "Kontaktperson",
}


class TeamMember(SQLModel, table=True):
    """A membership period. Removal sets `removed_at`; the row stays as history."""

    __tablename__ = "team_member"
    __table_args__ = gated()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    role: str = Field(sa_column=Column(String(16), nullable=False))
    added_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    added_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    removed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class ConsentMethod(StrEnum):
    PAPER_FORM = "paper_form"
    DIGITAL_SIGNATURE = "digital_signature"
    VERBAL_DOCUMENTED = "verbal_documented"


CONSENT_METHOD_LABELS = {
    ConsentMethod.PAPER_FORM: "Underskriven blankett",
    ConsentMethod.DIGITAL_SIGNATURE: "Digital underskrift",
    ConsentMethod.VERBAL_DOCUMENTED: "Muntligt, dokumenterat",
}


class ConsentRecord(SQLModel, table=True):
    """One signer's decision. Never edited: a correction is a newer record for the same
    signer, a withdrawal is a separate `ConsentWithdrawal`."""

    __tablename__ = "consent_record"
    __table_args__ = gated()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    signer_kind: str = Field(sa_column=Column(String(16), nullable=False))
    guardian_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("guardian.id", ondelete="CASCADE"), nullable=True)
    )
    decision: str = Field(sa_column=Column(String(16), nullable=False))
    signed_on: date = Field(sa_column=Column(Date, nullable=False))
    valid_from: date = Field(sa_column=Column(Date, nullable=False))
    valid_until: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    agencies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    method: str = Field(sa_column=Column(String(32), nullable=False))
    document_sha256: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    recorded_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ConsentWithdrawal(SQLModel, table=True):
    """Withdrawal of one consent record; it takes effect at `withdrawn_at`."""

    __tablename__ = "consent_withdrawal"
    __table_args__ = gated()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    consent_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("consent_record.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    withdrawn_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ReviewOutcome(StrEnum):
    JUSTIFIED = "justified"
    NOT_JUSTIFIED = "not_justified"


REVIEW_OUTCOME_LABELS = {
    ReviewOutcome.JUSTIFIED: "Befogad",
    ReviewOutcome.NOT_JUSTIFIED: "Inte befogad",
}


class BreakGlassGrant(SQLModel, table=True):
    """Nödåtkomst: a social-services user's time-limited access to a case they are not on,
    with a written reason (encrypted: it is free text) that the auditor reviews."""

    __tablename__ = "break_glass_grant"
    __table_args__ = (
        CheckConstraint(
            "review_outcome IS NULL OR review_outcome IN ('justified', 'not_justified')",
            name="review_outcome",
        ),
        CheckConstraint(
            "(reviewed_at IS NULL) = (reviewed_by IS NULL) "
            "AND (reviewed_at IS NULL) = (review_outcome IS NULL)",
            name="review_complete",
        ),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    reason: str = Field(
        sa_column=Column(EncryptedString("break_glass_grant.reason"), nullable=False)
    )
    granted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The auditor's review, recorded once: all four stay empty until then.
    reviewed_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )
    reviewed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    review_outcome: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    review_note: str | None = Field(
        default=None,
        sa_column=Column(EncryptedString("break_glass_grant.review_note"), nullable=True),
    )
