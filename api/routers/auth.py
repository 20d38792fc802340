from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from api.deps import CurrentActor, DbSession, api_token_policy
from api.errors import ErrorOut, error_responses
from common.clock import utcnow
from common.roles import Role
from domain.auth import service as auth
from domain.auth.service import SessionPolicy
from domain.users.repository import UserRepository

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


@router.post("/token", response_model=TokenOut, responses=error_responses(401, 429))
def issue_token(
    request: Request,
    session: DbSession,
    policy: Annotated[SessionPolicy, Depends(api_token_policy)],
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=256)],
) -> TokenOut | JSONResponse:
    """A short-lived opaque bearer token for a local account (revocable, stored hashed)."""
    result = auth.login(
        session,
        username=username,
        password=password,
        kind="api",
        policy=policy,
        client_address=request.client.host if request.client else "unknown",
    )
    # Refusals are returned, not raised: the attempt and its audit event must commit.
    if isinstance(result, auth.LoginRefused) and result.retry_after is not None:
        wait = max(1, int((result.retry_after - utcnow()).total_seconds()) + 1)
        body = ErrorOut(
            error="too_many_attempts",
            detail=f"För många misslyckade inloggningar. Försök igen om {wait} sekunder.",
        )
        return JSONResponse(body.model_dump(), status_code=429, headers={"Retry-After": str(wait)})
    if isinstance(result, auth.LoginRefused):
        body = ErrorOut(error="unauthenticated", detail="Fel användarnamn eller lösenord.")
        return JSONResponse(
            body.model_dump(), status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    return TokenOut(access_token=result.token, expires_in=int(policy.absolute.total_seconds()))


_bearer = HTTPBearer(auto_error=False)


@router.post("/logout", status_code=204, responses=error_responses(401))
def revoke_token(
    session: DbSession,
    actor: CurrentActor,
    policy: Annotated[SessionPolicy, Depends(api_token_policy)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    assert credentials is not None  # noqa: S101 - CurrentActor already required it
    _, user_session = auth.resolve(
        session, token=credentials.credentials, kind="api", policy=policy
    )
    auth.logout(session, actor, user_session)


@router.post("/logout-everywhere", status_code=204, responses=error_responses(401))
def logout_everywhere(session: DbSession, actor: CurrentActor) -> None:
    """End every browser session and API token of your account, this one included."""
    auth.logout_everywhere(session, actor)


class MeOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    agency_id: str
    agency_name: str
    agency_kind: str
    roles: list[Role]


@router.get("/me", response_model=MeOut, responses=error_responses(401))
def me(session: DbSession, actor: CurrentActor) -> MeOut:
    row = UserRepository(session).with_agency(actor.user_id)
    assert row is not None  # noqa: S101 - the actor was just resolved from this user
    user, agency = row
    return MeOut(
        user_id=str(user.id),
        username=user.username,
        display_name=user.display_name,
        agency_id=str(agency.id),
        agency_name=agency.name,
        agency_kind=agency.kind,
        roles=sorted(actor.roles),
    )
