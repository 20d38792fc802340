from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.consents import ConsentIn, ConsentOut, ConsentOverviewOut, TeamMemberIn
from common.errors import ValidationFailed
from common.roles import Permission
from domain.consents import service as consents
from domain.consents.service import ConsentInput
from domain.consents.tracker import TrackerQuery, consent_tracker
from domain.teams import service as teams

router = APIRouter(tags=["consent and team"])
_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/cases/{case_id}/consents",
    response_model=ConsentOverviewOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.RECORD_CONSENT)],
)
def overview(session: DbSession, actor: CurrentActor, case_id: uuid.UUID) -> ConsentOverviewOut:
    """Every consent record of the case and the effective consent now (social services only)."""
    return ConsentOverviewOut.of(consents.consent_overview(session, actor, case_id=case_id))


@router.post(
    "/cases/{case_id}/consents",
    status_code=201,
    response_model=ConsentOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.RECORD_CONSENT)],
)
def record(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, body: ConsentIn
) -> ConsentOut:
    """Record one signer's decision. The case state follows the effective consent."""
    created = consents.record_consent(
        session,
        actor,
        case_id=case_id,
        data=ConsentInput(
            signer=body.signer,
            decision=body.decision,
            signed_on=body.signed_on,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            agencies=body.agencies,
            categories=body.categories,
            method=body.method,
        ),
    )
    return ConsentOut.of(created, None)


@router.post(
    "/consents/{consent_id}/withdrawal",
    status_code=204,
    responses=_ERRORS,
    dependencies=[requires(Permission.RECORD_CONSENT)],
)
def withdraw(session: DbSession, actor: CurrentActor, consent_id: uuid.UUID) -> Response:
    """Withdraw a given consent; partners lose access on their very next request."""
    consents.withdraw_consent(session, actor, consent_id=consent_id)
    return Response(status_code=204)


@router.post(
    "/cases/{case_id}/team",
    status_code=204,
    responses=_ERRORS,
    dependencies=[requires(Permission.MANAGE_TEAM)],
)
def add_member(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, body: TeamMemberIn
) -> Response:
    teams.add_member(session, actor, case_id=case_id, user_id=body.user_id)
    return Response(status_code=204)


@router.delete(
    "/cases/{case_id}/team/{user_id}",
    status_code=204,
    responses=_ERRORS,
    dependencies=[requires(Permission.MANAGE_TEAM)],
)
def remove_member(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, user_id: uuid.UUID
) -> Response:
    teams.remove_member(session, actor, case_id=case_id, user_id=user_id)
    return Response(status_code=204)


class TrackerRowOut(BaseModel):
    case_id: uuid.UUID
    reference: str
    programme: str
    state: str
    state_reason: str
    young_person: str
    owner_id: uuid.UUID
    owner_name: str
    concern: str = Field(description="missing, refused, withdrawn, expiring or birthday")
    signer: str | None = Field(
        description="whom the concern is about: the young person or a guardian by name"
    )
    detail: str
    on: date = Field(description="since when the concern holds, or when it will (upcoming)")
    upcoming: bool


@router.get(
    "/consent-tracker",
    response_model=list[TrackerRowOut],
    responses=_ERRORS,
    dependencies=[requires(Permission.RECORD_CONSENT)],
)
def tracker(
    session: DbSession,
    actor: CurrentActor,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
    programme: Annotated[str, Query(max_length=8, description="SSPF or SIG")] = "",
    owner: Annotated[str, Query(max_length=40, description="the case owner's user id")] = "",
    concern: Annotated[str, Query(max_length=16, description="one kind of concern")] = "",
    sort: Annotated[
        str, Query(max_length=16, description="date (default), case, concern or young_person")
    ] = "",
) -> list[TrackerRowOut]:
    """Cases lacking a required signature, refusals and withdrawals, consents expiring and
    birthdays that change who must sign within `days` (social services only)."""
    result = consent_tracker(
        session,
        actor,
        days=days,
        query=TrackerQuery(programme=programme, owner=owner, concern=concern, sort=sort),
    )
    if result.errors:
        raise ValidationFailed(list(result.errors))
    return [TrackerRowOut(**vars(row)) for row in result.rows]
