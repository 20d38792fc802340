"""The administrator's pages (issue 15): agencies, user accounts and the OpenID issuers.

They call the same domain functions as the CLI (`samsyn agency ...`, `samsyn user ...`); each
change is audited there as a configuration change. Nothing here reads case data. A form that
fails is drawn again with its input and an error summary; an edit based on an older read of
the record (its version) is refused with 409 and the current record shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from common.errors import Conflict, FieldError, StaleVersion, ValidationFailed
from common.roles import AGENCY_KIND_LABELS, ROLE_LABELS, Permission, Role
from domain.agencies import service as agencies
from domain.auth.oidc import Federation
from domain.users import service as users
from domain.users.repository import UserRepository
from frontend import csrf
from frontend.config import PageConfig
from frontend.deps import PageActor, PageDb
from frontend.render import render, see_other

router = APIRouter(include_in_schema=False)

_LABELS: dict[str, Any] = {
    "kinds": [(kind.value, label) for kind, label in AGENCY_KIND_LABELS.items()],
    "roles": [(role.value, label) for role, label in ROLE_LABELS.items()],
    "programmes": list(users.PROGRAMMES),
}
# Where a page's error summary sends the keyboard for a conflict: the form itself.
FORM = "admin-form"


def _by_field(errors: list[FieldError]) -> dict[str, str]:
    return {e.field: e.message for e in errors}


def _attempt(session: PageDb, write: Callable[[], object]) -> tuple[list[FieldError], int]:
    """Run the write; on bad input or a conflict roll back and say what went wrong."""
    try:
        write()
    except ValidationFailed as exc:
        session.rollback()
        return exc.errors, 422
    except StaleVersion as exc:
        session.rollback()
        return [FieldError(FORM, exc.detail, exc.english)], 409
    except Conflict as exc:
        session.rollback()
        return exc.errors or [FieldError(FORM, exc.detail, exc.english)], 409
    return [], 200


def issuer_agencies(federation: Federation) -> frozenset[str]:
    """The agency names the configured OpenID issuers map to."""
    return frozenset(client.config.agency for client in federation.clients.values())


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# --- the overview --------------------------------------------------------------------------


@router.get("/admin")
def overview(request: Request, session: PageDb, actor: PageActor) -> Response:
    actor.require(Permission.CONFIGURE)
    accounts = users.list_accounts(session, actor)
    found = agencies.list_agencies(session, actor)
    config: PageConfig = request.app.state.pages
    return render(
        request,
        "admin.html",
        {
            "agency_count": sum(1 for a in found if a.deactivated_at is None),
            "user_count": sum(1 for a in accounts if a.user.is_active),
            "locked_count": sum(1 for a in accounts if a.locked_until is not None),
            "issuer_count": len(config.federation.clients),
        },
        actor=actor,
    )


# --- agencies ------------------------------------------------------------------------------


@router.get("/admin/organisationer")
def agency_list(request: Request, session: PageDb, actor: PageActor) -> Response:
    actor.require(Permission.CONFIGURE)
    return render(
        request,
        "admin_agencies.html",
        {
            "agencies": agencies.list_agencies(session, actor),
            "user_counts": UserRepository(session).counts_by_agency(),
            **_LABELS,
        },
        actor=actor,
    )


class AgencyForm(BaseModel):
    csrf_token: str = ""
    name: str = ""
    kind: str = ""
    area: str = ""
    version: int = 0


def _agency_form_page(
    request: Request,
    actor: PageActor,
    form: AgencyForm,
    *,
    agency: Any = None,
    errors: list[FieldError] | None = None,
    status: int = 200,
    saved: str = "",
) -> Response:
    shown = errors or []
    return render(
        request,
        "admin_agency.html",
        {
            "agency": agency,
            "form": form,
            "errors": shown,
            "by_field": _by_field(shown),
            "saved": saved,
            **_LABELS,
        },
        status=status,
        actor=actor,
    )


@router.get("/admin/organisationer/ny")
def new_agency(request: Request, actor: PageActor) -> Response:
    actor.require(Permission.CONFIGURE)
    return _agency_form_page(request, actor, AgencyForm())


@router.post("/admin/organisationer/ny")
def create_agency(
    request: Request, session: PageDb, actor: PageActor, form: Annotated[AgencyForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    actor.require(Permission.CONFIGURE)
    created: list[uuid.UUID] = []
    errors, status = _attempt(
        session,
        lambda: created.append(
            agencies.create_agency(
                session, name=form.name, kind=form.kind, area=form.area, actor=actor
            ).id
        ),
    )
    if errors:
        return _agency_form_page(request, actor, form, errors=errors, status=status)
    return see_other(f"/admin/organisationer/{created[0]}?sparad=ny")


def _agency_form(agency: Any) -> AgencyForm:
    return AgencyForm(
        name=agency.name, kind=agency.kind, area=agency.area or "", version=agency.version
    )


@router.get("/admin/organisationer/{agency_id}")
def agency_page(
    request: Request, session: PageDb, actor: PageActor, agency_id: uuid.UUID
) -> Response:
    agency = agencies.get_agency(session, actor, agency_id)
    saved = request.query_params.get("sparad", "")
    return _agency_form_page(request, actor, _agency_form(agency), agency=agency, saved=saved)


@router.post("/admin/organisationer/{agency_id}")
def update_agency(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agency_id: uuid.UUID,
    form: Annotated[AgencyForm, Form()],
) -> Response:
    csrf.check(request, form.csrf_token)
    config: PageConfig = request.app.state.pages
    errors, status = _attempt(
        session,
        lambda: agencies.update_agency(
            session,
            actor,
            agency_id=agency_id,
            version=form.version,
            name=form.name,
            kind=form.kind,
            area=form.area,
            issuer_agencies=issuer_agencies(config.federation),
        ),
    )
    if errors:
        agency = agencies.get_agency(session, actor, agency_id)
        shown = form if status == 422 else _agency_form(agency)
        return _agency_form_page(request, actor, shown, agency=agency, errors=errors, status=status)
    return see_other(f"/admin/organisationer/{agency_id}?sparad=1")


class ActivationForm(BaseModel):
    csrf_token: str = ""
    active: str = ""  # "1" to (re)activate, anything else to deactivate
    version: int = 0


@router.post("/admin/organisationer/{agency_id}/aktivering")
def set_agency_active(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agency_id: uuid.UUID,
    form: Annotated[ActivationForm, Form()],
) -> Response:
    csrf.check(request, form.csrf_token)
    errors, status = _attempt(
        session,
        lambda: agencies.set_agency_active(
            session, actor, agency_id=agency_id, version=form.version, active=form.active == "1"
        ),
    )
    if errors:
        agency = agencies.get_agency(session, actor, agency_id)
        return _agency_form_page(
            request, actor, _agency_form(agency), agency=agency, errors=errors, status=status
        )
    return see_other(f"/admin/organisationer/{agency_id}?sparad=1")


# --- user accounts -------------------------------------------------------------------------


@router.get("/admin/anvandare")
def user_list(request: Request, session: PageDb, actor: PageActor) -> Response:
    actor.require(Permission.CONFIGURE)
    return render(
        request,
        "admin_users.html",
        {
            "accounts": users.list_accounts(session, actor),
            **_LABELS,
        },
        actor=actor,
    )


def _active_agencies(session: PageDb, actor: PageActor, keep: uuid.UUID | None = None) -> list[Any]:
    """The agencies an account may be given: the active ones, and the one it has."""
    return [
        a
        for a in agencies.list_agencies(session, actor)
        if a.deactivated_at is None or a.id == keep
    ]


def _new_user_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    form: dict[str, Any],
    *,
    errors: list[FieldError] | None = None,
    status: int = 200,
) -> Response:
    shown = errors or []
    return render(
        request,
        "admin_user_new.html",
        {
            "form": form,
            "agencies": _active_agencies(session, actor),
            "errors": shown,
            "by_field": _by_field(shown),
            **_LABELS,
        },
        status=status,
        actor=actor,
    )


@router.get("/admin/anvandare/ny")
def new_user(request: Request, session: PageDb, actor: PageActor) -> Response:
    actor.require(Permission.CONFIGURE)
    form = {"roles": [], "programmes": [], "agency": "", "username": "", "display_name": ""}
    return _new_user_page(request, session, actor, form)


@router.post("/admin/anvandare/ny")
def create_user(
    request: Request,
    session: PageDb,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=400)] = "",
    agency: Annotated[str, Form(max_length=40)] = "",
    roles: Annotated[list[str] | None, Form(max_length=10)] = None,
    programmes: Annotated[list[str] | None, Form(max_length=10)] = None,
    password: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    actor.require(Permission.CONFIGURE)
    form = {
        "username": username,
        "display_name": display_name,
        "agency": agency,
        "roles": roles or [],
        "programmes": programmes or [],
    }
    agency_id = _uuid(agency)
    if agency_id is None:
        errors = [FieldError("agency", "Välj organisation.", "Choose an agency.")]
        return _new_user_page(request, session, actor, form, errors=errors, status=422)
    created: list[uuid.UUID] = []
    errors, status = _attempt(
        session,
        lambda: created.append(
            users.create_user(
                session,
                agency_id=agency_id,
                username=username,
                display_name=display_name,
                roles=roles or [],
                programmes=programmes or [],
                password=password or None,
                actor=actor,
            ).id
        ),
    )
    if errors:
        return _new_user_page(request, session, actor, form, errors=errors, status=status)
    return see_other(f"/admin/anvandare/{created[0]}?sparad=ny")


def _user_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    user_id: uuid.UUID,
    *,
    form: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    status: int = 200,
    saved: str = "",
) -> Response:
    account = users.get_account(session, actor, user_id)
    user = account.user
    shown = errors or []
    return render(
        request,
        "admin_user.html",
        {
            "account": account,
            "form": form
            or {
                "agency": str(user.agency_id),
                "roles": list(user.roles),
                "programmes": list(user.programmes),
            },
            "agencies": _active_agencies(session, actor, keep=user.agency_id),
            "errors": shown,
            "by_field": _by_field(shown),
            "saved": saved,
            **_LABELS,
        },
        status=status,
        actor=actor,
    )


@router.get("/admin/anvandare/{user_id}")
def user_page(request: Request, session: PageDb, actor: PageActor, user_id: uuid.UUID) -> Response:
    actor.require(Permission.CONFIGURE)
    saved = request.query_params.get("sparad", "")
    return _user_page(request, session, actor, user_id, saved=saved)


@router.post("/admin/anvandare/{user_id}")
def update_user(
    request: Request,
    session: PageDb,
    actor: PageActor,
    user_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    agency: Annotated[str, Form(max_length=40)] = "",
    roles: Annotated[list[str] | None, Form(max_length=10)] = None,
    programmes: Annotated[list[str] | None, Form(max_length=10)] = None,
    version: Annotated[int, Form()] = 0,
) -> Response:
    csrf.check(request, csrf_token)
    actor.require(Permission.CONFIGURE)
    form = {"agency": agency, "roles": roles or [], "programmes": programmes or []}
    agency_id = _uuid(agency)
    if agency_id is None:
        errors = [FieldError("agency", "Välj organisation.", "Choose an agency.")]
        return _user_page(request, session, actor, user_id, form=form, errors=errors, status=422)
    errors, status = _attempt(
        session,
        lambda: users.update_account(
            session,
            actor,
            user_id=user_id,
            version=version,
            agency_id=agency_id,
            roles=roles or [],
            programmes=programmes or [],
        ),
    )
    if errors:
        kept = form if status == 422 else None
        return _user_page(request, session, actor, user_id, form=kept, errors=errors, status=status)
    return see_other(f"/admin/anvandare/{user_id}?sparad=1")


class VersionForm(BaseModel):
    csrf_token: str = ""
    version: int = 0


def _user_action(
    request: Request,
    session: PageDb,
    actor: PageActor,
    user_id: uuid.UUID,
    csrf_token: str,
    write: Callable[[], object],
    done: str,
) -> Response:
    csrf.check(request, csrf_token)
    actor.require(Permission.CONFIGURE)
    errors, status = _attempt(session, write)
    if errors:
        return _user_page(request, session, actor, user_id, errors=errors, status=status)
    return see_other(f"/admin/anvandare/{user_id}?sparad={done}")


@router.post("/admin/anvandare/{user_id}/aktivering")
def set_user_active(
    request: Request,
    session: PageDb,
    actor: PageActor,
    user_id: uuid.UUID,
    form: Annotated[ActivationForm, Form()],
) -> Response:
    active = form.active == "1"
    return _user_action(
        request,
        session,
        actor,
        user_id,
        form.csrf_token,
        lambda: users.set_account_active(
            session, actor, user_id=user_id, version=form.version, active=active
        ),
        "aktiverat" if active else "avstangt",
    )


@router.post("/admin/anvandare/{user_id}/tvastegsverifiering")
def reset_second_factor(
    request: Request,
    session: PageDb,
    actor: PageActor,
    user_id: uuid.UUID,
    form: Annotated[VersionForm, Form()],
) -> Response:
    return _user_action(
        request,
        session,
        actor,
        user_id,
        form.csrf_token,
        lambda: users.reset_account_second_factor(
            session, actor, user_id=user_id, version=form.version
        ),
        "tvasteg",
    )


@router.post("/admin/anvandare/{user_id}/upplasning")
def unlock_user(
    request: Request,
    session: PageDb,
    actor: PageActor,
    user_id: uuid.UUID,
    form: Annotated[VersionForm, Form()],
) -> Response:
    return _user_action(
        request,
        session,
        actor,
        user_id,
        form.csrf_token,
        lambda: users.unlock_account(session, actor, user_id=user_id, version=form.version),
        "upplast",
    )


# --- OpenID issuers (read-only: they are configured in the environment) ---------------------


@router.get("/admin/inloggning")
def issuers(request: Request, session: PageDb, actor: PageActor) -> Response:
    actor.require(Permission.CONFIGURE)
    config: PageConfig = request.app.state.pages
    by_name = {a.name: a for a in agencies.list_agencies(session, actor)}
    rows = [
        {
            "name": name,
            "label": client.config.label,
            "issuer": client.config.issuer,
            "agency": by_name.get(client.config.agency),
            "agency_name": client.config.agency,
            "role_map": sorted(
                (claim, ROLE_LABELS[Role(role)]) for claim, role in client.config.role_map.items()
            ),
            "api": client.config.audience is not None,
        }
        for name, client in config.federation.clients.items()
    ]
    return render(request, "admin_issuers.html", {"issuers": rows}, actor=actor)
