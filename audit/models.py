"""Audit events: ids and facts only, never names, personnummer or free text."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String, Uuid
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import UTCDateTime
from common.ids import new_id


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    occurred_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    request_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    user_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, nullable=True, index=True)
    )
    agency_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    role: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    resource_type: str = Field(sa_column=Column(String(64), nullable=False))
    resource_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    case_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid, nullable=True, index=True)
    )
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    basis: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
