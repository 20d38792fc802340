"""The collaboration agreement (issue 14): read by the steering group and the coordinator
(READ_FOLLOW_UP), set up by the coordinator (MANAGE_AGREEMENTS)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.agreements import (
    ActivityIn,
    ActivityOut,
    ActivityPatch,
    AgreementIn,
    AgreementOut,
    AgreementPatch,
    AgreementSummaryOut,
    GoalAreaIn,
    GoalAreaOut,
    GoalAreaPatch,
    PartyIn,
    PartyOut,
    TargetIn,
    TargetOut,
    TargetPatch,
)
from common.errors import NotFound
from common.roles import Permission
from domain.agreements import service as agreements
from domain.agreements.service import PartyInput

router = APIRouter(prefix="/agreements", tags=["agreements"])
_READ = [requires(Permission.READ_FOLLOW_UP)]
_WRITE = [requires(Permission.MANAGE_AGREEMENTS)]
_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get("", response_model=list[AgreementSummaryOut], responses=_ERRORS, dependencies=_READ)
def list_agreements(session: DbSession, actor: CurrentActor) -> list[AgreementSummaryOut]:
    return [AgreementSummaryOut.of(a) for a in agreements.list_agreements(session, actor)]


@router.post(
    "",
    status_code=201,
    response_model=AgreementOut,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def create_agreement(session: DbSession, actor: CurrentActor, body: AgreementIn) -> AgreementOut:
    created = agreements.create_agreement(
        session,
        actor,
        name=body.name,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        period_kind=body.period_kind,
        k=body.k,
        breakdowns=body.breakdowns,
        areas=body.areas,
        school_agency_ids=body.school_agency_ids,
        follow_up_by=body.follow_up_by,
        parties=[PartyInput(p.name, p.agency_id) for p in body.parties],
    )
    return AgreementOut.of(agreements.get_agreement(session, actor, created.id))


@router.get("/{agreement_id}", response_model=AgreementOut, responses=_ERRORS, dependencies=_READ)
def read_agreement(
    session: DbSession, actor: CurrentActor, agreement_id: uuid.UUID
) -> AgreementOut:
    """The agreement with its parties, goal areas, activities, targets and periods."""
    return AgreementOut.of(agreements.get_agreement(session, actor, agreement_id))


@router.patch(
    "/{agreement_id}", response_model=AgreementOut, responses=_ERRORS, dependencies=_WRITE
)
def update_agreement(
    session: DbSession, actor: CurrentActor, agreement_id: uuid.UUID, body: AgreementPatch
) -> AgreementOut:
    """A stale `version` answers 409; so does a change of the grid after publication."""
    agreements.update_agreement(
        session,
        actor,
        agreement_id,
        version=body.version,
        name=body.name,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        period_kind=body.period_kind,
        k=body.k,
        breakdowns=body.breakdowns,
        areas=body.areas,
        school_agency_ids=body.school_agency_ids,
        follow_up_by=body.follow_up_by,
    )
    return AgreementOut.of(agreements.get_agreement(session, actor, agreement_id))


@router.post(
    "/{agreement_id}/parties",
    status_code=201,
    response_model=PartyOut,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def add_party(
    session: DbSession, actor: CurrentActor, agreement_id: uuid.UUID, body: PartyIn
) -> PartyOut:
    party = agreements.add_party(
        session, actor, agreement_id, name=body.name, agency_id=body.agency_id
    )
    return PartyOut.of(party)


@router.delete(
    "/{agreement_id}/parties/{party_id}",
    status_code=204,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def remove_party(
    session: DbSession, actor: CurrentActor, agreement_id: uuid.UUID, party_id: uuid.UUID
) -> Response:
    agreements.remove_party(session, actor, agreement_id, party_id)
    return Response(status_code=204)


@router.post(
    "/{agreement_id}/goal-areas",
    status_code=201,
    response_model=GoalAreaOut,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def add_goal_area(
    session: DbSession, actor: CurrentActor, agreement_id: uuid.UUID, body: GoalAreaIn
) -> GoalAreaOut:
    goal_area = agreements.add_goal_area(
        session, actor, agreement_id, letter=body.letter, title=body.title
    )
    return GoalAreaOut.of(goal_area)


@router.patch(
    "/{agreement_id}/goal-areas/{goal_area_id}",
    response_model=GoalAreaOut,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def update_goal_area(
    session: DbSession,
    actor: CurrentActor,
    agreement_id: uuid.UUID,
    goal_area_id: uuid.UUID,
    body: GoalAreaPatch,
) -> GoalAreaOut:
    goal_area = agreements.update_goal_area(
        session, actor, agreement_id, goal_area_id, version=body.version, title=body.title
    )
    return GoalAreaOut.of(goal_area)


@router.delete(
    "/{agreement_id}/goal-areas/{goal_area_id}",
    status_code=204,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def delete_goal_area(
    session: DbSession, actor: CurrentActor, agreement_id: uuid.UUID, goal_area_id: uuid.UUID
) -> Response:
    """Only a goal area without activities (409 otherwise)."""
    agreements.delete_goal_area(session, actor, agreement_id, goal_area_id)
    return Response(status_code=204)


@router.post(
    "/{agreement_id}/activities",
    status_code=201,
    response_model=ActivityOut,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def add_activity(
    session: DbSession, actor: CurrentActor, agreement_id: uuid.UUID, body: ActivityIn
) -> ActivityOut:
    """The activity's schools and areas must be among the agreement's (422 naming the field)."""
    activity = agreements.add_activity(
        session,
        actor,
        agreement_id,
        goal_area_id=body.goal_area_id,
        name=body.name,
        programmes=body.programmes,
        school_agency_ids=body.school_agency_ids,
        areas=body.areas,
        responsible=body.responsible,
    )
    return ActivityOut.of(activity)


@router.patch(
    "/{agreement_id}/activities/{activity_id}",
    response_model=ActivityOut,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def update_activity(
    session: DbSession,
    actor: CurrentActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    body: ActivityPatch,
) -> ActivityOut:
    view = agreements.get_agreement(session, actor, agreement_id)
    current = next((a for a in view.activities if a.id == activity_id), None)
    if current is None:
        raise NotFound()
    activity = agreements.update_activity(
        session,
        actor,
        agreement_id,
        activity_id,
        version=body.version,
        goal_area_id=body.goal_area_id or current.goal_area_id,
        name=current.name if body.name is None else body.name,
        programmes=current.programmes if body.programmes is None else body.programmes,
        school_agency_ids=(
            current.school_agency_ids
            if body.school_agency_ids is None
            else [str(s) for s in body.school_agency_ids]
        ),
        areas=current.areas if body.areas is None else body.areas,
        responsible=current.responsible if body.responsible is None else body.responsible,
    )
    return ActivityOut.of(activity, list(view.targets.get(activity.id, ())))


@router.delete(
    "/{agreement_id}/activities/{activity_id}",
    status_code=204,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def delete_activity(
    session: DbSession, actor: CurrentActor, agreement_id: uuid.UUID, activity_id: uuid.UUID
) -> Response:
    """Only before the first publication (409 after)."""
    agreements.delete_activity(session, actor, agreement_id, activity_id)
    return Response(status_code=204)


@router.post(
    "/{agreement_id}/activities/{activity_id}/targets",
    status_code=201,
    response_model=TargetOut,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def add_target(
    session: DbSession,
    actor: CurrentActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    body: TargetIn,
) -> TargetOut:
    """The kind must be one the indicator takes (422 naming `kind`)."""
    target = agreements.add_target(
        session,
        actor,
        agreement_id,
        activity_id,
        indicator=body.indicator,
        row_code=body.row_code,
        kind=body.kind,
        comparison=body.comparison,
        value=body.value,
        label=body.label,
    )
    return TargetOut.of(target)


@router.patch(
    "/{agreement_id}/activities/{activity_id}/targets/{target_id}",
    response_model=TargetOut,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def update_target(
    session: DbSession,
    actor: CurrentActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    target_id: uuid.UUID,
    body: TargetPatch,
) -> TargetOut:
    view = agreements.get_agreement(session, actor, agreement_id)
    current = next((t for t in view.targets.get(activity_id, ()) if t.id == target_id), None)
    if current is None:
        raise NotFound()
    given = body.model_dump(exclude_unset=True)
    target = agreements.update_target(
        session,
        actor,
        agreement_id,
        activity_id,
        target_id,
        version=body.version,
        indicator=given.get("indicator", current.indicator),
        row_code=given.get("row_code", current.row_code),
        kind=given.get("kind", current.kind),
        comparison=given.get("comparison", current.comparison),
        value=given.get("value", current.value),
        label=given.get("label", current.label),
    )
    return TargetOut.of(target)


@router.delete(
    "/{agreement_id}/activities/{activity_id}/targets/{target_id}",
    status_code=204,
    responses=_ERRORS,
    dependencies=_WRITE,
)
def delete_target(
    session: DbSession,
    actor: CurrentActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    target_id: uuid.UUID,
) -> Response:
    agreements.delete_target(session, actor, agreement_id, activity_id, target_id)
    return Response(status_code=204)
