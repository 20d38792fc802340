"""Audit events: ids and facts only, never names, personnummer or free text."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
)
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import UTCDateTime
from common.guard import not_gated
from common.ids import new_id


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = not_gated(
        "the audit log holds ids and the disclosure basis only; the auditor role reads it"
    )

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


class AuditLeaf(SQLModel, table=True):
    """An event's place in the Merkle log. Written by the sequencer only, never changed."""

    __tablename__ = "audit_leaf"

    position: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False, unique=True))
    payload_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    integrated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AuditNode(SQLModel, table=True):
    """Hash of the perfect subtree over leaves [index·2^level, (index+1)·2^level), level >= 1.

    Stored as the tree grows so that proofs take O(log n) lookups instead of rehashing.
    """

    __tablename__ = "audit_node"

    level: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    index: int = Field(sa_column=Column("idx", BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class AuditCheckpoint(SQLModel, table=True):
    """A signed tree head: the signed note text is the whole evidence, the rest is for lookup."""

    __tablename__ = "audit_checkpoint"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class AuditPending(SQLModel, table=True):
    """The sequencer's work list: events committed but not yet given a position.

    A database trigger adds a row with every audit event, in the same transaction; the
    sequencer deletes it in the transaction that writes the event's leaf. Not part of the log
    (rows come and go), so not append-only; verify checks it against the leaves.
    """

    __tablename__ = "audit_pending"
    __table_args__ = (Index("ix_audit_pending_occurred_at", "occurred_at", "event_id"),)

    event_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    # The event's own time, copied by the trigger: the sequencer takes the oldest first, and
    # /healthz reads the oldest waiting one, both from this small table's index.
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


AUDIT_TABLES = ("audit_event", "audit_leaf", "audit_node", "audit_checkpoint")
