"""The administrator's JSON API (issue 15): the pages' counterpart, calling the same domain
functions. Every change is audited as a configuration change; nothing here reads case data."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.admin import (
    ActivationIn,
    AgencyIn,
    AgencyListOut,
    AgencyOut,
    AgencyUpdateIn,
    UserIn,
    UserListOut,
    UserOut,
    UserUpdateIn,
    VersionIn,
)
from common.roles import Permission
from domain.agencies import service as agencies
from domain.users import service as users
from frontend.admin_pages import issuer_agencies

router = APIRouter(
    prefix="/admin", tags=["administration"], dependencies=[requires(Permission.CONFIGURE)]
)
_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get("/agencies", response_model=AgencyListOut, responses=_ERRORS)
def list_agencies(session: DbSession, actor: CurrentActor) -> AgencyListOut:
    return AgencyListOut(items=[AgencyOut.of(a) for a in agencies.list_agencies(session, actor)])


@router.post("/agencies", status_code=201, response_model=AgencyOut, responses=_ERRORS)
def create_agency(session: DbSession, actor: CurrentActor, body: AgencyIn) -> AgencyOut:
    """A name already taken is 409."""
    agency = agencies.create_agency(
        session, name=body.name, kind=body.kind, area=body.area, actor=actor
    )
    return AgencyOut.of(agency)


@router.patch("/agencies/{agency_id}", response_model=AgencyOut, responses=_ERRORS)
def update_agency(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    agency_id: uuid.UUID,
    body: AgencyUpdateIn,
) -> AgencyOut:
    """Rename, or change the kind or area. An agency an OpenID issuer maps to keeps its name
    and kind (422)."""
    agency = agencies.update_agency(
        session,
        actor,
        agency_id=agency_id,
        version=body.version,
        name=body.name,
        kind=body.kind,
        area=body.area,
        issuer_agencies=issuer_agencies(request.app.state.federation),
    )
    return AgencyOut.of(agency)


@router.post("/agencies/{agency_id}/activation", response_model=AgencyOut, responses=_ERRORS)
def set_agency_active(
    session: DbSession, actor: CurrentActor, agency_id: uuid.UUID, body: ActivationIn
) -> AgencyOut:
    """Deactivate (no new users; history kept) or reactivate."""
    agency = agencies.set_agency_active(
        session, actor, agency_id=agency_id, version=body.version, active=body.active
    )
    return AgencyOut.of(agency)


@router.get("/users", response_model=UserListOut, responses=_ERRORS)
def list_users(session: DbSession, actor: CurrentActor) -> UserListOut:
    return UserListOut(items=[UserOut.of(a) for a in users.list_accounts(session, actor)])


@router.get("/users/{user_id}", response_model=UserOut, responses=_ERRORS)
def get_user(session: DbSession, actor: CurrentActor, user_id: uuid.UUID) -> UserOut:
    return UserOut.of(users.get_account(session, actor, user_id))


@router.post("/users", status_code=201, response_model=UserOut, responses=_ERRORS)
def create_user(session: DbSession, actor: CurrentActor, body: UserIn) -> UserOut:
    """A username already taken is 409."""
    user = users.create_user(
        session,
        agency_id=body.agency_id,
        username=body.username,
        display_name=body.display_name,
        roles=body.roles,
        programmes=body.programmes,
        password=body.password,
        actor=actor,
    )
    return UserOut.of(users.get_account(session, actor, user.id))


@router.patch("/users/{user_id}", response_model=UserOut, responses=_ERRORS)
def update_user(
    session: DbSession, actor: CurrentActor, user_id: uuid.UUID, body: UserUpdateIn
) -> UserOut:
    """Change the agency, roles and programmes; takes effect at the account's next request."""
    users.update_account(
        session,
        actor,
        user_id=user_id,
        version=body.version,
        agency_id=body.agency_id,
        roles=body.roles,
        programmes=body.programmes,
    )
    return UserOut.of(users.get_account(session, actor, user_id))


@router.post("/users/{user_id}/activation", response_model=UserOut, responses=_ERRORS)
def set_user_active(
    session: DbSession, actor: CurrentActor, user_id: uuid.UUID, body: ActivationIn
) -> UserOut:
    """Disable (its sessions end at once) or enable an account."""
    users.set_account_active(
        session, actor, user_id=user_id, version=body.version, active=body.active
    )
    return UserOut.of(users.get_account(session, actor, user_id))


@router.post("/users/{user_id}/second-factor-reset", response_model=UserOut, responses=_ERRORS)
def reset_second_factor(
    session: DbSession, actor: CurrentActor, user_id: uuid.UUID, body: VersionIn
) -> UserOut:
    """The account enrols an authenticator again at its next login; its sessions end."""
    users.reset_account_second_factor(session, actor, user_id=user_id, version=body.version)
    return UserOut.of(users.get_account(session, actor, user_id))


@router.post("/users/{user_id}/unlock", response_model=UserOut, responses=_ERRORS)
def unlock_user(
    session: DbSession, actor: CurrentActor, user_id: uuid.UUID, body: VersionIn
) -> UserOut:
    """Lift the lockout after failed logins."""
    users.unlock_account(session, actor, user_id=user_id, version=body.version)
    return UserOut.of(users.get_account(session, actor, user_id))
