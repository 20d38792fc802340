"""Recording consent and its withdrawal, and the case state that follows from them.

Only social services (the case's own unit, or the coordinator) records consent. After each
change the effective consent is computed again and the case moves as DESIGN §2 says:
consent_pending → active when complete, active → paused when it no longer is, declined on
refusal (`consent.rules.consent_move`). A consent given in a case still `referred` first starts
the consent process (referred → consent_pending, by the person who recorded it), so a complete
consent makes the case active without a separate click. Changes that time brings are the sweep's
(`domain.consents.sweep`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import today, utcnow
from common.errors import Conflict, FieldError, NotFound, ValidationFailed
from common.roles import Permission
from consent.models import ConsentMethod, ConsentRecord, ConsentWithdrawal
from consent.rules import Category, Decision, EffectiveConsent, SignerKind
from consent.scope import CaseScope
from domain.access import case_scope, effective_now
from domain.agencies.repository import AgencyRepository
from domain.cases import service as cases
from domain.cases.models import Case
from domain.cases.repository import CaseRepository
from domain.consents.repository import ConsentRecords, ConsentRepository
from domain.people.repository import YoungPersonRepository
from domain.people.rules import GuardianDetails


@dataclass(frozen=True)
class ConsentInput:
    signer: str  # "young_person" or a guardian's id
    decision: str
    signed_on: date | None
    valid_from: date | None
    valid_until: date | None
    agencies: Sequence[str]
    categories: Sequence[str]
    method: str
    document: bytes | None = None  # the scanned form: only its SHA-256 is kept
    # The id of another signer's consent in force in this case whose scope (agencies and
    # categories) this one takes instead of `agencies` and `categories`: guardians usually
    # sign the same form. Empty: the scope is the one given.
    scope_from: str = ""


@dataclass(frozen=True)
class ConsentOverview:
    case: Case
    guardians: Sequence[GuardianDetails]
    records: Sequence[tuple[ConsentRecord, ConsentWithdrawal | None]]
    effective: EffectiveConsent

    @property
    def scope_sources(self) -> list[ConsentRecord]:
        return scope_sources(self.records)


def managed_case(
    session: Session, actor: Actor, case_id: uuid.UUID, permission: Permission
) -> tuple[Case, CaseScope]:
    """The case and the actor's scope, if the actor reads the case as social services (its own
    unit or the coordinator), not as a partner; otherwise 404."""
    actor.require(permission)
    scope = case_scope(session, actor)
    case = CaseRepository(session, scope).get(case_id)
    if case is None or not scope.manages(case):
        raise NotFound()
    return case, scope


def _follow_consent(
    session: Session, actor: Actor, case: Case, scope: CaseScope, *, given: bool = False
) -> None:
    """Move the case to the state its consent now calls for, if any. `given`: a consent was
    just given, which starts the consent process of a referred case."""
    basis = scope.basis_for(case)
    if given:
        cases.start_consent_process(session, actor, case, basis=basis)
    cases.follow_consent(session, actor, case, effective_now(session, case.id), basis=basis)


def scope_sources(
    records: Sequence[tuple[ConsentRecord, ConsentWithdrawal | None]],
) -> list[ConsentRecord]:
    """The consents whose scope a new one may start from: each signer's latest given consent
    that is not withdrawn, in the order they were recorded."""
    latest: dict[tuple[str, uuid.UUID | None], ConsentRecord] = {}
    for record, withdrawal in records:  # in the order recorded: a later one replaces
        key = (record.signer_kind, record.guardian_id)
        if record.decision == Decision.GIVEN.value and withdrawal is None:
            latest[key] = record
        else:
            latest.pop(key, None)
    return sorted(latest.values(), key=lambda record: (record.recorded_at, record.id))


def _scope_source(records: ConsentRecords, case: Case, chosen: str) -> ConsentRecord | None:
    try:
        wanted = uuid.UUID(chosen)
    except ValueError:
        return None
    sources = scope_sources(records.for_case(case.id))
    return next((record for record in sources if record.id == wanted), None)


def record_consent(
    session: Session, actor: Actor, *, case_id: uuid.UUID, data: ConsentInput
) -> ConsentRecord:
    case, scope = managed_case(session, actor, case_id, Permission.RECORD_CONSENT)
    if case.state == "closed":
        raise Conflict("Ärendet är avslutat: samtycken kan inte längre registreras.")
    people = YoungPersonRepository(session, scope)
    person = people.get(case.young_person_id)
    if person is None:
        raise NotFound()
    guardians = people.guardians_of(person)
    errors: list[FieldError] = []

    guardian_id: uuid.UUID | None = None
    if data.signer == SignerKind.YOUNG_PERSON.value:
        signer_kind = SignerKind.YOUNG_PERSON
    else:
        signer_kind = SignerKind.GUARDIAN
        try:
            guardian_id = uuid.UUID(data.signer)
        except ValueError:
            guardian_id = None
        if guardian_id not in {g.id for g in guardians}:
            errors.append(FieldError("signer", "Välj den unga eller en av vårdnadshavarna."))
    if data.decision not in {d.value for d in Decision}:
        errors.append(FieldError("decision", "Välj om samtycke ges eller nekas."))
    if data.signed_on is None:
        errors.append(FieldError("signed_on", "Ange när samtycket skrevs under."))
    elif data.signed_on > today():
        errors.append(FieldError("signed_on", "Underskriftsdatumet kan inte ligga i framtiden."))
    elif data.signed_on < person.birth_date:
        errors.append(
            FieldError("signed_on", "Underskriftsdatumet kan inte ligga före den ungas födelse.")
        )
    valid_from = data.valid_from or data.signed_on
    if valid_from is None:
        errors.append(FieldError("valid_from", "Ange från vilket datum samtycket gäller."))
    if data.valid_until is not None and valid_from is not None and data.valid_until < valid_from:
        errors.append(FieldError("valid_until", "Slutdatumet måste komma efter startdatumet."))
    chosen_agencies, chosen_categories = data.agencies, data.categories
    if data.scope_from:
        source = _scope_source(ConsentRecords(session, scope), case, data.scope_from)
        if source is None:
            errors.append(
                FieldError(
                    "scope_from",
                    "Välj en undertecknare i listan, eller välj omfattningen själv.",
                    "Choose a given consent in force in this case, or leave scope_from empty.",
                )
            )
        else:
            chosen_agencies, chosen_categories = source.agencies, source.categories
    known_agencies = {str(a.id) for a in AgencyRepository(session).list()}
    agencies = sorted(set(chosen_agencies))
    if data.decision == Decision.GIVEN.value and not agencies:
        errors.append(
            FieldError("agencies", "Välj minst en organisation som får ta del av uppgifterna.")
        )
    if any(a not in known_agencies for a in agencies):
        errors.append(FieldError("agencies", "Välj organisationer i listan."))
    categories = sorted(set(chosen_categories))
    if data.decision == Decision.GIVEN.value and not categories:
        errors.append(FieldError("categories", "Välj minst en kategori av uppgifter."))
    if any(c not in {k.value for k in Category} for c in categories):
        errors.append(FieldError("categories", "Välj kategorier i listan."))
    if data.method not in {m.value for m in ConsentMethod}:
        errors.append(FieldError("method", "Välj hur samtycket lämnades."))
    if errors or data.signed_on is None or valid_from is None:
        raise ValidationFailed(errors)

    record = ConsentRecord(
        case_id=case.id,
        signer_kind=signer_kind.value,
        guardian_id=guardian_id,
        decision=data.decision,
        signed_on=data.signed_on,
        valid_from=valid_from,
        valid_until=data.valid_until,
        agencies=agencies,
        categories=categories,
        method=data.method,
        document_sha256=hashlib.sha256(data.document).hexdigest() if data.document else None,
        recorded_by=actor.user_id,
        recorded_at=utcnow(),
    )
    ConsentRepository(session).add(record)
    audit.record(
        session,
        actor,
        action="consent.record",
        resource_type="consent_record",
        resource_id=record.id,
        case_id=case.id,
        basis={"decision": record.decision, "signer_kind": record.signer_kind},
    )
    _follow_consent(session, actor, case, scope, given=record.decision == Decision.GIVEN.value)
    return record


def withdraw_consent(session: Session, actor: Actor, *, consent_id: uuid.UUID) -> ConsentWithdrawal:
    """Takes effect at once: a partner's next request is answered as if the case did not exist."""
    actor.require(Permission.RECORD_CONSENT)
    records = ConsentRecords(session, case_scope(session, actor))
    record = records.get(consent_id)
    if record is None:
        raise NotFound()
    case, scope = managed_case(session, actor, record.case_id, Permission.RECORD_CONSENT)
    if record.decision != Decision.GIVEN.value:
        raise Conflict("Bara ett givet samtycke kan återkallas.")
    if records.withdrawal_of(record) is not None:
        raise Conflict("Samtycket är redan återkallat.")
    now = utcnow()
    withdrawal = ConsentWithdrawal(
        consent_id=record.id, withdrawn_at=now, recorded_by=actor.user_id, recorded_at=now
    )
    ConsentRepository(session).add(withdrawal)
    audit.record(
        session,
        actor,
        action="consent.withdraw",
        resource_type="consent_record",
        resource_id=record.id,
        case_id=case.id,
    )
    _follow_consent(session, actor, case, scope)
    return withdrawal


def consent_overview(session: Session, actor: Actor, *, case_id: uuid.UUID) -> ConsentOverview:
    case, scope = managed_case(session, actor, case_id, Permission.RECORD_CONSENT)
    people = YoungPersonRepository(session, scope)
    person = people.get(case.young_person_id)
    if person is None:
        raise NotFound()
    audit.record(
        session,
        actor,
        action="consent.read",
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        basis=scope.basis_for(case),
    )
    return ConsentOverview(
        case=case,
        guardians=people.guardians_of(person),
        records=ConsentRecords(session, scope).for_case(case.id),
        effective=effective_now(session, case.id),
    )
