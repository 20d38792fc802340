"""The municipality's own configuration that has no other home, and the history of every
configuration change.

`consent_policy` holds the consent ages (DESIGN §2: the young person signs too from 15, in
some municipalities 14; alone from 18). A change never edits a row: the row in force gets
`superseded_at` and a new row (the next `version`) starts `in_force_from` then, so the policy
in force at any past moment stays known. Before the first row the process default applies (the
`SAMSYN_CONSENT_*` settings).

`config_change` is one row per change of any configuration (consent ages, referral grounds,
eligibility, capacity, cylinder levels, risk and protective factors), written in the change's
own transaction: who (a user id), when, what, and the old and new value as JSON. It carries
no personal data: configuration holds none, and the person who changed it is an id.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import UTCDateTime
from common.ids import new_id


class ConsentPolicyRow(SQLModel, table=True):
    __tablename__ = "consent_policy"
    __table_args__ = (
        CheckConstraint(
            "young_person_from_age > 0 AND young_person_from_age <= adult_age", name="ages"
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    version: int = Field(sa_column=Column(Integer, nullable=False, unique=True))
    young_person_from_age: int = Field(sa_column=Column(Integer, nullable=False))
    adult_age: int = Field(sa_column=Column(Integer, nullable=False))
    in_force_from: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    recorded_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=True),
    )
    superseded_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class ConfigChange(SQLModel, table=True):
    """`kind` names the configuration (`ConfigKind`), `subject` the item within it (a level's
    code, a factor's id; the kind itself for a whole catalogue), `action` what happened
    (`ConfigAction`). `old_value` / `new_value` are JSON, null for an addition / retirement."""

    __tablename__ = "config_change"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    changed_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    changed_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    kind: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    subject: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    old_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
