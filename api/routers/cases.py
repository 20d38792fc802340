from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentActor, DbSession, Tx, requires
from api.errors import error_responses
from api.schemas.cases import CaseIn, CaseListOut, CaseOut, TransitionIn
from common.roles import Permission
from domain.cases import service as cases

router = APIRouter(prefix="/cases", tags=["cases"])
_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.post(
    "",
    status_code=201,
    response_model=CaseOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.OPEN_CASE)],
)
def open_case(session: DbSession, actor: CurrentActor, body: CaseIn, response: Response) -> CaseOut:
    """Open an SSPF or SIG case for a registered young person; it starts as `referred`."""
    case = cases.open_case(
        session, actor, young_person_id=body.young_person_id, programme=body.programme
    )
    view = cases.get_case(session, actor, case_id=case.id)
    response.headers["ETag"] = f'"{view.case.version}"'
    response.headers["Location"] = f"/api/v1/cases/{case.id}"
    return CaseOut.of_view(view)


@router.get(
    "",
    response_model=CaseListOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.LIST_CASES)],
)
async def list_cases(
    tx: Tx,
    actor: CurrentActor,
    state: Annotated[list[str] | None, Query(max_length=10)] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=cases.MAX_PAGE_SIZE)] = 25,
) -> CaseListOut:
    def work() -> CaseListOut:
        found = cases.list_cases(tx.session, actor, states=state, page=page, page_size=page_size)
        return CaseListOut.of(found)

    return await tx.run(work)


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.READ_CASE)],
)
async def read_case(tx: Tx, actor: CurrentActor, case_id: uuid.UUID, response: Response) -> CaseOut:
    def work() -> CaseOut:
        return CaseOut.of_view(cases.get_case(tx.session, actor, case_id=case_id))

    out = await tx.run(work)
    response.headers["ETag"] = f'"{out.version}"'
    return out


@router.post(
    "/{case_id}/transitions",
    response_model=CaseOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CHANGE_CASE_STATE)],
)
def transition(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    body: TransitionIn,
    response: Response,
) -> CaseOut:
    """Move the case in its lifecycle. Illegal moves get 409, a stale `version` gets 409."""
    cases.change_state(
        session,
        actor,
        case_id=case_id,
        target=body.target,
        expected_version=body.version,
        outcome=body.outcome,
    )
    view = cases.get_case(session, actor, case_id=case_id)
    response.headers["ETag"] = f'"{view.case.version}"'
    return CaseOut.of_view(view)
