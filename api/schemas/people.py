from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from domain.people.service import YoungPersonView


class GuardianIn(BaseModel):
    name: str = Field(max_length=500)
    has_custody: bool
    phone: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=500)


class YoungPersonIn(BaseModel):
    personnummer: str = Field(max_length=20, examples=["20110412-1234"])
    first_name: str = Field(max_length=500)
    last_name: str = Field(max_length=500)
    gender: str = Field(max_length=20, description="female, male, other or unknown")
    home_area: str | None = Field(default=None, max_length=500)
    school_agency_id: uuid.UUID | None = None
    protected_identity: bool = False
    address: str | None = Field(default=None, max_length=500)
    guardians: list[GuardianIn] = Field(default_factory=list, max_length=10)


class GuardianOut(BaseModel):
    id: uuid.UUID
    name: str
    has_custody: bool
    phone: str | None
    email: str | None


class CaseRef(BaseModel):
    id: uuid.UUID
    reference: str
    state: str


class YoungPersonOut(BaseModel):
    id: uuid.UUID
    personnummer: str
    is_coordination_number: bool
    first_name: str
    last_name: str
    birth_date: date
    gender: str
    home_area: str | None
    protected_identity: bool
    school_name: str | None = Field(
        description="Withheld (null) under protected identity unless you own the case"
    )
    address: str | None = Field(
        description="Withheld (null) under protected identity unless you own the case"
    )
    guardians: list[GuardianOut]
    cases: list[CaseRef]

    @classmethod
    def of(cls, view: YoungPersonView) -> YoungPersonOut:
        p = view.person
        return cls(
            id=p.id,
            personnummer=p.personnummer,
            is_coordination_number=p.is_coordination_number,
            first_name=p.first_name,
            last_name=p.last_name,
            birth_date=p.birth_date,
            gender=p.gender,
            home_area=p.home_area,
            protected_identity=p.protected_identity,
            school_name=view.school_name,
            address=p.address if view.shows_protected_details else None,
            guardians=[
                GuardianOut(
                    id=g.id, name=g.name, has_custody=g.has_custody, phone=g.phone, email=g.email
                )
                for g in view.guardians
            ],
            cases=[CaseRef(id=c.id, reference=c.reference, state=c.state) for c in view.cases],
        )
