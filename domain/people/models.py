from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Column, Date, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import EncryptedString, UTCDateTime
from common.guard import gated
from common.ids import new_id


class Gender(StrEnum):
    """Recorded for statistics only."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


GENDER_LABELS = {
    Gender.FEMALE: "Flicka",
    Gender.MALE: "Pojke",
    Gender.OTHER: "Annat",
    Gender.UNKNOWN: "Okänt / vill inte uppge",
}
_GENDERS = ", ".join(f"'{g.value}'" for g in Gender)


class YoungPerson(SQLModel, table=True):
    __tablename__ = "young_person"
    __table_args__ = (CheckConstraint(f"gender IN ({_GENDERS})", name="gender"), gated())

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    personnummer_index: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    personnummer: str = Field(
        sa_column=Column(EncryptedString("young_person.personnummer"), nullable=False)
    )
    is_coordination_number: bool = Field(sa_column=Column(Boolean, nullable=False))
    first_name: str = Field(
        sa_column=Column(EncryptedString("young_person.first_name"), nullable=False)
    )
    last_name: str = Field(
        sa_column=Column(EncryptedString("young_person.last_name"), nullable=False)
    )
    birth_date: date = Field(sa_column=Column(Date, nullable=False))
    gender: str = Field(sa_column=Column(String(16), nullable=False))
    # Stadsdel: encrypted since migration 0011, which left the values it found marked for
    # `samsyn keys reencrypt` (see `accepts_marked_plaintext`).
    home_area: str | None = Field(
        default=None,
        sa_column=Column(
            EncryptedString("young_person.home_area", accepts_marked_plaintext=True),
            nullable=True,
        ),
    )
    school_agency_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=True)
    )
    protected_identity: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    address: str | None = Field(
        default=None, sa_column=Column(EncryptedString("young_person.address"), nullable=True)
    )
    owner_agency_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    registered_by: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="RESTRICT"), nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Guardian(SQLModel, table=True):
    """Vårdnadshavare (or another adult of note when `has_custody` is false)."""

    __tablename__ = "guardian"
    __table_args__ = gated()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    young_person_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("young_person.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(sa_column=Column(EncryptedString("guardian.name"), nullable=False))
    phone: str | None = Field(
        default=None, sa_column=Column(EncryptedString("guardian.phone"), nullable=True)
    )
    email: str | None = Field(
        default=None, sa_column=Column(EncryptedString("guardian.email"), nullable=True)
    )
    has_custody: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
