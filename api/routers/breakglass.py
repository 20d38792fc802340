from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from common.roles import Permission
from domain.breakglass import service as breakglass

router = APIRouter(prefix="/break-glass", tags=["break-glass"])


class BreakGlassIn(BaseModel):
    reference: str = Field(max_length=32, examples=["SSPF-2026-0007"])
    reason: str = Field(
        max_length=2000, description="Why the case must be opened now (at least 20 characters)"
    )


class BreakGlassOut(BaseModel):
    grant_id: uuid.UUID
    case_id: uuid.UUID
    expires_at: datetime


@router.post(
    "",
    status_code=201,
    response_model=BreakGlassOut,
    responses=error_responses(401, 403, 409, 422),
    dependencies=[requires(Permission.BREAK_GLASS)],
)
def request_access(session: DbSession, actor: CurrentActor, body: BreakGlassIn) -> BreakGlassOut:
    """Nödåtkomst for social-services staff: read access to a case for two hours, flagged for
    the auditor with the written reason. 409 for a closed case, for a case the caller already
    reads, and past two grants for the same case within 24 hours."""
    grant = breakglass.request_access(session, actor, reference=body.reference, reason=body.reason)
    return BreakGlassOut(grant_id=grant.id, case_id=grant.case_id, expires_at=grant.expires_at)
