from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from api.deps import CurrentActor, DbSession, api_token_policy
from api.errors import ErrorOut, error_responses
from common.clock import utcnow
from common.errors import DomainError
from common.roles import Role
from domain.auth import service as auth
from domain.auth.oidc import looks_like_jwt
from domain.auth.service import SessionPolicy
from domain.users.repository import UserRepository

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


@router.post("/token", response_model=TokenOut, responses=error_responses(401, 403, 429))
def issue_token(
    request: Request,
    session: DbSession,
    policy: Annotated[SessionPolicy, Depends(api_token_policy)],
    username: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    totp_code: Annotated[str | None, Form(max_length=16)] = None,
) -> TokenOut | JSONResponse:
    """A short-lived opaque bearer token for a local account (revocable, stored hashed).

    Accounts with a second factor send the current code from their authenticator app as
    `totp_code`; an account that must have one but has not enrolled enrols in the browser.
    """
    result = auth.login(
        session,
        username=username,
        password=password,
        kind="api",
        policy=policy,
        client_address=request.client.host if request.client else "unknown",
        second_factor_required=request.app.state.second_factor_required,
        totp_code=totp_code,
    )
    # Refusals are returned, not raised: the attempt and its audit event must commit.
    if isinstance(result, auth.LoginResult):
        return TokenOut(access_token=result.token, expires_in=int(policy.absolute.total_seconds()))
    assert isinstance(result, auth.LoginRefused)  # noqa: S101 - API logins get no second step
    if result.retry_after is not None:
        wait = max(1, int((result.retry_after - utcnow()).total_seconds()) + 1)
        body = ErrorOut(
            error="too_many_attempts",
            detail=f"För många misslyckade inloggningar. Försök igen om {wait} sekunder.",
        )
        return JSONResponse(body.model_dump(), status_code=429, headers={"Retry-After": str(wait)})
    error, status, detail = _REFUSALS[result.reason]
    return JSONResponse(
        ErrorOut(error=error, detail=detail).model_dump(),
        status_code=status,
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else {},
    )


_REFUSALS: dict[auth.RefusalReason, tuple[str, int, str]] = {
    auth.RefusalReason.BAD_CREDENTIALS: (
        "unauthenticated",
        401,
        "Fel användarnamn eller lösenord.",
    ),
    auth.RefusalReason.SECOND_FACTOR_MISSING: (
        "second_factor_required",
        401,
        "Ange engångskoden från din autentiseringsapp (totp_code).",
    ),
    auth.RefusalReason.SECOND_FACTOR_WRONG: (
        "unauthenticated",
        401,
        "Fel eller redan använd engångskod.",
    ),
    auth.RefusalReason.ENROLMENT_REQUIRED: (
        "enrolment_required",
        403,
        "Kontot måste ha tvåstegsverifiering. Logga in i webbläsaren och aktivera den först.",
    ),
    auth.RefusalReason.LOCKED_OUT: (
        "too_many_attempts",
        429,
        "För många misslyckade inloggningar.",
    ),
}


_bearer = HTTPBearer(auto_error=False)


@router.post("/logout", status_code=204, responses=error_responses(400, 401))
def revoke_token(
    session: DbSession,
    actor: CurrentActor,
    policy: Annotated[SessionPolicy, Depends(api_token_policy)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    assert credentials is not None  # noqa: S101 - CurrentActor already required it
    if looks_like_jwt(credentials.credentials):
        raise DomainError(
            "En token från identitetsleverantören kan inte återkallas i Samsyn. "
            "Den slutar gälla av sig själv; logga ut hos identitetsleverantören."
        )
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
