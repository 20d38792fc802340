"""Use cases for cases: open, list, read, move through the lifecycle."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import STOCKHOLM, today, utcnow
from common.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from common.roles import Permission
from consent.models import TeamMember, TeamRole
from consent.rules import (
    Category,
    EffectiveConsent,
    GuardianInfo,
    Move,
    MoveReason,
    consent_move,
)
from consent.scope import Basis
from domain.access import case_scope, effective_now, effective_with
from domain.agencies.models import Agency
from domain.cases.models import Case, CaseStateChange
from domain.cases.repository import CaseRepository, CaseSummary, HistoryEntry, TeamEntry
from domain.cases.rules import OPEN_STATES, CaseState, Outcome, Programme, check_transition
from domain.consents.repository import CaseSituation
from domain.people.repository import YoungPersonRepository
from domain.people.rules import (
    GuardianDetails,
    PersonDetails,
    person_details,
    sees_protected_details,
)

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class CasePage:
    items: Sequence[CaseSummary]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class CaseView:
    """One reader's view of a case, decided here: for a partner only the fields of the
    consented categories (`PersonDetails`) and only the team members of covered agencies."""

    case: Case
    young_person: PersonDetails
    owner_agency: Agency
    team: Sequence[TeamEntry]
    history: Sequence[HistoryEntry]
    managed: bool  # read as social services (own unit or coordinator), not as a partner
    break_glass_until: datetime | None  # set when the read rests on emergency access
    categories: frozenset[Category]  # what the reader may see of the case
    # Whether every required signer has consented now; None for a partner or a break-glass
    # reader, who are not told about the consent beyond what it lets them see.
    consent_complete: bool | None = None


def _parse_programme(value: str) -> Programme:
    try:
        return Programme(value)
    except ValueError:
        raise ValidationFailed.one("programme", "Välj SSPF eller SIG.") from None


def open_case(
    session: Session, actor: Actor, *, young_person_id: uuid.UUID, programme: str
) -> Case:
    actor.require(Permission.OPEN_CASE)
    chosen = _parse_programme(programme)
    scope = case_scope(session, actor)
    person = YoungPersonRepository(session, scope).get(young_person_id)
    if person is None or person.owner_agency_id not in scope.owner_agency_ids:
        raise NotFound()
    cases = CaseRepository(session, scope)
    if cases.has_open_case(person.id, chosen.value, [state.value for state in OPEN_STATES]):
        raise Conflict(f"Den unga personen har redan ett öppet {chosen.value}-ärende.")

    now = utcnow()
    year = now.astimezone(STOCKHOLM).year
    number = cases.next_reference_number(chosen.value, year)
    case = Case(
        reference=f"{chosen.value}-{year}-{number:04d}",
        programme=chosen.value,
        state=CaseState.REFERRED.value,
        young_person_id=person.id,
        owner_agency_id=actor.agency_id,
        owner_user_id=actor.user_id,
        opened_at=now,
        updated_at=now,
    )
    cases.add(
        case,
        CaseStateChange(
            case_id=case.id,
            to_state=case.state,
            reason=MoveReason.OPENED.value,
            changed_by=actor.user_id,
            changed_at=now,
        ),
        TeamMember(
            case_id=case.id,
            user_id=actor.user_id,
            role=TeamRole.OWNER.value,
            added_by=actor.user_id,
            added_at=now,
        ),
    )
    audit.record(
        session,
        actor,
        action="case.create",
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        basis=scope.basis_for(case),
    )
    return case


def list_cases(
    session: Session,
    actor: Actor,
    *,
    states: Sequence[str] | None = None,
    page: int = 1,
    page_size: int = 25,
) -> CasePage:
    actor.require(Permission.LIST_CASES)
    if page < 1:
        raise ValidationFailed.one("page", "Sidnumret måste vara 1 eller större.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed.one("page_size", f"Sidstorleken måste vara 1–{MAX_PAGE_SIZE}.")
    known = {state.value for state in CaseState}
    for state in states or ():
        if state not in known:
            raise ValidationFailed.one("state", f"Okänd status: {state}.")
    scope = case_scope(session, actor)
    items, total = CaseRepository(session, scope).summaries(
        states=states, offset=(page - 1) * page_size, limit=page_size
    )
    # The list shows names: each row shown is a read, with an event of its own.
    audit.record_many(
        session,
        actor,
        action="case.list",
        resource_type="case",
        targets=[
            audit.Target(resource_id=case.id, case_id=case.id, basis=scope.basis_for(case))
            for case in items
        ],
    )
    return CasePage(items=items, total=total, page=page, page_size=page_size)


def get_case(session: Session, actor: Actor, *, case_id: uuid.UUID) -> CaseView:
    actor.require(Permission.READ_CASE)
    scope = case_scope(session, actor)
    cases = CaseRepository(session, scope)
    found = cases.get_with_person(case_id)
    if found is None:
        raise NotFound()
    case, person, owner_agency, school = found
    people = YoungPersonRepository(session, scope)
    categories = scope.categories_for(case)
    shows_protected = sees_protected_details(actor, person, [case.owner_user_id])
    guardians = people.guardians_of(person) if Category.SOCIAL in categories else None
    details = person_details(
        person,
        guardians or (),
        school_name=school.name if school else None,
        categories=categories,
        in_full=scope.sees_in_full(case),
        sees_protected=shows_protected,
        today=today(),
    )
    team, history = cases.team_and_history(case)
    audit.record(
        session,
        actor,
        action="case.read",
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        basis=scope.basis_for(case),
    )
    return CaseView(
        case=case,
        young_person=details,
        owner_agency=owner_agency,
        team=visible_team(team, scope.agencies_for(case)),
        history=history,
        managed=scope.manages(case),
        break_glass_until=emergency.expires_at
        if (emergency := scope.break_glass.get(case.id))
        else None,
        categories=categories,
        consent_complete=_consent_complete(session, case, person.birth_date, guardians)
        if scope.manages(case)
        else None,
    )


def _consent_complete(
    session: Session, case: Case, birth_date: date, guardians: Sequence[GuardianDetails] | None
) -> bool:
    """Whether the consent in effect now is complete, from the rows the read already holds."""
    if guardians is None:
        return effective_now(session, case.id).complete
    situation = CaseSituation(
        case.state,
        case.state_reason,
        case.owner_agency_id,
        birth_date,
        [GuardianInfo(id=g.id, has_custody=g.has_custody) for g in guardians],
    )
    return effective_with(session, situation, case.id).complete


def visible_team(
    team: Sequence[TeamEntry], agencies: frozenset[uuid.UUID] | None
) -> list[TeamEntry]:
    """The members a reader may see: all (None), or those of the agencies the consent covers
    and of the owning unit: a partner does not learn which other agencies are involved."""
    return [member for member in team if agencies is None or member.agency_id in agencies]


def change_state(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    target: str,
    expected_version: int,
    outcome: str | None = None,
) -> Case:
    """Move a case in its lifecycle by hand. Illegal moves and stale versions change nothing;
    nobody makes a case active without complete consent."""
    actor.require(Permission.CHANGE_CASE_STATE)
    try:
        target_state = CaseState(target)
    except ValueError:
        raise ValidationFailed.one("state", f"Okänd status: {target}.") from None
    try:
        chosen_outcome = Outcome(outcome) if outcome else None
    except ValueError:
        raise ValidationFailed.one("outcome", f"Okänt utfall: {outcome}.") from None
    scope = case_scope(session, actor)
    case = CaseRepository(session, scope).get(case_id)
    # Partners and break-glass readers see a case; only its own unit or the coordinator moves it.
    if case is None or not scope.manages(case):
        raise NotFound()
    if case.version != expected_version:
        raise StaleVersion()
    current = CaseState(case.state)
    check_transition(current, target_state, chosen_outcome)
    if target_state is CaseState.ACTIVE and not effective_now(session, case.id).complete:
        raise Conflict(
            "Ärendet kan inte bli pågående förrän alla som ska skriva under har gett samtycke."
        )
    _move(
        session,
        case,
        target=target_state,
        reason=MoveReason.MANUAL,
        outcome=chosen_outcome,
        changed_by=actor,
        basis=scope.basis_for(case),
    )
    if target_state is CaseState.CONSENT_PENDING:  # consent may already be on file
        follow_consent(
            session,
            actor,
            case,
            effective_now(session, case.id),
            basis=scope.basis_for(case),
        )
    return case


def start_consent_process(
    session: Session, actor: Actor, case: Case, *, basis: dict[str, object]
) -> None:
    """Move a referred case to consent_pending because `actor` recorded a consent in it: a
    signature on file means the consent process has begun (DESIGN §2), and the person who
    recorded it made the move. The caller then lets the consent rules take it further."""
    if case.state != CaseState.REFERRED.value:
        return
    _move(
        session,
        case,
        target=CaseState.CONSENT_PENDING,
        reason=MoveReason.MANUAL,
        outcome=None,
        changed_by=actor,
        basis=basis,
    )


def follow_consent(
    session: Session,
    actor: Actor | None,
    case: Case,
    consent: EffectiveConsent,
    *,
    basis: dict[str, object] | None = None,
) -> Move | None:
    """Move `case` as the consent rules call for (`consent_move`), if they call for a move.

    `actor` is the person whose change of consent triggered the move, with `basis` from the
    scope they manage the case by (the caller has checked it); or None when time did (the
    consent sweep), and the basis is the system's. Raises StaleVersion if the case changed
    since it was read.
    """
    move = consent_move(
        current=case.state,
        paused_by_hand=case.state_reason == MoveReason.MANUAL.value,
        consent=consent,
    )
    if move is None:
        return None
    if basis is None:
        basis = {
            "kind": Basis.SYSTEM,
            "consent_records": [str(record) for record in consent.basis],
        }
    _move(
        session,
        case,
        target=CaseState(move.target),
        reason=move.reason,
        outcome=None,
        changed_by=actor,
        basis=basis,
    )
    return move


def _move(
    session: Session,
    case: Case,
    *,
    target: CaseState,
    reason: MoveReason,
    outcome: Outcome | None,
    changed_by: Actor | None,
    basis: dict[str, object],
) -> None:
    """Store one state change of a case (compare-and-set on its version) and audit it."""
    current = case.state
    now = utcnow()
    change = CaseStateChange(
        case_id=case.id,
        from_state=current,
        to_state=target.value,
        outcome=outcome.value if outcome else None,
        reason=reason.value,
        changed_by=changed_by.user_id if changed_by else None,
        changed_at=now,
    )
    changed = CaseRepository.set_state(
        session,
        case,
        state=target.value,
        reason=reason.value,
        outcome=outcome.value if outcome else None,
        closed_at=now if target is CaseState.CLOSED else None,
        activated_at=case.activated_at or (now if target is CaseState.ACTIVE else None),
        now=now,
        change=change,
    )
    if not changed:
        raise StaleVersion()
    audit.record(
        session,
        changed_by,
        action="case.change_state",
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        basis={**basis, "from": current, "to": target.value, "move_reason": reason.value},
    )
