"""Use cases for young persons: register (with guardians) and read."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import today
from common.crypto import BlindIndex
from common.errors import FieldError, NotFound, ValidationFailed
from common.roles import AgencyKind, Permission
from consent.rules import Category
from domain.access import case_scope
from domain.agencies.repository import AgencyRepository
from domain.cases.models import Case
from domain.cases.repository import CaseRepository
from domain.people.models import Gender, Guardian, YoungPerson
from domain.people.personnummer import InvalidPersonnummer, parse_personnummer
from domain.people.repository import YoungPersonRepository
from domain.people.rules import PersonDetails, person_details, sees_protected_details

MAX_GUARDIANS = 4
_PHONE = re.compile(r"^\+?[0-9 ()-]{5,20}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,200}\.[^@\s]{2,}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class GuardianInput:
    name: str
    has_custody: bool
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class YoungPersonInput:
    personnummer: str
    first_name: str
    last_name: str
    gender: str
    home_area: str | None = None
    school_agency_id: uuid.UUID | str | None = None  # raw form input is parsed here
    protected_identity: bool = False
    address: str | None = None
    guardians: Sequence[GuardianInput] = field(default_factory=tuple)


@dataclass(frozen=True)
class YoungPersonView:
    """A young person as social services reads them (partners never reach this view)."""

    person: PersonDetails
    cases: Sequence[Case]


def _text(
    errors: list[FieldError],
    name: str,
    value: str | None,
    label: str,
    *,
    required: bool,
    max_length: int,
) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            errors.append(FieldError(name, f"Ange {label}."))
        return None
    if len(cleaned) > max_length:
        errors.append(FieldError(name, f"{label.capitalize()} får vara högst {max_length} tecken."))
    elif _CONTROL.search(cleaned):
        errors.append(FieldError(name, f"{label.capitalize()} innehåller otillåtna tecken."))
    return cleaned


def _school_id(
    session: Session, errors: list[FieldError], given: uuid.UUID | str | None
) -> uuid.UUID | None:
    if given is None or given == "":
        return None
    try:
        school_id = given if isinstance(given, uuid.UUID) else uuid.UUID(given)
    except ValueError:
        school_id = None
    school = AgencyRepository(session).get(school_id) if school_id else None
    if school is None or school.kind != AgencyKind.SCHOOL:
        errors.append(FieldError("school_agency_id", "Välj en skola i listan."))
        return None
    return school_id


def register_young_person(
    session: Session, actor: Actor, *, index: BlindIndex, data: YoungPersonInput
) -> YoungPerson:
    actor.require(Permission.REGISTER_YOUNG_PERSON)
    errors: list[FieldError] = []
    personnummer = None
    try:
        personnummer = parse_personnummer(data.personnummer, today=today())
    except InvalidPersonnummer as exc:
        errors.append(FieldError("personnummer", str(exc)))
    first_name = _text(
        errors, "first_name", data.first_name, "förnamn", required=True, max_length=100
    )
    last_name = _text(
        errors, "last_name", data.last_name, "efternamn", required=True, max_length=100
    )
    home_area = _text(
        errors, "home_area", data.home_area, "stadsdel", required=False, max_length=100
    )
    address = _text(errors, "address", data.address, "adress", required=False, max_length=200)
    if data.gender not in {g.value for g in Gender}:
        errors.append(FieldError("gender", "Välj kön."))
    school_id = _school_id(session, errors, data.school_agency_id)
    if len(data.guardians) > MAX_GUARDIANS:
        errors.append(FieldError("guardians", f"Högst {MAX_GUARDIANS} vårdnadshavare kan anges."))

    guardians: list[Guardian] = []
    for number, given in enumerate(data.guardians[:MAX_GUARDIANS]):
        prefix = f"guardians.{number}"
        name = _text(
            errors,
            f"{prefix}.name",
            given.name,
            "vårdnadshavarens namn",
            required=True,
            max_length=200,
        )
        phone = _text(
            errors, f"{prefix}.phone", given.phone, "telefonnummer", required=False, max_length=20
        )
        email = _text(
            errors, f"{prefix}.email", given.email, "e-postadress", required=False, max_length=254
        )
        if phone and not _PHONE.match(phone):
            errors.append(
                FieldError(
                    f"{prefix}.phone",
                    "Telefonnumret får bara innehålla siffror, mellanslag, + och -.",
                )
            )
        if email and not _EMAIL.match(email):
            errors.append(
                FieldError(f"{prefix}.email", "Ange en e-postadress som namn@exempel.se.")
            )
        if name:
            guardians.append(
                Guardian(
                    young_person_id=uuid.UUID(int=0),
                    name=name,
                    phone=phone,
                    email=email,
                    has_custody=given.has_custody,
                )
            )

    scope = case_scope(session, actor)
    repository = YoungPersonRepository(session, scope)
    digest = index.of(personnummer.digits) if personnummer else None
    if digest is not None and repository.index_taken(digest):
        errors.append(
            FieldError(
                "personnummer", "En ung person med detta personnummer finns redan registrerad."
            )
        )
    if errors or personnummer is None or digest is None or first_name is None or last_name is None:
        raise ValidationFailed(errors)

    person = YoungPerson(
        personnummer_index=digest,
        personnummer=personnummer.digits,
        is_coordination_number=personnummer.is_coordination_number,
        first_name=first_name,
        last_name=last_name,
        birth_date=personnummer.birth_date,
        gender=data.gender,
        home_area=home_area,
        school_agency_id=school_id,
        protected_identity=data.protected_identity,
        address=address,
        owner_agency_id=actor.agency_id,
        registered_by=actor.user_id,
    )
    for guardian in guardians:
        guardian.young_person_id = person.id
    repository.add(person, guardians)
    audit.record(
        session,
        actor,
        action="young_person.create",
        resource_type="young_person",
        resource_id=person.id,
        basis=scope.basis_for_person(owner_agency_id=person.owner_agency_id, cases=()),
    )
    return person


def get_young_person(
    session: Session, actor: Actor, *, young_person_id: uuid.UUID
) -> YoungPersonView:
    actor.require(Permission.READ_YOUNG_PERSON)
    scope = case_scope(session, actor)
    repository = YoungPersonRepository(session, scope)
    person = repository.get(young_person_id)
    if person is None:
        raise NotFound()
    cases = CaseRepository(session, scope).for_young_person(person.id)
    shows_protected = sees_protected_details(actor, person, [case.owner_user_id for case in cases])
    school = (
        AgencyRepository(session).get(person.school_agency_id)
        if person.school_agency_id and shows_protected
        else None
    )
    audit.record(
        session,
        actor,
        action="young_person.read",
        resource_type="young_person",
        resource_id=person.id,
        basis=scope.basis_for_person(owner_agency_id=person.owner_agency_id, cases=cases),
    )
    return YoungPersonView(
        person=person_details(
            person,
            repository.guardians_of(person),
            school_name=school.name if school else None,
            categories=frozenset(Category),
            in_full=True,
            sees_protected=shows_protected,
            today=today(),
        ),
        cases=cases,
    )
