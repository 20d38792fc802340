"""Use cases for referrals: raise, follow one's own, triage from the inbox, the waiting list.

Who reads what is decided here, once: the receiving unit's social workers and the
programme's coordinators read referrals in full (`ReferralView`); a sender reads their own
referrals as `SenderItem` only: what they typed and a status mapped by `sender_status`, never
the decision, the reason, the case or who decided. Every read is an audit event, with the
receiving unit (or the coordinator's programme) as basis, or `{"kind": "sender"}`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import STOCKHOLM, today, utcnow
from common.crypto import BlindIndex
from common.errors import Conflict, FieldError, NotFound, StaleVersion, ValidationFailed
from common.roles import AgencyKind, Permission
from consent.scope import Basis, CaseScope
from domain.access import case_scope
from domain.agencies.models import Agency
from domain.agencies.repository import AgencyRepository
from domain.cases.models import Case
from domain.cases.repository import CaseRepository
from domain.cases.rules import OPEN_STATES, CaseState
from domain.cases.service import open_case
from domain.people.models import YoungPerson
from domain.people.personnummer import InvalidPersonnummer, parse_personnummer
from domain.people.repository import YoungPersonRepository
from domain.people.service import YoungPersonInput, register_young_person
from domain.referrals.models import Referral
from domain.referrals.repository import (
    CapacityCounts,
    ReferralRepository,
    ReferralSettingsRepository,
    person_by_index,
    receiving_units,
)
from domain.referrals.rules import (
    DECIDED,
    AgeBand,
    CapacityLoad,
    CapacityWarning,
    Decision,
    ReferralStatus,
    SenderStatus,
    WishedProgramme,
    capacity_warnings,
    check_age,
    days_between,
    needs_crime_criteria,
    parse_decision,
    parse_programme,
    sender_status,
    status_after,
)
from domain.users.repository import UserRepository

MAX_TEXT = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class ReferralInput:
    programme: str
    ground_ids: Sequence[str]
    personnummer: str | None = None
    name: str | None = None
    birth_year: int | str | None = None  # raw form input is parsed here
    note: str | None = None
    text: str | None = None
    receiving_agency_id: uuid.UUID | str | None = None


@dataclass(frozen=True)
class DecisionInput:
    decision: str
    version: int
    programme: str | None = None  # SSPF or SIG: the case or waiting list (default: wished)
    reason: str | None = None  # decline
    crime_criteria_met: bool | None = None  # SIG: recorded by the deciding user
    # To register a young person not yet known to social services (open case):
    personnummer: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    gender: str | None = None


@dataclass(frozen=True)
class GroundLabel:
    id: str
    label: str
    retired: bool


@dataclass(frozen=True)
class SenderItem:
    """A sender's own referral: what they typed, and a status. Nothing else."""

    id: uuid.UUID
    created_at: datetime
    programme: str
    grounds: Sequence[GroundLabel]
    identified_as: str
    status: SenderStatus


@dataclass(frozen=True)
class InboxItem:
    referral: Referral
    identified_as: str
    grounds: Sequence[GroundLabel]
    sender_agency: str


@dataclass(frozen=True)
class InboxGroup:
    """Referrals about one young person (same blind index), oldest first; a referral
    without a personnummer stands alone."""

    items: Sequence[InboxItem]

    @property
    def newest(self) -> datetime:
        return max(item.referral.created_at for item in self.items)


@dataclass(frozen=True)
class ReferralView:
    item: InboxItem
    sender_name: str
    receiving_agency: str
    decided_by_name: str | None
    duplicates: Sequence[InboxItem]
    young_person_id: uuid.UUID | None  # registered and visible to the reader
    open_cases: Sequence[Case]  # the young person's open cases the reader sees
    case: Case | None  # the linked case, when the reader sees it
    crime_criteria_needed: bool
    capacity: Sequence[CapacityWarning]


