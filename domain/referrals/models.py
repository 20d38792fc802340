"""The referral (aktualisering) and the municipal configuration it is judged by.

`referral` names a young person and is consent-gated: it is read only through
`ReferralRepository`, whose statements are built from the reader's scope (the receiving unit,
a coordinator's programme) or from the sender's own user id.

The configuration tables (grounds, eligibility, capacity) hold no personal data. They keep
history: a row is retired (`retired_at`), never changed or deleted, and a referral keeps the
ground ids it was made with. `referral_setting` holds one version per kind for the optimistic
concurrency of the administrator's edits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import EncryptedString, UTCDateTime
from common.guard import gated
from common.ids import new_id
from domain.referrals.rules import Decision, ReferralStatus, WishedProgramme


def _in(column: str, values: type[WishedProgramme] | type[ReferralStatus] | type[Decision]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class SettingKind:
    GROUNDS = "grounds"
    ELIGIBILITY = "eligibility"
    CAPACITY = "capacity"


class ReferralSetting(SQLModel, table=True):
    __tablename__ = "referral_setting"

    kind: str = Field(sa_column=Column(String(16), primary_key=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )


class ReferralGround(SQLModel, table=True):
    """A ground of the catalogue (DESIGN §5). `is_default`: shipped, to be reviewed."""

    __tablename__ = "referral_ground"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    label: str = Field(sa_column=Column(String(200), nullable=False))
    position: int = Field(sa_column=Column(Integer, nullable=False))
    is_default: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    retired_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class EligibilityRule(SQLModel, table=True):
    """An age band of a programme (ages inclusive)."""

    __tablename__ = "eligibility_rule"
    __table_args__ = (
        CheckConstraint("programme IN ('SSPF', 'SIG')", name="programme"),
        CheckConstraint("min_age >= 0 AND max_age >= min_age", name="ages"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    programme: str = Field(sa_column=Column(String(8), nullable=False))
    label: str = Field(sa_column=Column(String(100), nullable=False))
    min_age: int = Field(sa_column=Column(Integer, nullable=False))
    max_age: int = Field(sa_column=Column(Integer, nullable=False))
    requires_crime_criteria: bool = Field(sa_column=Column(Boolean, nullable=False))
    is_default: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    retired_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class CapacityRule(SQLModel, table=True):
    """At most `per_person` open cases of the programme for each person holding `role` in
    an agency of `agency_kind` (police contact persons: 2 SIG cases each)."""

    __tablename__ = "capacity_rule"
    __table_args__ = (
        CheckConstraint("programme IN ('SSPF', 'SIG')", name="programme"),
        CheckConstraint("per_person >= 1", name="per_person"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    programme: str = Field(sa_column=Column(String(8), nullable=False))
    agency_kind: str = Field(sa_column=Column(String(32), nullable=False))
    role: str = Field(sa_column=Column(String(32), nullable=False))
    per_person: int = Field(sa_column=Column(Integer, nullable=False))
    is_default: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    retired_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class Referral(SQLModel, table=True):
    """A concern raised about a young person: by personnummer (blind index and the encrypted
    number) or, when unknown, by an encrypted name, a birth year and a note."""

    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint(_in("programme", WishedProgramme), name="programme"),
        CheckConstraint(_in("status", ReferralStatus), name="status"),
        CheckConstraint(f"decision IS NULL OR {_in('decision', Decision)}", name="decision"),
        CheckConstraint(
            "(personnummer_index IS NULL) = (personnummer IS NULL) "
            "AND (personnummer_index IS NOT NULL OR (name IS NOT NULL AND birth_year IS NOT NULL))",
            name="identified",
        ),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    sender_user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    sender_agency_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=False)
    )
    receiving_agency_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    personnummer_index: str | None = Field(
        default=None, sa_column=Column(String(64), nullable=True, index=True)
    )
    personnummer: str | None = Field(
        default=None, sa_column=Column(EncryptedString("referral.personnummer"), nullable=True)
    )
    name: str | None = Field(
        default=None, sa_column=Column(EncryptedString("referral.name"), nullable=True)
    )
    birth_year: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    note: str | None = Field(
        default=None, sa_column=Column(EncryptedString("referral.note"), nullable=True)
    )
    programme: str = Field(sa_column=Column(String(8), nullable=False))
    # The programme social services chose at triage (waiting list, case opened): SSPF or SIG.
    case_programme: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    ground_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    text: str | None = Field(
        default=None, sa_column=Column(EncryptedString("referral.text"), nullable=True)
    )
    status: str = Field(
        default=ReferralStatus.RECEIVED.value,
        sa_column=Column(String(32), nullable=False, index=True),
    )
    decision: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    decline_reason: str | None = Field(
        default=None, sa_column=Column(EncryptedString("referral.decline_reason"), nullable=True)
    )
    # SIG: "known to social services and suspected of or convicted for a crime", recorded at
    # triage with the user who confirmed it.
    crime_criteria_met: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    crime_criteria_confirmed_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )
    decided_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )
    decided_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    days_to_decision: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The first meeting of the linked case with final minutes, and the days to it: stored
    # when the minutes are finalised (or the referral is linked), for the follow-up.
    first_meeting_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    days_to_first_meeting: int | None = Field(
        default=None, sa_column=Column(Integer, nullable=True)
    )
    waiting_since: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    case_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("case_file.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
