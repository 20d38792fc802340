"""Builders for test data, through the same services the application uses."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import date, timedelta

from sqlmodel import Session

from common.actor import Actor
from common.clock import today
from common.keys import KeySet
from common.roles import AgencyKind, Role
from consent.models import ConsentMethod
from consent.policy import signing_policy
from consent.rules import Category, Decision, SignerKind, age_on
from domain.access import case_scope
from domain.agencies.models import Agency
from domain.agencies.service import create_agency
from domain.auth.service import actor_for
from domain.cases import service as cases
from domain.cases.models import Case
from domain.consents import service as consents
from domain.people.models import YoungPerson
from domain.people.personnummer import luhn_check_digit
from domain.people.repository import YoungPersonRepository
from domain.people.service import GuardianInput, YoungPersonInput, register_young_person
from domain.users.models import User
from domain.users.service import create_user

PASSWORD = "test-password-123"
_counter = itertools.count(1)
_rng = random.Random(4711)


_issued: set[str] = set()


def valid_personnummer(born: date | None = None, *, separator: str = "-") -> str:
    """A 12-digit personnummer with a correct check digit (synthetic), never the same one
    twice in a test process: tests that register several people born on one day would
    otherwise meet the uniqueness check now and then (a thousand serials a day)."""
    while True:
        day = born or today() - timedelta(days=_rng.randrange(12 * 365, 18 * 365))
        serial = f"{_rng.randrange(0, 1000):03d}"
        digits = f"{day:%Y%m%d}{serial}{luhn_check_digit(day.strftime('%y%m%d') + serial)}"
        if digits not in _issued:
            _issued.add(digits)
            return f"{digits[:8]}{separator}{digits[8:]}"


def make_agency(
    session: Session, kind: AgencyKind = AgencyKind.SOCIAL_SERVICES, name: str | None = None
) -> Agency:
    return create_agency(session, name=name or f"{kind.value} {next(_counter)}", kind=kind.value)


def make_user(
    session: Session,
    agency: Agency,
    role: Role = Role.SOCIAL_WORKER,
    *,
    username: str | None = None,
    password: str | None = PASSWORD,
    programmes: tuple[str, ...] | None = None,
) -> User:
    """A coordinator coordinates both programmes unless `programmes` says otherwise."""
    if programmes is None:
        programmes = ("SSPF", "SIG") if role is Role.COORDINATOR else ()
    return create_user(
        session,
        agency_id=agency.id,
        username=username or f"user{next(_counter)}",
        display_name=f"Testanvändare {role.value}",
        roles=[role.value],
        password=password,
        programmes=programmes,
    )


def make_actor(
    session: Session,
    agency: Agency | None = None,
    role: Role = Role.SOCIAL_WORKER,
    *,
    programmes: tuple[str, ...] | None = None,
) -> Actor:
    agency = agency or make_agency(session)
    return actor_for(session, make_user(session, agency, role, programmes=programmes))


def make_young_person(
    session: Session,
    actor: Actor,
    keys: KeySet,
    *,
    personnummer: str | None = None,
    first_name: str = "Testa",
    last_name: str = "Påhittadsson",
    protected_identity: bool = False,
    school_agency_id: uuid.UUID | None = None,
    guardians: int = 2,
) -> YoungPerson:
    return register_young_person(
        session,
        actor,
        index=keys.blind_index,
        data=YoungPersonInput(
            personnummer=personnummer or valid_personnummer(),
            first_name=first_name,
            last_name=last_name,
            gender="female",
            home_area="Norra Demo",
            school_agency_id=school_agency_id,
            protected_identity=protected_identity,
            address="Påhittade gatan 1",
            guardians=[
                GuardianInput(
                    name=f"Vårdnadshavare {n} {last_name}", has_custody=True, phone="070-000 00 00"
                )
                for n in range(guardians)
            ],
        ),
    )


def make_case(
    session: Session,
    actor: Actor,
    keys: KeySet,
    *,
    programme: str = "SSPF",
    young_person: YoungPerson | None = None,
) -> Case:
    person = young_person or make_young_person(session, actor, keys)
    return cases.open_case(session, actor, young_person_id=person.id, programme=programme)


def give_consent(
    session: Session,
    actor: Actor,
    case: Case,
    *,
    agencies: list[uuid.UUID] | None = None,
    valid_until: date | None = None,
    signed_on: date | None = None,
    categories: list[Category] | None = None,
) -> Case:
    """Every guardian and (from 15) the young person consent, for `agencies` (default: the
    actor's own) and `categories` (default: every one). Returns the case as the consent left
    it."""
    people = YoungPersonRepository(session, case_scope(session, actor))
    person = people.get(case.young_person_id)
    assert person is not None
    signers = [str(g.id) for g in people.guardians_of(person) if g.has_custody]
    if age_on(person.birth_date, today()) >= signing_policy().young_person_from_age:
        signers.append(SignerKind.YOUNG_PERSON.value)
    for signer in signers:
        consents.record_consent(
            session,
            actor,
            case_id=case.id,
            data=consents.ConsentInput(
                signer=signer,
                decision=Decision.GIVEN.value,
                signed_on=signed_on or today(),
                valid_from=None,
                valid_until=valid_until,
                agencies=[str(a) for a in agencies or [actor.agency_id]],
                categories=[c.value for c in categories or list(Category)],
                method=ConsentMethod.PAPER_FORM.value,
            ),
        )
    session.refresh(case)
    return case