@dataclass(frozen=True)
class DecisionResult:
    referral: Referral
    case: Case | None
    attached: bool
    warnings: Sequence[CapacityWarning] = field(default_factory=tuple)


@dataclass(frozen=True)
class WaitingEntry:
    item: InboxItem
    programme: str
    waiting_since: datetime
    days_waited: int


# Helpers -------------------------------------------------------------------------------


def _clean(
    errors: list[FieldError],
    name: str,
    value: str | None,
    *,
    label: str,
    required: bool,
    max_length: int,
) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            errors.append(FieldError(name, f"Ange {label}.", f"{name} is required."))
        return None
    if len(cleaned) > max_length:
        errors.append(
            FieldError(
                name,
                f"{label.capitalize()} får vara högst {max_length} tecken.",
                f"{name} is longer than {max_length} characters.",
            )
        )
    elif _CONTROL.search(cleaned):
        errors.append(
            FieldError(
                name,
                f"{label.capitalize()} innehåller otillåtna tecken.",
                f"{name} contains control characters.",
            )
        )
    return cleaned


def format_personnummer(digits: str) -> str:
    return f"{digits[:8]}-{digits[8:]}"


def _identified_as(referral: Referral) -> str:
    if referral.personnummer:
        return format_personnummer(referral.personnummer)
    return f"{referral.name} (född {referral.birth_year})"


def _grounds(
    settings: ReferralSettingsRepository, referrals: Sequence[Referral]
) -> dict[str, GroundLabel]:
    ids = sorted({ground for r in referrals for ground in r.ground_ids})
    return {
        key: GroundLabel(id=key, label=row.label, retired=row.retired_at is not None)
        for key, row in settings.grounds_by_id(ids).items()
    }


def _items(session: Session, referrals: Sequence[Referral]) -> list[InboxItem]:
    labels = _grounds(ReferralSettingsRepository(session), referrals)
    agencies = AgencyRepository(session)
    names: dict[uuid.UUID, str] = {}
    items = []
    for referral in referrals:
        if referral.sender_agency_id not in names:
            agency = agencies.get(referral.sender_agency_id)
            names[referral.sender_agency_id] = agency.name if agency else ""
        items.append(
            InboxItem(
                referral=referral,
                identified_as=_identified_as(referral),
                grounds=[labels[g] for g in referral.ground_ids if g in labels],
                sender_agency=names[referral.sender_agency_id],
            )
        )
    return items


def _basis(scope: CaseScope, referral: Referral) -> dict[str, Any]:
    """The receiving unit, or the coordinator's programme: a referral has no case basis."""
    if referral.receiving_agency_id in receiving_units(scope):
        return {"kind": Basis.OWN_AGENCY, "agency_id": str(referral.receiving_agency_id)}
    return {"kind": Basis.PROGRAMME_COORDINATOR, "programme": referral.programme}


def _audit_read(
    session: Session, actor: Actor, scope: CaseScope, referral: Referral, action: str
) -> None:
    audit.record(
        session,
        actor,
        action=action,
        resource_type="referral",
        resource_id=referral.id,
        case_id=referral.case_id,
        basis=_basis(scope, referral),
    )


def age_bands(session: Session) -> list[AgeBand]:
    return [
        AgeBand(
            programme=rule.programme,
            label=rule.label,
            min_age=rule.min_age,
            max_age=rule.max_age,
            requires_crime_criteria=rule.requires_crime_criteria,
        )
        for rule in ReferralSettingsRepository(session).eligibility()
    ]


def capacity_loads(session: Session, programme: str) -> list[CapacityLoad]:
    counts = CapacityCounts(session)
    # A case whose consent was refused holds no place: nobody works on it.
    open_states = [state.value for state in OPEN_STATES if state is not CaseState.DECLINED]
    loads = []
    for rule in ReferralSettingsRepository(session).capacity():
        if rule.programme != programme:
            continue
        users = counts.users(rule.agency_kind, rule.role, programme)
        # A coordinator carries every case of the programme; others the cases they are on.
        members = None if rule.role == "coordinator" else users
        loads.append(
            CapacityLoad(
                programme=programme,
                agency_kind=rule.agency_kind,
                role=rule.role,
                per_person=rule.per_person,
                persons=len(users),
                load=counts.open_cases(programme, open_states, members) if users else 0,
            )
        )
    return loads


