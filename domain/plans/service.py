"""Use cases for the plan: read it, keep its goals, make and keep commitments.

Who may do what:
- READ_PLAN: read the goals and commitments the scope lets the reader see (shared entries of
  category `plan`, or their own agency's commitments while they see the case).
- EDIT_PLAN on a case the actor manages (its own unit or the coordinator): add and edit goals,
  add commitments for any agency taking part, edit, cancel and reopen any commitment.
- UPDATE_COMMITMENT: the committing agency's people complete their agency's commitments or
  comment on them, nothing else. Another agency's commitment answers 403 when the reader can
  see it and 404 when they cannot.
Every edit carries the version it was based on; a stale one gets 409 with the current version.
Every read is audited with the scope's basis, every write too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import today as stockholm_today
from common.clock import utcnow
from common.errors import Conflict, FieldError, Forbidden, NotFound, StaleVersion, ValidationFailed
from common.roles import Permission
from consent.scope import CaseScope
from domain.access import case_scope
from domain.agencies.repository import AgencyRepository
from domain.cases.models import Case
from domain.cases.repository import CaseRepository, TeamEntry
from domain.cases.rules import CaseState
from domain.meetings.repository import MeetingRepository
from domain.plans import rules
from domain.plans.models import PlanCommitment, PlanGoal
from domain.plans.repository import CommitmentRow, PlanRepository
from domain.plans.rules import CommitmentStatus, GoalStatus
from domain.users.repository import UserRepository

MAX_PAGE_SIZE = 100


class NotYourCommitment(Forbidden):
    """The reader sees the commitment but may not change it (403, never for an unseen one)."""

    def __init__(self, detail: str, english: str) -> None:
        super().__init__(detail)
        self.english = english


@dataclass(frozen=True)
class CommitmentView:
    commitment: PlanCommitment
    case: Case
    agency_name: str
    person_name: str | None
    overdue: bool
    updatable: bool  # the reader may complete or comment on it (or, managing, edit it)


@dataclass(frozen=True)
class AgencyChoice:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class PlanView:
    """One reader's view of a case's plan. `agencies` and `members` are the choices for a new
    commitment, given only to a reader who may edit the plan."""

    case: Case
    goals: Sequence[PlanGoal]
    commitments: Sequence[CommitmentView]
    editable: bool
    agencies: Sequence[AgencyChoice]
    members: Sequence[TeamEntry]
    today: date


@dataclass(frozen=True)
class CommitmentPage:
    items: Sequence[CommitmentView]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class CommitmentChanges:
    """What an edit of a commitment changes; None leaves a field as it is. `comment` "" clears
    it; `clear_person` removes the named person."""

    status: str | None = None
    comment: str | None = None
    due_on: date | None = None
    what: str | None = None
    person_user_id: uuid.UUID | None = None
    clear_person: bool = False

    def named(self) -> frozenset[str]:
        fields = {
            name
            for name in ("status", "comment", "due_on", "what", "person_user_id")
            if getattr(self, name) is not None
        }
        if self.clear_person:
            fields.add("person_user_id")
        return frozenset(fields)


# --- reading -------------------------------------------------------------------------


def _edits(actor: Actor, scope: CaseScope, case: Case) -> bool:
    return actor.can(Permission.EDIT_PLAN) and scope.manages(case)


def _may_update(actor: Actor, scope: CaseScope, case: Case, commitment: PlanCommitment) -> bool:
    if _edits(actor, scope, case):
        return case.state != CaseState.CLOSED.value
    return (
        actor.can(Permission.UPDATE_COMMITMENT)
        and commitment.agency_id == actor.agency_id
        and case.id not in scope.break_glass  # emergency access reads, never writes
    )


def _view(actor: Actor, scope: CaseScope, row: CommitmentRow, today: date) -> CommitmentView:
    c = row.commitment
    return CommitmentView(
        commitment=c,
        case=row.case,
        agency_name=row.agency_name,
        person_name=row.person_name,
        overdue=rules.is_overdue(c.status, c.due_on, today),
        updatable=_may_update(actor, scope, row.case, c),
    )


def read_plan(
    session: Session, actor: Actor, *, case_id: uuid.UUID, today: date | None = None
) -> PlanView:
    actor.require(Permission.READ_PLAN)
    scope = case_scope(session, actor)
    case = CaseRepository(session, scope).get(case_id)
    if case is None:
        raise NotFound()
    on = today or stockholm_today()
    plans = PlanRepository(session, scope)
    goals = plans.goals(case.id)
    commitments = [_view(actor, scope, row, on) for row in plans.commitments(case.id)]
    editable = _edits(actor, scope, case) and case.state != CaseState.CLOSED.value
    agencies: list[AgencyChoice] = []
    members: list[TeamEntry] = []
    if editable:
        members = CaseRepository(session, scope).team(case)
        owner = AgencyRepository(session).get(case.owner_agency_id)
        by_id = {m.agency_id: AgencyChoice(m.agency_id, m.agency_name) for m in members}
        if owner is not None:
            by_id.setdefault(owner.id, AgencyChoice(owner.id, owner.name))
        agencies = sorted(by_id.values(), key=lambda a: (a.id != case.owner_agency_id, a.name))
    audit.record(
        session,
        actor,
        action="plan.read",
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        basis={
            **scope.basis_for(case),
            "goals": len(goals),
            "commitments": len(commitments),
        },
    )
    return PlanView(
        case=case,
        goals=goals,
        commitments=commitments,
        editable=editable,
        agencies=agencies,
        members=members,
        today=on,
    )


def _audit_list(
    session: Session, actor: Actor, scope: CaseScope, action: str, rows: Sequence[CommitmentRow]
) -> None:
    """A list shows commitments of several cases: one read event per case, naming them."""
    by_case: dict[uuid.UUID, list[CommitmentRow]] = defaultdict(list)
    for row in rows:
        by_case[row.case.id].append(row)
    for case_id, shown in by_case.items():
        audit.record(
            session,
            actor,
            action=action,
            resource_type="case",
            resource_id=case_id,
            case_id=case_id,
            basis={
                **scope.basis_for(shown[0].case),
                "commitments": [str(row.commitment.id) for row in shown],
            },
        )


def overdue_commitments(
    session: Session,
    actor: Actor,
    *,
    today: date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> CommitmentPage:
    """Open commitments past their due date on every case the reader sees (the coordinator:
    their programmes; a social worker: their unit; a contact person: within consent)."""
    actor.require(Permission.READ_PLAN)
    if page < 1:
        raise ValidationFailed.one(
            "page", "Sidnumret måste vara 1 eller större.", "page must be 1 or more."
        )
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed.one(
            "page_size",
            f"Sidstorleken måste vara 1–{MAX_PAGE_SIZE}.",
            f"page_size must be 1..{MAX_PAGE_SIZE}.",
        )
    on = today or stockholm_today()
    scope = case_scope(session, actor)
    rows, total = PlanRepository(session, scope).open_commitments(
        due_before=on, offset=(page - 1) * page_size, limit=page_size
    )
    _audit_list(session, actor, scope, "commitments.overdue", rows)
    return CommitmentPage(
        items=[_view(actor, scope, row, on) for row in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


def my_commitments(
    session: Session, actor: Actor, *, today: date | None = None, limit: int = MAX_PAGE_SIZE
) -> list[CommitmentView]:
    """Open commitments the actor or their agency has made, on the cases they see, the most
    overdue first (for the start page)."""
    actor.require(Permission.READ_PLAN)
    on = today or stockholm_today()
    scope = case_scope(session, actor)
    rows, _total = PlanRepository(session, scope).open_commitments(
        agency_id=actor.agency_id, person_user_id=actor.user_id, limit=limit
    )
    _audit_list(session, actor, scope, "commitments.mine", rows)
    return [_view(actor, scope, row, on) for row in rows]


# --- writing -------------------------------------------------------------------------


def _plan_case(session: Session, actor: Actor, case_id: uuid.UUID) -> tuple[Case, CaseScope]:
    """A case whose plan the actor keeps: they manage it (404 otherwise) and it is not closed."""
    actor.require(Permission.EDIT_PLAN)
    scope = case_scope(session, actor)
    case = CaseRepository(session, scope).get(case_id)
    if case is None or not scope.manages(case):
        raise NotFound()
    _not_closed(case)
    return case, scope


def _not_closed(case: Case) -> None:
    if case.state == CaseState.CLOSED.value:
        raise Conflict(
            "Ärendet är avslutat: planen kan inte ändras.",
            english="The case is closed: its plan cannot change.",
        )


@dataclass(frozen=True)
class _Team:
    agencies: frozenset[uuid.UUID]
    members: dict[uuid.UUID, uuid.UUID]  # user → agency


def _team(session: Session, scope: CaseScope, case: Case) -> _Team:
    members = CaseRepository(session, scope).team(case)
    return _Team(
        agencies=frozenset(m.agency_id for m in members),
        members={m.user_id: m.agency_id for m in members},
    )


def _check_version(entry: PlanGoal | PlanCommitment, version: int) -> None:
    if entry.version != version:
        raise StaleVersion(current_version=entry.version)


def _store(plans: PlanRepository, entry: PlanGoal | PlanCommitment, values: dict[str, Any]) -> None:
    if not plans.change(entry, values):
        raise StaleVersion(current_version=plans.current_version(entry))


def add_goal(session: Session, actor: Actor, *, case_id: uuid.UUID, text: str) -> PlanGoal:
    case, scope = _plan_case(session, actor, case_id)
    errors: list[FieldError] = []
    clean = rules.required_text(text, "text", "målet", errors)
    if errors or clean is None:
        raise ValidationFailed(errors)
    now = utcnow()
    goal = PlanGoal(
        case_id=case.id,
        text=clean,
        author_agency_id=actor.agency_id,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    PlanRepository(session, scope).add(goal)
    audit.record(
        session,
        actor,
        action="plan.goal_add",
        resource_type="plan_goal",
        resource_id=goal.id,
        case_id=case.id,
        basis=scope.basis_for(case),
    )
    return goal


def update_goal(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    goal_id: uuid.UUID,
    version: int,
    text: str | None = None,
    status: str | None = None,
) -> PlanGoal:
    case, scope = _plan_case(session, actor, case_id)
    plans = PlanRepository(session, scope)
    goal = plans.goal(case.id, goal_id)
    if goal is None:
        raise NotFound()
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    if text is not None:
        values["text"] = rules.required_text(text, "text", "målet", errors)
    if status is not None:
        chosen = rules.goal_status(status, errors)
        values["status"] = chosen.value if chosen else None
    if errors:
        raise ValidationFailed(errors)
    _check_version(goal, version)
    values["updated_at"] = utcnow()
    _store(plans, goal, values)
    audit.record(
        session,
        actor,
        action="plan.goal_update",
        resource_type="plan_goal",
        resource_id=goal.id,
        case_id=case.id,
        basis={**scope.basis_for(case), "changed": sorted(set(values) - {"updated_at"})},
    )
    return goal


def add_commitment(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    what: str,
    agency_id: uuid.UUID | None,
    due_on: date | None,
    person_user_id: uuid.UUID | None = None,
    comment: str | None = None,
    decided_at_meeting_id: uuid.UUID | None = None,
    today: date | None = None,
) -> CommitmentView:
    """`due_on` None is refused as a missing date (the pages parse it and pass None when they
    cannot); a past date is allowed: a plan may record what was promised earlier."""
    case, scope = _plan_case(session, actor, case_id)
    team = _team(session, scope, case)
    errors: list[FieldError] = []
    clean = rules.required_text(what, "what", "vad som ska göras", errors)
    rules.check_agency(
        agency_id, owner_agency_id=case.owner_agency_id, team_agencies=team.agencies, errors=errors
    )
    if due_on is None:
        errors.append(
            FieldError(
                "due_on",
                "Ange senast-datum som ÅÅÅÅ-MM-DD.",
                "due_on must be a date (YYYY-MM-DD).",
            )
        )
    rules.check_person(person_user_id, agency_id=agency_id, team=team.members, errors=errors)
    note = rules.optional_comment(comment, errors)
    if decided_at_meeting_id is not None and (
        MeetingRepository(session, scope).get(case.id, decided_at_meeting_id) is None
    ):
        errors.append(
            FieldError(
                "decided_at_meeting_id",
                "Mötet finns inte i det här ärendet.",
                "decided_at_meeting_id must name a meeting of this case.",
            )
        )
    if errors or clean is None or agency_id is None or due_on is None:
        raise ValidationFailed(errors)
    now = utcnow()
    commitment = PlanCommitment(
        case_id=case.id,
        what=clean,
        agency_id=agency_id,
        person_user_id=person_user_id,
        due_on=due_on,
        comment=note,
        decided_at_meeting_id=decided_at_meeting_id,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    PlanRepository(session, scope).add(commitment)
    audit.record(
        session,
        actor,
        action="plan.commitment_add",
        resource_type="plan_commitment",
        resource_id=commitment.id,
        case_id=case.id,
        basis={**scope.basis_for(case), "agency_id": str(agency_id)},
    )
    return _single_view(session, actor, scope, case, commitment, today)


def _single_view(
    session: Session,
    actor: Actor,
    scope: CaseScope,
    case: Case,
    commitment: PlanCommitment,
    today: date | None,
) -> CommitmentView:
    """The view of one commitment just written: names from the tables of public names."""
    agency = AgencyRepository(session).get(commitment.agency_id)
    person_name = None
    if commitment.person_user_id is not None:
        person = UserRepository(session).get(commitment.person_user_id)
        person_name = person.display_name if person else None
    on = today or stockholm_today()
    return CommitmentView(
        commitment=commitment,
        case=case,
        agency_name=agency.name if agency else "",
        person_name=person_name,
        overdue=rules.is_overdue(commitment.status, commitment.due_on, on),
        updatable=_may_update(actor, scope, case, commitment),
    )


_CONTACT_FIELDS = frozenset({"status", "comment"})


def update_commitment(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    commitment_id: uuid.UUID,
    version: int,
    changes: CommitmentChanges,
    today: date | None = None,
) -> CommitmentView:
    if not (actor.can(Permission.EDIT_PLAN) or actor.can(Permission.UPDATE_COMMITMENT)):
        raise Forbidden()
    scope = case_scope(session, actor)
    case = CaseRepository(session, scope).get(case_id)
    if case is None:
        raise NotFound()
    plans = PlanRepository(session, scope)
    commitment = plans.commitment(case.id, commitment_id)
    if commitment is None:
        raise NotFound()
    managing = _edits(actor, scope, case)
    if managing:
        _not_closed(case)
    else:
        _check_contact(actor, scope, case, commitment, changes)

    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    target = rules.commitment_status(changes.status, errors) if changes.status else None
    if changes.comment is not None:
        values["comment"] = rules.optional_comment(changes.comment, errors)
    if changes.what is not None:
        values["what"] = rules.required_text(changes.what, "what", "vad som ska göras", errors)
    if changes.due_on is not None:
        values["due_on"] = changes.due_on
    if changes.clear_person:
        values["person_user_id"] = None
    elif changes.person_user_id is not None:
        team = _team(session, scope, case)
        rules.check_person(
            changes.person_user_id,
            agency_id=commitment.agency_id,
            team=team.members,
            errors=errors,
        )
        values["person_user_id"] = changes.person_user_id
    if errors:
        raise ValidationFailed(errors)
    _check_version(commitment, version)
    now = utcnow()
    if target is not None:
        rules.check_commitment_move(CommitmentStatus(commitment.status), target)
        if target.value != commitment.status:
            values["status"] = target.value
            done = target is CommitmentStatus.DONE
            values["completed_at"] = now if done else None
            values["completed_by"] = actor.user_id if done else None
    values["updated_at"] = now
    _store(plans, commitment, values)
    audit.record(
        session,
        actor,
        action="plan.commitment_update",
        resource_type="plan_commitment",
        resource_id=commitment.id,
        case_id=case.id,
        basis={
            **scope.basis_for(case),
            "changed": sorted(set(values) - {"updated_at", "completed_at", "completed_by"}),
            "status": commitment.status,
        },
    )
    return _single_view(session, actor, scope, case, commitment, today)


def _check_contact(
    actor: Actor,
    scope: CaseScope,
    case: Case,
    commitment: PlanCommitment,
    changes: CommitmentChanges,
) -> None:
    """A reader who does not keep the plan: only their own agency's commitment, only to
    complete it or comment on it."""
    if not _may_update(actor, scope, case, commitment):
        raise NotYourCommitment(
            "Du kan bara markera din egen organisations åtaganden som klara eller kommentera dem.",
            "Only the committing agency may complete or comment on this commitment.",
        )
    if changes.named() - _CONTACT_FIELDS or changes.status not in (
        None,
        CommitmentStatus.DONE.value,
    ):
        raise NotYourCommitment(
            "Du kan markera åtagandet som klart eller kommentera det. Övriga ändringar gör "
            "ärendets handläggare.",
            "You may mark the commitment done or comment on it; the case's social worker "
            "makes other changes.",
        )


__all__ = [
    "CommitmentChanges",
    "CommitmentPage",
    "CommitmentView",
    "GoalStatus",
    "NotYourCommitment",
    "PlanView",
    "add_commitment",
    "add_goal",
    "my_commitments",
    "overdue_commitments",
    "read_plan",
    "update_commitment",
    "update_goal",
]
