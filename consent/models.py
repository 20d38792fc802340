"""Tables the access policy rests on: who is on which case's team."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import UTCDateTime
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