# Raising and following one's own -----------------------------------------------------------


def active_grounds(session: Session, actor: Actor) -> list[GroundLabel]:
    actor.require(Permission.RAISE_REFERRAL)
    return [
        GroundLabel(id=str(row.id), label=row.label, retired=False)
        for row in ReferralSettingsRepository(session).grounds()
    ]


def receiving_agencies(session: Session, actor: Actor) -> Sequence[Agency]:
    """The social-services units a referral can go to, by the area each serves: the sender
    picks the young person's area (a known young person goes to the unit that knows them)."""
    actor.require(Permission.RAISE_REFERRAL)
    return _active_units(session)


def _active_units(session: Session) -> list[Agency]:
    units = AgencyRepository(session).list(AgencyKind.SOCIAL_SERVICES.value)
    active = [unit for unit in units if _receives_referrals(unit)]
    return sorted(active, key=lambda unit: ((unit.area or "").casefold(), unit.name.casefold()))


def receiving_agencies_for_triage(session: Session, actor: Actor) -> Sequence[Agency]:
    """The units a triager can hand a referral over to."""
    actor.require(Permission.TRIAGE_REFERRALS)
    return _active_units(session)


def _birth_year(errors: list[FieldError], given: int | str | None) -> int | None:
    if given is None or given == "":
        errors.append(FieldError("birth_year", "Ange födelseår.", "birth_year is required."))
        return None
    try:
        year = int(given)
    except ValueError:
        year = -1
    this_year = today().year
    if not this_year - 30 <= year <= this_year:
        errors.append(
            FieldError(
                "birth_year",
                f"Ange ett födelseår mellan {this_year - 30} och {this_year}.",
                f"birth_year must be between {this_year - 30} and {this_year}.",
            )
        )
        return None
    return year


