"""The municipality's consent ages, and the history of every configuration change (issue 15).
The catalogues, eligibility, capacity and cylinder levels have their own routes
(`referrals`, `assessments`); every change through any of them lands in the history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.configuration import ConfigHistoryOut, ConsentAgesIn, ConsentAgesOut
from common.roles import Permission
from domain.configuration import service as configuration

router = APIRouter(tags=["configuration"], dependencies=[requires(Permission.CONFIGURE)])
_ERRORS = error_responses(401, 403, 409, 422)


@router.get("/consent-ages", response_model=ConsentAgesOut, responses=_ERRORS)
def read_consent_ages(session: DbSession, actor: CurrentActor) -> ConsentAgesOut:
    return ConsentAgesOut.of(configuration.read_consent_ages(session, actor))


@router.put("/consent-ages", response_model=ConsentAgesOut, responses=_ERRORS)
def set_consent_ages(
    session: DbSession, actor: CurrentActor, body: ConsentAgesIn
) -> ConsentAgesOut:
    """New ages from now on: who must sign is judged by them from the next request; consent
    records are never changed, and the consent in effect at an earlier moment is judged by the
    ages in force then."""
    ages = configuration.set_consent_ages(
        session,
        actor,
        young_person_from_age=body.young_person_from_age,
        adult_age=body.adult_age,
        version=body.version,
    )
    return ConsentAgesOut.of(ages)


@router.get("/config-history", response_model=ConfigHistoryOut, responses=_ERRORS)
def config_history(
    session: DbSession,
    actor: CurrentActor,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConfigHistoryOut:
    """Every configuration change, newest first: who, when, what, the old and new value."""
    return ConfigHistoryOut.of(configuration.history(session, actor, offset=offset, limit=limit))
