from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.people import YoungPersonIn, YoungPersonOut
from common.roles import Permission
from domain.people import service as people
from domain.people.service import GuardianInput, YoungPersonInput

router = APIRouter(prefix="/young-persons", tags=["young persons"])
_ERRORS = error_responses(401, 403, 404, 422)


@router.post(
    "",
    status_code=201,
    response_model=YoungPersonOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.REGISTER_YOUNG_PERSON)],
)
def register(
    request: Request, session: DbSession, actor: CurrentActor, body: YoungPersonIn
) -> YoungPersonOut:
    """Register a young person with guardians. Personnummer is validated and stored encrypted."""
    data = YoungPersonInput(
        personnummer=body.personnummer,
        first_name=body.first_name,
        last_name=body.last_name,
        gender=body.gender,
        home_area=body.home_area,
        school_agency_id=body.school_agency_id,
        protected_identity=body.protected_identity,
        address=body.address,
        guardians=[
            GuardianInput(name=g.name, has_custody=g.has_custody, phone=g.phone, email=g.email)
            for g in body.guardians
        ],
    )
    person = people.register_young_person(
        session, actor, index=request.app.state.keys.blind_index, data=data
    )
    return YoungPersonOut.of_view(
        people.get_young_person(session, actor, young_person_id=person.id)
    )


@router.get(
    "/{young_person_id}",
    response_model=YoungPersonOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.READ_YOUNG_PERSON)],
)
def read(session: DbSession, actor: CurrentActor, young_person_id: uuid.UUID) -> YoungPersonOut:
    return YoungPersonOut.of_view(
        people.get_young_person(session, actor, young_person_id=young_person_id)
    )
