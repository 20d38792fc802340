"""The plan of a case: goals and commitments, and the overdue commitments across cases."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.plans import (
    CommitmentIn,
    CommitmentListOut,
    CommitmentOut,
    CommitmentPatch,
    GoalIn,
    GoalOut,
    GoalPatch,
    PlanOut,
)
from common.roles import Permission
from domain.plans import service as plans
from domain.plans.service import CommitmentChanges

router = APIRouter(tags=["plan"])
_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/cases/{case_id}/plan",
    response_model=PlanOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.READ_PLAN)],
)
def read_plan(session: DbSession, actor: CurrentActor, case_id: uuid.UUID) -> PlanOut:
    """The goals and commitments you may see: a partner sees them when their agency's consent
    covers `plan`, and their own agency's commitments while they see the case."""
    return PlanOut.of(plans.read_plan(session, actor, case_id=case_id))


@router.post(
    "/cases/{case_id}/goals",
    status_code=201,
    response_model=GoalOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.EDIT_PLAN)],
)
def add_goal(session: DbSession, actor: CurrentActor, case_id: uuid.UUID, body: GoalIn) -> GoalOut:
    return GoalOut.of(plans.add_goal(session, actor, case_id=case_id, text=body.text))


@router.patch(
    "/cases/{case_id}/goals/{goal_id}",
    response_model=GoalOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.EDIT_PLAN)],
)
def update_goal(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, goal_id: uuid.UUID, body: GoalPatch
) -> GoalOut:
    goal = plans.update_goal(
        session,
        actor,
        case_id=case_id,
        goal_id=goal_id,
        version=body.version,
        text=body.text,
        status=body.status,
    )
    return GoalOut.of(goal)


@router.post(
    "/cases/{case_id}/commitments",
    status_code=201,
    response_model=CommitmentOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.EDIT_PLAN)],
)
def add_commitment(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, body: CommitmentIn
) -> CommitmentOut:
    view = plans.add_commitment(
        session,
        actor,
        case_id=case_id,
        what=body.what,
        agency_id=body.agency_id,
        person_user_id=body.person_user_id,
        due_on=body.due_on,
        comment=body.comment,
        decided_at_meeting_id=body.decided_at_meeting_id,
    )
    return CommitmentOut.of(view)


@router.patch(
    "/cases/{case_id}/commitments/{commitment_id}",
    response_model=CommitmentOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.UPDATE_COMMITMENT)],
)
def update_commitment(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    commitment_id: uuid.UUID,
    body: CommitmentPatch,
) -> CommitmentOut:
    """Complete, comment on or (for the case's social worker) edit a commitment. Another
    agency's commitment answers 403 if you can see it, 404 if you cannot."""
    given = body.model_fields_set
    changes = CommitmentChanges(
        status=body.status,
        comment=body.comment,
        due_on=body.due_on,
        what=body.what,
        person_user_id=body.person_user_id,
        clear_person="person_user_id" in given and body.person_user_id is None,
    )
    view = plans.update_commitment(
        session,
        actor,
        case_id=case_id,
        commitment_id=commitment_id,
        version=body.version,
        changes=changes,
    )
    return CommitmentOut.of(view)


@router.get(
    "/overdue-commitments",
    response_model=CommitmentListOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.READ_PLAN)],
)
def overdue_commitments(
    session: DbSession,
    actor: CurrentActor,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=plans.MAX_PAGE_SIZE)] = 50,
) -> CommitmentListOut:
    """Open commitments past their due date, on every case you see, the oldest first."""
    return CommitmentListOut.of(
        plans.overdue_commitments(session, actor, page=page, page_size=page_size)
    )
