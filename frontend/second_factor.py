"""TOTP pages: the second step of a login, and enrolling an authenticator app, either during
a login the role requires it for, or later from "Mitt konto".

The secret is shown once, in the answer to the POST that creates it (never in a URL, never
cached); a wrong confirmation code does not show it again, only the choice to start over.
"""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from common.errors import FieldError, Unauthenticated
from domain.auth import service as auth
from domain.auth import totp
from domain.users.models import User
from domain.users.repository import UserRepository
from frontend import csrf
from frontend import session_cookies as cookies
from frontend.config import PageConfig
from frontend.deps import PageActor, PageDb
from frontend.render import render, safe_next, see_other
from frontend.routes import refusal_message

router = APIRouter(include_in_schema=False)

ACCOUNT_PAGE = "/konto/tvastegsverifiering"
LOGIN_ENROL_PAGE = "/logga-in/aktivera"
CODE_PAGE = "/logga-in/kod"


class CodeForm(BaseModel):
    csrf_token: str = ""
    code: str = ""
    nasta: str = "/"


class StartForm(BaseModel):
    csrf_token: str = ""
    nasta: str = "/"


def _pending_or_restart(request: Request) -> str:
    token = cookies.pending_token(request)
    if token is None:
        raise Unauthenticated("Inloggningen har gått ut. Börja om.")
    return token


def qr_data_uri(content: str) -> str:
    """An SVG QR code as a data: URI (the page's CSP allows data: images, not scripts)."""
    return str(segno.make(content, error="m").svg_data_uri(scale=5, border=4))


# --- the second step of a login ----------------------------------------------------------


@router.get(CODE_PAGE)
def code_page(request: Request, nasta: Annotated[str, Query(max_length=500)] = "/") -> Response:
    if cookies.pending_token(request) is None:
        return see_other("/logga-in")
    return render(request, "second_factor.html", {"next": safe_next(nasta), "errors": []})


@router.post(CODE_PAGE)
def submit_code(request: Request, session: PageDb, form: Annotated[CodeForm, Form()]) -> Response:
    csrf.check(request, form.csrf_token)
    config: PageConfig = request.app.state.pages
    next_page = safe_next(form.nasta)
    if totp.normalise(form.code) is None:
        errors = [FieldError("code", "Ange de sex siffrorna från autentiseringsappen.")]
        return render(
            request, "second_factor.html", {"next": next_page, "errors": errors}, status=400
        )
    result = auth.continue_login(
        session,
        pending_token=_pending_or_restart(request),
        code=form.code,
        policy=config.session_policy,
        client_address=cookies.client_address(request),
    )
    if isinstance(result, auth.LoginResult):
        response = see_other(next_page)
        cookies.start_session(request, response, result)
        return response
    errors = [FieldError("code", refusal_message(result))]
    if result.retry_after is not None:  # locked: the half-done login is over
        context = {"next": next_page, "errors": errors, "username": ""}
        page = render(request, "login.html", context, status=429)
        cookies.end_pending(page)
        return page
    return render(request, "second_factor.html", {"next": next_page, "errors": errors}, status=401)


# --- enrolment during login ----------------------------------------------------------------


def _enrol_page(
    request: Request,
    *,
    start_action: str,
    confirm_action: str,
    next_page: str,
    user: User,
    secret: str | None = None,
    errors: list[FieldError] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    context: dict[str, Any] = {
        "start_action": start_action,
        "confirm_action": confirm_action,
        "next": next_page,
        "errors": errors or [],
        "enrolled_at": user.totp_enabled_at,
        "started": user.totp_secret is not None,
        **extra,
    }
    if secret is not None:
        uri = totp.provisioning_uri(secret, account=user.username)
        context |= {"secret": totp.grouped(secret), "qr": qr_data_uri(uri)}
    return render(request, "totp_enrol.html", context, status=status)


@router.get(LOGIN_ENROL_PAGE)
def login_enrol_page(
    request: Request, session: PageDb, nasta: Annotated[str, Query(max_length=500)] = "/"
) -> Response:
    user = auth.enrolling_user(session, _pending_or_restart(request))
    return _enrol_page(
        request,
        start_action=LOGIN_ENROL_PAGE + "/ny",
        confirm_action=LOGIN_ENROL_PAGE,
        next_page=safe_next(nasta),
        user=user,
        during_login=True,
    )


@router.post(LOGIN_ENROL_PAGE + "/ny")
def login_enrol_start(
    request: Request, session: PageDb, form: Annotated[StartForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    user = auth.enrolling_user(session, _pending_or_restart(request))
    secret = auth.begin_enrolment(session, user)
    return _enrol_page(
        request,
        start_action=LOGIN_ENROL_PAGE + "/ny",
        confirm_action=LOGIN_ENROL_PAGE,
        next_page=safe_next(form.nasta),
        user=user,
        secret=secret,
        during_login=True,
    )


@router.post(LOGIN_ENROL_PAGE)
def login_enrol_confirm(
    request: Request, session: PageDb, form: Annotated[CodeForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    config: PageConfig = request.app.state.pages
    token = _pending_or_restart(request)
    next_page = safe_next(form.nasta)
    result = auth.finish_enrolment_login(
        session,
        pending_token=token,
        code=form.code,
        policy=config.session_policy,
        client_address=cookies.client_address(request),
    )
    if result is None:
        return _enrol_page(
            request,
            start_action=LOGIN_ENROL_PAGE + "/ny",
            confirm_action=LOGIN_ENROL_PAGE,
            next_page=next_page,
            user=auth.enrolling_user(session, token),
            errors=[_WRONG_CONFIRMATION],
            status=400,
            during_login=True,
        )
    response = see_other(next_page)
    cookies.start_session(request, response, result)
    return response


_WRONG_CONFIRMATION = FieldError(
    "code", "Koden stämmer inte. Skriv koden som appen visar nu, eller börja om med en ny QR-kod."
)


# --- enrolment from the account page -------------------------------------------------------


def _account_user(session: PageDb, actor: PageActor) -> User:
    user = UserRepository(session).get(actor.user_id)
    if user is None:
        raise Unauthenticated()
    return user


@router.get(ACCOUNT_PAGE)
def account_enrol_page(request: Request, session: PageDb, actor: PageActor) -> Response:
    return _enrol_page(
        request,
        start_action=ACCOUNT_PAGE + "/ny",
        confirm_action=ACCOUNT_PAGE,
        next_page="/start",
        user=_account_user(session, actor),
        saved=request.query_params.get("aktiverad") == "1",
    )


@router.post(ACCOUNT_PAGE + "/ny")
def account_enrol_start(
    request: Request, session: PageDb, actor: PageActor, form: Annotated[StartForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    user = _account_user(session, actor)
    secret = auth.begin_enrolment(session, user, actor)
    return _enrol_page(
        request,
        start_action=ACCOUNT_PAGE + "/ny",
        confirm_action=ACCOUNT_PAGE,
        next_page="/start",
        user=user,
        secret=secret,
    )


@router.post(ACCOUNT_PAGE)
def account_enrol_confirm(
    request: Request, session: PageDb, actor: PageActor, form: Annotated[CodeForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    user = _account_user(session, actor)
    if not auth.confirm_enrolment(session, user, form.code, actor):
        return _enrol_page(
            request,
            start_action=ACCOUNT_PAGE + "/ny",
            confirm_action=ACCOUNT_PAGE,
            next_page="/start",
            user=user,
            errors=[_WRONG_CONFIRMATION],
            status=400,
        )
    return see_other(ACCOUNT_PAGE + "?aktiverad=1")
