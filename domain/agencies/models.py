from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Integer, String
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import UTCDateTime
from common.ids import new_id
from common.roles import AgencyKind

_KINDS = ", ".join(f"'{kind.value}'" for kind in AgencyKind)


class Agency(SQLModel, table=True):
    """An organisation unit. Its name is public information, so it is stored in clear."""

    __tablename__ = "agency"
    __table_args__ = (CheckConstraint(f"kind IN ({_KINDS})", name="kind"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    # The part of the municipality the unit serves (stadsdel): referrals are routed by it.
    area: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # A deactivated unit keeps its history; it receives no new users or referrals.
    deactivated_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    version: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, default=1, server_default="1")
    )
