"""Meetings, their attendance and their minutes (DESIGN §2 "Meeting"; issue 12).

Every table is consent-gated. Free text and names (the place, an "other" attendee's name and
role, an item's heading and text) are encrypted at rest, bound to their row (v2).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
)
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import EncryptedString, UTCDateTime
from common.guard import gated
from common.ids import new_id
from consent.rules import Category
from domain.meetings.rules import (
    AttendanceStatus,
    AttendeeKind,
    MeetingKind,
    MeetingStatus,
    MinutesState,
    Visibility,
)


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Meeting(SQLModel, table=True):
    """A meeting of a case's team. `version` guards every change of the header, the
    attendance and the finalisation; `sequence` is the iCalendar SEQUENCE, raised when the
    time, the place or the status change (what a calendar must update).

    `attendance_recorded`, `young_person_came` and `guardians_came` summarise the attendance
    for the follow-up report, which then reads a period's meetings from one index instead of
    probing the attendance of each. `MeetingRepository` sets them whenever it writes the
    attendance, the only code that does."""

    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint(_in("kind", MeetingKind), name="kind"),
        CheckConstraint(_in("status", MeetingStatus), name="status"),
        CheckConstraint(_in("minutes_state", MinutesState), name="minutes_state"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(
            "(minutes_state = 'final') = (finalised_at IS NOT NULL) "
            "AND (finalised_at IS NULL) = (finalised_by IS NULL)",
            name="finalised",
        ),
        CheckConstraint("guardians_came >= 0", name="guardians_came"),
        # The meetings of a period with what the follow-up counts, read from the index alone.
        Index(
            "ix_meeting_period",
            "starts_at",
            "status",
            "minutes_state",
            "kind",
            "case_id",
            "attendance_recorded",
            "young_person_came",
            "guardians_came",
        ),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    place: str = Field(sa_column=Column(EncryptedString("meeting.place"), nullable=False))
    chair_user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    status: str = Field(
        default=MeetingStatus.SCHEDULED.value, sa_column=Column(String(16), nullable=False)
    )
    minutes_state: str = Field(
        default=MinutesState.DRAFT.value, sa_column=Column(String(16), nullable=False)
    )
    finalised_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    finalised_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )
    created_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    sequence: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    attendance_recorded: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    young_person_came: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    guardians_came: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )


class MeetingAttendee(SQLModel, table=True):
    """One person expected at a meeting: a user on the team, the young person, one of their
    guardians, or someone else (name and role as text)."""

    __tablename__ = "meeting_attendee"
    __table_args__ = (
        CheckConstraint(_in("kind", AttendeeKind), name="kind"),
        CheckConstraint(_in("status", AttendanceStatus), name="status"),
        CheckConstraint(
            "(kind = 'user') = (user_id IS NOT NULL) "
            "AND (kind = 'guardian') = (guardian_id IS NOT NULL) "
            "AND (kind = 'other') = (name IS NOT NULL)",
            name="kind_fields",
        ),
        # A meeting's attendance, who came or was absent, read from the index alone.
        Index("ix_meeting_attendee_status", "meeting_id", "status", "kind"),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    meeting_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    user_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True, index=True),
    )
    guardian_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("guardian.id", ondelete="RESTRICT"), nullable=True),
    )
    name: str | None = Field(
        default=None, sa_column=Column(EncryptedString("meeting_attendee.name"), nullable=True)
    )
    role_text: str | None = Field(
        default=None,
        sa_column=Column(EncryptedString("meeting_attendee.role_text"), nullable=True),
    )
    status: str = Field(
        default=AttendanceStatus.INVITED.value, sa_column=Column(String(16), nullable=False)
    )


class MinuteItem(SQLModel, table=True):
    """One item of a meeting's minutes: a shared entry (DESIGN §3), filtered by category and
    visibility for every reader. `case_id` repeats the meeting's so the scope can filter the
    items directly. An amendment (`amends_item_id`) corrects an item of final minutes."""

    __tablename__ = "minute_item"
    __table_args__ = (
        CheckConstraint(_in("category", Category), name="category"),
        CheckConstraint(_in("visibility", Visibility), name="visibility"),
        gated(),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    meeting_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    heading: str = Field(sa_column=Column(EncryptedString("minute_item.heading"), nullable=False))
    text: str = Field(sa_column=Column(EncryptedString("minute_item.text"), nullable=False))
    category: str = Field(sa_column=Column(String(16), nullable=False))
    visibility: str = Field(sa_column=Column(String(16), nullable=False))
    author_user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    author_agency_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=False)
    )
    decision: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    amends_item_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("minute_item.id", ondelete="RESTRICT"), nullable=True),
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