def raise_referral(
    session: Session, actor: Actor, *, index: BlindIndex, data: ReferralInput
) -> Referral:
    actor.require(Permission.RAISE_REFERRAL)
    errors: list[FieldError] = []
    programme: WishedProgramme | None = None
    try:
        programme = parse_programme(data.programme)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    personnummer = None
    name = birth_year = None
    raw_pnr = (data.personnummer or "").strip()
    if raw_pnr:
        try:
            personnummer = parse_personnummer(raw_pnr, today=today())
        except InvalidPersonnummer as exc:
            errors.append(FieldError("personnummer", str(exc), "Invalid personnummer."))
    else:
        name = _clean(
            errors,
            "name",
            data.name,
            label="namn (eller personnummer)",
            required=True,
            max_length=200,
        )
        birth_year = _birth_year(errors, data.birth_year)
    note = _clean(errors, "note", data.note, label="anteckning", required=False, max_length=1000)
    text = _clean(
        errors, "text", data.text, label="beskrivning", required=False, max_length=MAX_TEXT
    )

    settings = ReferralSettingsRepository(session)
    active = {str(row.id) for row in settings.grounds()}
    chosen = list(dict.fromkeys(str(g).strip() for g in data.ground_ids if str(g).strip()))
    if not chosen:
        errors.append(FieldError("grounds", "Välj minst en grund.", "Choose at least one ground."))
    elif any(g not in active for g in chosen):
        errors.append(
            FieldError(
                "grounds", "Välj grunder i listan.", "Unknown ground: choose from the catalogue."
            )
        )

    digest = index.of(personnummer.digits) if personnummer else None
    known = person_by_index(session, digest) if digest else None
    receiving_id = known[1] if known else _receiving_unit(session, errors, data.receiving_agency_id)
    if programme in (WishedProgramme.SSPF, WishedProgramme.SIG) and not errors:
        try:
            check_age(
                programme.value,
                age_bands(session),
                birth_date=personnummer.birth_date if personnummer else None,
                birth_year=birth_year,
                on=today(),
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors or programme is None or receiving_id is None:
        raise ValidationFailed(errors)

    referral = Referral(
        sender_user_id=actor.user_id,
        sender_agency_id=actor.agency_id,
        receiving_agency_id=receiving_id,
        personnummer_index=digest,
        personnummer=personnummer.digits if personnummer else None,
        name=name,
        birth_year=birth_year,
        note=note if not personnummer else None,
        programme=programme.value,
        ground_ids=chosen,
        text=text,
    )
    scope = case_scope(session, actor)
    ReferralRepository(session, scope).add(referral)
    audit.record(
        session,
        actor,
        action="referral.create",
        resource_type="referral",
        resource_id=referral.id,
        basis={"kind": "sender"},
    )
    return referral


def _receiving_unit(
    session: Session, errors: list[FieldError], given: uuid.UUID | str | None
) -> uuid.UUID | None:
    try:
        unit_id = given if isinstance(given, uuid.UUID) else uuid.UUID(str(given))
    except ValueError:
        unit_id = None
    unit = AgencyRepository(session).get(unit_id) if unit_id else None
    if unit is not None and _receives_referrals(unit):
        return unit.id
    errors.append(
        FieldError(
            "receiving_agency_id",
            "Välj området där den unga personen bor.",
            "Choose an active social-services unit (the young person's area).",
        )
    )
    return None


def _receives_referrals(unit: Agency) -> bool:
    return unit.kind == AgencyKind.SOCIAL_SERVICES.value and unit.deactivated_at is None


def my_referrals(session: Session, actor: Actor) -> list[SenderItem]:
    actor.require(Permission.RAISE_REFERRAL)
    scope = case_scope(session, actor)
    rows = ReferralRepository(session, scope).mine()
    labels = _grounds(ReferralSettingsRepository(session), rows)
    items = []
    for referral in rows:
        audit.record(
            session,
            actor,
            action="referral.read_own",
            resource_type="referral",
            resource_id=referral.id,
            basis={"kind": "sender"},
        )
        items.append(
            SenderItem(
                id=referral.id,
                created_at=referral.created_at,
                programme=referral.programme,
                grounds=[labels[g] for g in referral.ground_ids if g in labels],
                identified_as=_identified_as(referral),
                status=sender_status(referral.status),
            )
        )
    return items


# The inbox and triage ----------------------------------------------------------------------


def inbox(
    session: Session, actor: Actor, *, statuses: Sequence[str] | None = None
) -> list[InboxGroup]:
    """Referrals in the reader's inbox, those about one young person together, the group
    with the newest referral first."""
    actor.require(Permission.TRIAGE_REFERRALS)
    known = {status.value for status in ReferralStatus}
    for status in statuses or ():
        if status not in known:
            raise ValidationFailed.one(
                "status", f"Okänd status: {status}.", f"Unknown status: {status}."
            )
    scope = case_scope(session, actor)
    rows = ReferralRepository(session, scope).inbox(statuses)
    groups: dict[str, list[InboxItem]] = {}
    for item in _items(session, rows):
        referral = item.referral
        _audit_read(session, actor, scope, referral, "referral.list")
        groups.setdefault(referral.personnummer_index or str(referral.id), []).append(item)
    result = [
        InboxGroup(items=sorted(items, key=lambda i: i.referral.created_at))
        for items in groups.values()
    ]
    return sorted(result, key=lambda g: g.newest, reverse=True)


def _visible_person(session: Session, scope: CaseScope, index: str | None) -> YoungPerson | None:
    found = person_by_index(session, index) if index else None
    return YoungPersonRepository(session, scope).get(found[0]) if found else None


def _open_cases(session: Session, scope: CaseScope, person: YoungPerson | None) -> list[Case]:
    if person is None:
        return []
    open_states = {state.value for state in OPEN_STATES}
    return [
        case
        for case in CaseRepository(session, scope).for_young_person(person.id)
        if case.state in open_states
    ]


def get_referral(session: Session, actor: Actor, *, referral_id: uuid.UUID) -> ReferralView:
    actor.require(Permission.TRIAGE_REFERRALS)
    scope = case_scope(session, actor)
    repository = ReferralRepository(session, scope)
    referral = repository.get(referral_id)
    if referral is None:
        raise NotFound()
    duplicates = repository.about_same_person(referral)
    items = _items(session, [referral, *duplicates])
    agencies = AgencyRepository(session)
    users = UserRepository(session)
    sender = users.get(referral.sender_user_id)
    decider = users.get(referral.decided_by) if referral.decided_by else None
    receiving = agencies.get(referral.receiving_agency_id)
    person = _visible_person(session, scope, referral.personnummer_index)
    case = CaseRepository(session, scope).get(referral.case_id) if referral.case_id else None
    programme = referral.case_programme or referral.programme
    _audit_read(session, actor, scope, referral, "referral.read")
    for duplicate in duplicates:
        _audit_read(session, actor, scope, duplicate, "referral.read")
    return ReferralView(
        item=items[0],
        sender_name=sender.display_name if sender else "",
        receiving_agency=receiving.name if receiving else "",
        decided_by_name=decider.display_name if decider else None,
        duplicates=items[1:],
        young_person_id=person.id if person else None,
        open_cases=_open_cases(session, scope, person),
        case=case,
        crime_criteria_needed=needs_crime_criteria(programme, age_bands(session)),
        capacity=capacity_warnings(capacity_loads(session, programme))
        if programme in ("SSPF", "SIG")
        else [],
    )


def _case_programme(referral: Referral, given: str | None) -> str:
    value = (given or "").strip() or referral.programme
    if value not in ("SSPF", "SIG"):
        raise ValidationFailed.one(
            "programme", "Välj SSPF eller SIG.", "Choose the programme: SSPF or SIG."
        )
    return value


def _check_eligibility(
    session: Session,
    referral: Referral,
    programme: str,
    data: DecisionInput,
    person: YoungPerson | None,
) -> None:
    bands = age_bands(session)
    check_age(
        programme,
        bands,
        birth_date=person.birth_date if person else None,
        birth_year=referral.birth_year,
        on=today(),
    )
    if needs_crime_criteria(programme, bands):
        if data.crime_criteria_met is None:
            raise ValidationFailed.one(
                "crime_criteria_met",
                "Ange om den unga personen är känd av socialtjänsten och misstänkt eller "
                "dömd för brott.",
                "crime_criteria_met is required for SIG.",
            )
        if not data.crime_criteria_met:
            raise ValidationFailed.one(
                "crime_criteria_met",
                "SIG kräver att den unga personen är känd av socialtjänsten och misstänkt "
                "eller dömd för brott.",
                "SIG requires a young person known to social services and suspected of or "
                "convicted for a crime.",
            )


def decide(
    session: Session,
    actor: Actor,
    *,
    index: BlindIndex,
    referral_id: uuid.UUID,
    data: DecisionInput,
) -> DecisionResult:
    """One triage decision. The referral is found in the reader's inbox (404 otherwise),
    then the version (409), then the status (409 on a decided referral), then the input."""
    actor.require(Permission.TRIAGE_REFERRALS)
    scope = case_scope(session, actor)
    repository = ReferralRepository(session, scope)
    referral = repository.get(referral_id)
    if referral is None:
        raise NotFound()
    if referral.version != data.version:
        raise StaleVersion(current_version=referral.version)
    decision = parse_decision(data.decision)
    target = status_after(referral.status, decision)
    now = utcnow()
    values: dict[str, Any] = {"status": target.value, "updated_at": now}
    case: Case | None = None
    attached = False
    warnings: list[CapacityWarning] = []

    if decision is not Decision.START_ASSESSMENT:
        values |= {
            "decision": decision.value,
            "decided_by": actor.user_id,
            "decided_at": now,
            "days_to_decision": days_between(referral.created_at, now),
        }
    if decision is Decision.DECLINE:
        errors: list[FieldError] = []
        reason = _clean(errors, "reason", data.reason, label="skäl", required=True, max_length=2000)
        if errors:
            raise ValidationFailed(errors)
        values["decline_reason"] = reason
    elif decision in (Decision.WAIT_LIST, Decision.OPEN_CASE, Decision.ATTACH):
        programme = _case_programme(referral, data.programme)
        person, index_value = _person_for(session, scope, referral, data, index, decision)
        values["case_programme"] = programme
        if decision is not Decision.ATTACH:
            _check_eligibility(session, referral, programme, data, person)
            if needs_crime_criteria(programme, age_bands(session)):
                values |= {
                    "crime_criteria_met": data.crime_criteria_met,
                    "crime_criteria_confirmed_by": actor.user_id,
                }
        if decision is Decision.WAIT_LIST:
            values["waiting_since"] = now
        else:
            existing = [c for c in _open_cases(session, scope, person) if c.programme == programme]
            if decision is Decision.ATTACH or existing:
                if not existing:
                    raise ValidationFailed.one(
                        "decision",
                        f"Den unga personen har inget öppet {programme}-ärende att koppla till.",
                        f"The young person has no open {programme} case to attach to.",
                    )
                case, attached = existing[0], True
                values["decision"] = Decision.ATTACH.value
                first = repository.first_held_meeting(case.id, referral.created_at)
                if first is not None:
                    values |= {
                        "first_meeting_at": first,
                        "days_to_first_meeting": days_between(referral.created_at, first),
                    }
            else:
                if not actor.can(Permission.OPEN_CASE):
                    raise ValidationFailed.one(
                        "decision",
                        "Ett nytt ärende öppnas av en handläggare. Sätt den unga personen på "
                        "väntelistan, koppla till ett pågående ärende eller lämna över.",
                        "Only a social worker opens a new case: wait-list, attach or hand over.",
                    )
                warnings = capacity_warnings(capacity_loads(session, programme))
                if person is None:
                    person = _register(session, actor, index, referral, data, index_value)
                case = open_case(session, actor, young_person_id=person.id, programme=programme)
            values["case_id"] = case.id
    if not repository.change(referral, values):
        raise StaleVersion(current_version=repository.current_version(referral))
    audit.record(
        session,
        actor,
        action="referral.decide",
        resource_type="referral",
        resource_id=referral.id,
        case_id=referral.case_id,
        basis={**_basis(scope, referral), "decision": referral.decision or decision.value},
    )
    return DecisionResult(referral=referral, case=case, attached=attached, warnings=warnings)


def _person_for(
    session: Session,
    scope: CaseScope,
    referral: Referral,
    data: DecisionInput,
    index: BlindIndex,
    decision: Decision,
) -> tuple[YoungPerson | None, str | None]:
    """The registered young person the referral is about (by its blind index, or by the
    personnummer the triager adds), and the index used. A young person registered by a unit
    the reader does not see is not theirs to take up."""
    digest = referral.personnummer_index
    given = (data.personnummer or "").strip()
    if digest is None and given:
        try:
            digest = index.of(parse_personnummer(given, today=today()).digits)
        except InvalidPersonnummer as exc:
            raise ValidationFailed.one("personnummer", str(exc), "Invalid personnummer.") from None
    if digest is None:
        if decision is Decision.WAIT_LIST:
            return None, None
        raise ValidationFailed.one(
            "personnummer",
            "Ange den unga personens personnummer för att öppna eller koppla ett ärende.",
            "personnummer is required to open or attach a case.",
        )
    found = person_by_index(session, digest)
    if found is None:
        return None, digest
    person = YoungPersonRepository(session, scope).get(found[0])
    if person is None:
        raise Conflict(
            "Den unga personen är registrerad hos en annan enhet: lämna över aktualiseringen dit.",
            english="The young person is registered with another unit: hand the referral over.",
        )
    return person, digest


def _register(
    session: Session,
    actor: Actor,
    index: BlindIndex,
    referral: Referral,
    data: DecisionInput,
    digest: str | None,
) -> YoungPerson:
    personnummer = referral.personnummer or (data.personnummer or "").strip()
    errors: list[FieldError] = []
    _clean(errors, "first_name", data.first_name, label="förnamn", required=True, max_length=100)
    _clean(errors, "last_name", data.last_name, label="efternamn", required=True, max_length=100)
    if not (data.gender or "").strip():
        errors.append(FieldError("gender", "Välj kön.", "gender is required."))
    if errors or digest is None:
        raise ValidationFailed(errors)
    return register_young_person(
        session,
        actor,
        index=index,
        data=YoungPersonInput(
            personnummer=personnummer,
            first_name=data.first_name or "",
            last_name=data.last_name or "",
            gender=data.gender or "",
        ),
    )


def hand_over(
    session: Session,
    actor: Actor,
    *,
    referral_id: uuid.UUID,
    receiving_agency_id: uuid.UUID | str,
    version: int,
) -> Referral:
    """Send an undecided referral on to another social-services unit (the young person lives
    in its area, or is registered there). It leaves the reader's inbox unless they
    coordinate its programme; the sender sees no change."""
    actor.require(Permission.TRIAGE_REFERRALS)
    scope = case_scope(session, actor)
    repository = ReferralRepository(session, scope)
    referral = repository.get(referral_id)
    if referral is None:
        raise NotFound()
    if referral.version != version:
        raise StaleVersion(current_version=referral.version)
    if ReferralStatus(referral.status) in DECIDED:
        raise Conflict(
            "Aktualiseringen är redan beslutad.", english="The referral is already decided."
        )
    errors: list[FieldError] = []
    unit_id = _receiving_unit(session, errors, receiving_agency_id)
    if unit_id == referral.receiving_agency_id:
        errors.append(
            FieldError(
                "receiving_agency_id",
                "Aktualiseringen finns redan hos den enheten: välj en annan.",
                "The referral is already with that unit: choose another.",
            )
        )
    if errors or unit_id is None:
        raise ValidationFailed(errors)
    basis = _basis(scope, referral)  # the reader's basis before it moves
    if not repository.change(referral, {"receiving_agency_id": unit_id, "updated_at": utcnow()}):
        raise StaleVersion(current_version=repository.current_version(referral))
    audit.record(
        session,
        actor,
        action="referral.hand_over",
        resource_type="referral",
        resource_id=referral.id,
        case_id=referral.case_id,
        basis={**basis, "to_agency_id": str(unit_id)},
    )
    return referral


def waiting_list(
    session: Session, actor: Actor, *, programme: str | None = None
) -> list[WaitingEntry]:
    """Who waits, per programme, longest first, with the days waited (Europe/Stockholm)."""
    actor.require(Permission.TRIAGE_REFERRALS)
    if programme is not None and programme not in ("SSPF", "SIG"):
        raise ValidationFailed.one("programme", "Välj SSPF eller SIG.", "Choose SSPF or SIG.")
    scope = case_scope(session, actor)
    rows = [
        r
        for r in ReferralRepository(session, scope).waiting()
        if programme is None or r.case_programme == programme
    ]
    now = utcnow()
    entries = []
    for item in _items(session, rows):
        referral = item.referral
        _audit_read(session, actor, scope, referral, "referral.list")
        since = referral.waiting_since or referral.created_at
        entries.append(
            WaitingEntry(
                item=item,
                programme=referral.case_programme or referral.programme,
                waiting_since=since,
                days_waited=days_between(since, now),
            )
        )
    return sorted(entries, key=lambda e: (e.programme, e.waiting_since))


def local_date(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d")
