"""Pure rules about young persons' data."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from common.actor import Actor
from consent.rules import Category
from domain.people.models import YoungPerson
from domain.people.personnummer import age_on


def sees_protected_details(
    actor: Actor, person: YoungPerson, case_owner_ids: Collection[uuid.UUID]
) -> bool:
    """With skyddade personuppgifter, address and school are for the case owner alone.

    Before any case exists, the social worker who registered the young person is the owner.
    """
    if not person.protected_identity:
        return True
    owners = set(case_owner_ids) or {person.registered_by}
    return actor.user_id in owners


@dataclass(frozen=True)
class GuardianDetails:
    id: uuid.UUID
    name: str
    has_custody: bool
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class PersonDetails:
    """What one reader may see of a young person; a field the reader may not see is None.

    Built by `person_details` and nowhere else, so the pages and the JSON API render the same
    fields. Which category carries which field (README, "What each category shows"):
    - `basic`: name and age (and the case's own header, history and team);
    - `school`: the school;
    - `social`: the guardians with their contact details, and the home area (stadsdel);
    - to social services only (the owning unit, the programme's coordinator, break-glass):
      personnummer, birth date, gender;
    - under protected identity, home area, school and address are for the case owner alone.
    """

    id: uuid.UUID
    first_name: str
    last_name: str
    age: int
    protected_identity: bool
    personnummer: str | None
    is_coordination_number: bool | None
    birth_date: date | None
    gender: str | None
    home_area: str | None
    school_name: str | None
    address: str | None
    guardians: tuple[GuardianDetails, ...] | None  # None: not the reader's to see

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def person_details(
    person: YoungPerson,
    guardians: Sequence[GuardianDetails],
    *,
    school_name: str | None,
    categories: frozenset[Category],
    in_full: bool,
    sees_protected: bool,
    today: date,
) -> PersonDetails:
    """`in_full`: social services reading its own, its programme's or a break-glass case;
    otherwise a partner, limited to `categories`. `sees_protected`: see
    `sees_protected_details`."""
    social = in_full or Category.SOCIAL in categories
    school = in_full or Category.SCHOOL in categories
    return PersonDetails(
        id=person.id,
        first_name=person.first_name,
        last_name=person.last_name,
        age=age_on(person.birth_date, today),
        protected_identity=person.protected_identity,
        personnummer=person.personnummer if in_full else None,
        is_coordination_number=person.is_coordination_number if in_full else None,
        birth_date=person.birth_date if in_full else None,
        gender=person.gender if in_full else None,
        home_area=person.home_area if social and sees_protected else None,
        school_name=school_name if school and sees_protected else None,
        address=person.address if in_full and sees_protected else None,
        guardians=tuple(guardians) if social else None,
    )
