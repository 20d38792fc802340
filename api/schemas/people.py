from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from domain.people.rules import PersonDetails
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


class PersonDetailsOut(BaseModel):
    """A young person as the reader may see them: a field outside the reader's consented
    categories, or withheld by protected identity, is null (README: "What each category
    shows"). The case page shows exactly the same fields."""

    id: uuid.UUID
    first_name: str
    last_name: str
    age: int
    protected_identity: bool
    personnummer: str | None = Field(description="Social services only")
    is_coordination_number: bool | None = Field(description="Social services only")
    birth_date: date | None = Field(description="Social services only")
    gender: str | None = Field(description="Social services only (for statistics)")
    home_area: str | None = Field(
        description="Category social; withheld under protected identity unless you own the case"
    )
    school_name: str | None = Field(
        description="Category school; withheld under protected identity unless you own the case"
    )
    address: str | None = Field(
        description="Social services only; withheld under protected identity unless you own "
        "the case"
    )
    guardians: list[GuardianOut] | None = Field(description="Category social")

    @classmethod
    def of(cls, p: PersonDetails) -> PersonDetailsOut:
        return cls(**_fields(p))


def _fields(p: PersonDetails) -> dict[str, Any]:
    return {
        "id": p.id,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "age": p.age,
        "protected_identity": p.protected_identity,
        "personnummer": p.personnummer,
        "is_coordination_number": p.is_coordination_number,
        "birth_date": p.birth_date,
        "gender": p.gender,
        "home_area": p.home_area,
        "school_name": p.school_name,
        "address": p.address,
        "guardians": None
        if p.guardians is None
        else [
            GuardianOut(
                id=g.id, name=g.name, has_custody=g.has_custody, phone=g.phone, email=g.email
            )
            for g in p.guardians
        ],
    }


class YoungPersonOut(PersonDetailsOut):
    cases: list[CaseRef]

    @classmethod
    def of_view(cls, view: YoungPersonView) -> YoungPersonOut:
        return cls(
            **_fields(view.person),
            cases=[CaseRef(id=c.id, reference=c.reference, state=c.state) for c in view.cases],
        )
