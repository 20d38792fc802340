"""The Swedish HTML pages. They call the same domain services as the JSON API."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from common.actor import Actor
from common.clock import STOCKHOLM, today
from common.errors import Conflict, FieldError, InvalidTransition, StaleVersion, ValidationFailed
from common.roles import AgencyKind, Permission
from domain.agencies.repository import AgencyRepository
from domain.auth import service as auth
from domain.breakglass import service as breakglass
from domain.cases import service as cases
from domain.cases.rules import CaseState, manual_moves, next_step
from domain.my_day.service import my_day, works_on_cases
from domain.people import service as people
from domain.people.service import GuardianInput, YoungPersonInput
from domain.users.repository import UserRepository
from frontend import csrf, oidc_pages
from frontend import session_cookies as cookies
from frontend.config import PageConfig
from frontend.deps import MaybeActor, PageActor, PageDb
from frontend.render import render, safe_next, see_other

router = APIRouter(include_in_schema=False)
GUARDIAN_SLOTS = 2


@router.get("/")
def home(actor: MaybeActor) -> Response:
    if actor is None:
        return see_other("/logga-in")
    return see_other(landing_page(actor))


def landing_page(actor: Actor) -> str:
    """Where each role starts (issue 15): case work on "Min dag", the administrator on the
    administration, the auditor on the log search, the steering group on the follow-up."""
    if works_on_cases(actor):
        return "/start"
    if actor.can(Permission.CONFIGURE):
        return "/admin"
    if actor.can(Permission.READ_AUDIT_LOG):
        return "/granskning"
    if actor.can(Permission.READ_FOLLOW_UP):
        return "/uppfoljning"
    return "/start"


@router.get("/start")
def start(request: Request, session: PageDb, actor: PageActor) -> Response:
    """ "Min dag" for the case-working roles (meetings, minutes to finalise, commitments,
    consents ending), then the account: the same page for every role."""
    user = UserRepository(session).get(actor.user_id)
    enabled_at = user.totp_enabled_at if user else None
    federated = user.is_federated if user else False
    day = my_day(session, actor, today=today()) if works_on_cases(actor) else None
    return render(
        request,
        "start.html",
        {"totp_enabled_at": enabled_at, "federated": federated, "day": day},
        actor=actor,
    )


class LoginForm(BaseModel):
    username: str = ""
    password: str = ""
    nasta: str = "/"
    csrf_token: str = ""


@router.get("/logga-in")
def login_page(request: Request, nasta: Annotated[str, Query(max_length=500)] = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(nasta), "errors": [], "username": ""})


@router.post("/logga-in")
def login(request: Request, session: PageDb, form: Annotated[LoginForm, Form()]) -> Response:
    csrf.check(request, form.csrf_token)
    config: PageConfig = request.app.state.pages
    errors = []
    if not form.username.strip():
        errors.append(FieldError("username", "Ange användarnamn."))
    if not form.password:
        errors.append(FieldError("password", "Ange lösenord."))
    result: auth.LoginResult | auth.LoginRefused | auth.SecondStep | None = None
    missing = bool(errors)
    if not missing:
        result = auth.login(
            session,
            username=form.username,
            password=form.password,
            kind="browser",
            policy=config.session_policy,
            client_address=cookies.client_address(request),
            second_factor_required=config.second_factor_required,
        )
        if isinstance(result, auth.LoginRefused):
            errors.append(FieldError("username", refusal_message(result)))
    next_page = safe_next(form.nasta)
    if isinstance(result, auth.SecondStep):
        step_page = (
            "/logga-in/kod"
            if result.kind is auth.PendingKind.SECOND_FACTOR
            else ("/logga-in/aktivera")
        )
        response = see_other(f"{step_page}?{urlencode({'nasta': next_page})}")
        cookies.start_pending(request, response, result)
        return response
    if not isinstance(result, auth.LoginResult):
        context = {"next": next_page, "errors": errors, "username": form.username}
        locked = isinstance(result, auth.LoginRefused) and result.retry_after is not None
        return render(
            request, "login.html", context, status=400 if missing else 429 if locked else 401
        )
    response = see_other(next_page)
    cookies.start_session(request, response, result)
    return response


def refusal_message(refused: auth.LoginRefused) -> str:
    if refused.reason is auth.RefusalReason.SECOND_FACTOR_WRONG:
        return "Fel eller redan använd engångskod. Vänta på nästa kod i appen och försök igen."
    if refused.retry_after is None:
        return "Fel användarnamn eller lösenord."
    local = refused.retry_after.astimezone(STOCKHOLM).strftime("%H:%M:%S")
    return f"För många misslyckade inloggningar. Försök igen tidigast klockan {local}."


class CsrfForm(BaseModel):
    csrf_token: str = ""


@router.post("/logga-ut")
def logout(
    request: Request, session: PageDb, actor: PageActor, form: Annotated[CsrfForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    provider = auth.logout(session, actor, request.state.user_session)
    # A session from an OpenID provider is ended there too (see frontend.oidc_pages).
    response = oidc_pages.provider_logout(request, provider) or see_other("/logga-in?utloggad=1")
    response.delete_cookie(csrf.SESSION_COOKIE, path="/")
    return response


@router.post("/logga-ut-overallt")
def logout_everywhere(
    request: Request, session: PageDb, actor: PageActor, form: Annotated[CsrfForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    provider = auth.provider_session(request.state.user_session)
    auth.logout_everywhere(session, actor)
    response = oidc_pages.provider_logout(request, provider) or see_other("/logga-in?utloggad=1")
    response.delete_cookie(csrf.SESSION_COOKIE, path="/")
    return response


@router.get("/arenden")
def case_list(
    request: Request,
    session: PageDb,
    actor: PageActor,
    status: Annotated[str | None, Query(max_length=32)] = None,
    sida: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    states = [status] if status else None
    page = cases.list_cases(session, actor, states=states, page=sida, page_size=25)
    pages = max(1, -(-page.total // page.page_size))
    return render(
        request, "cases.html", {"page": page, "pages": pages, "status": status or ""}, actor=actor
    )


class YoungPersonForm(BaseModel):
    csrf_token: str = ""
    personnummer: str = ""
    first_name: str = ""
    last_name: str = ""
    gender: str = ""
    home_area: str = ""
    school_agency_id: str = ""
    protected_identity: str = ""
    address: str = ""
    guardian1_name: str = ""
    guardian1_phone: str = ""
    guardian1_email: str = ""
    guardian1_custody: str = ""
    guardian2_name: str = ""
    guardian2_phone: str = ""
    guardian2_email: str = ""
    guardian2_custody: str = ""


def _form_field_id(field: str) -> str:
    """Domain field names (guardians.0.name) to the form's input ids (guardian1_name)."""
    if field.startswith("guardians."):
        _, number, name = field.split(".")
        return f"guardian{int(number) + 1}_{'custody' if name == 'has_custody' else name}"
    return field


def _young_person_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    form: YoungPersonForm,
    errors: list[FieldError],
    status: int = 200,
) -> Response:
    schools = AgencyRepository(session).list(kind=AgencyKind.SCHOOL.value)
    shown = [FieldError(_form_field_id(e.field), e.message) for e in errors]
    by_field = {e.field: e.message for e in shown}
    return render(
        request,
        "young_person_new.html",
        {"form": form, "errors": shown, "by_field": by_field, "schools": schools},
        status=status,
        actor=actor,
    )


@router.get("/unga/ny")
def new_young_person(request: Request, session: PageDb, actor: PageActor) -> Response:
    actor.require(Permission.REGISTER_YOUNG_PERSON)
    return _young_person_page(request, session, actor, YoungPersonForm(guardian1_custody="on"), [])


@router.post("/unga/ny")
def register_young_person(
    request: Request, session: PageDb, actor: PageActor, form: Annotated[YoungPersonForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    guardians = []
    for slot in range(1, GUARDIAN_SLOTS + 1):
        name, phone, email, custody = (
            getattr(form, f"guardian{slot}_{part}")
            for part in ("name", "phone", "email", "custody")
        )
        if name.strip() or phone.strip() or email.strip():
            guardians.append(
                GuardianInput(name=name, phone=phone, email=email, has_custody=bool(custody))
            )
    data = YoungPersonInput(
        personnummer=form.personnummer,
        first_name=form.first_name,
        last_name=form.last_name,
        gender=form.gender,
        home_area=form.home_area,
        school_agency_id=form.school_agency_id,
        protected_identity=bool(form.protected_identity),
        address=form.address,
        guardians=guardians,
    )
    config: PageConfig = request.app.state.pages
    try:
        person = people.register_young_person(
            session, actor, index=config.keys.blind_index, data=data
        )
    except ValidationFailed as exc:
        session.rollback()  # nothing of the attempt may commit with the re-rendered page
        return _young_person_page(request, session, actor, form, exc.errors, status=422)
    return see_other(f"/unga/{person.id}")


@router.get("/unga/{young_person_id}")
def young_person(
    request: Request, session: PageDb, actor: PageActor, young_person_id: uuid.UUID
) -> Response:
    view = people.get_young_person(session, actor, young_person_id=young_person_id)
    return render(request, "young_person.html", {"view": view, "errors": []}, actor=actor)


class OpenCaseForm(BaseModel):
    csrf_token: str = ""
    programme: str = ""


@router.post("/unga/{young_person_id}/arenden")
def open_case(
    request: Request,
    session: PageDb,
    actor: PageActor,
    young_person_id: uuid.UUID,
    form: Annotated[OpenCaseForm, Form()],
) -> Response:
    csrf.check(request, form.csrf_token)
    case = cases.open_case(
        session, actor, young_person_id=young_person_id, programme=form.programme
    )
    return see_other(f"/arenden/{case.id}?nytt=1")


@router.get("/arenden/{case_id}")
def case_page(request: Request, session: PageDb, actor: PageActor, case_id: uuid.UUID) -> Response:
    created = request.query_params.get("nytt") == "1"
    return _case_page(request, session, actor, case_id, errors=[], created=created)


def _case_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    *,
    errors: list[FieldError],
    created: bool = False,
    status: int = 200,
) -> Response:
    view = cases.get_case(session, actor, case_id=case_id)
    state = CaseState(view.case.state)
    complete = bool(view.consent_complete)
    return render(
        request,
        "case.html",
        {
            "view": view,
            "transitions": manual_moves(state, consent_complete=complete),
            "next_step": next_step(state, consent_complete=complete) if view.managed else None,
            "errors": errors,
            "can_change": actor.can(Permission.CHANGE_CASE_STATE) and view.managed,
            "created": created,
        },
        status=status,
        actor=actor,
    )


class StateForm(BaseModel):
    csrf_token: str = ""
    target: str = ""
    version: int = 0
    outcome: str = ""


@router.post("/arenden/{case_id}/status")
def change_state(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    form: Annotated[StateForm, Form()],
) -> Response:
    csrf.check(request, form.csrf_token)
    try:
        cases.change_state(
            session,
            actor,
            case_id=case_id,
            target=form.target,
            expected_version=form.version,
            outcome=form.outcome or None,
        )
    except ValidationFailed as exc:
        session.rollback()
        return _case_page(request, session, actor, case_id, errors=exc.errors, status=422)
    except (Conflict, InvalidTransition, StaleVersion) as exc:  # shown on the case, not a dead end
        session.rollback()
        errors = [FieldError("state", exc.detail)]
        return _case_page(request, session, actor, case_id, errors=errors, status=409)
    return see_other(f"/arenden/{case_id}")


class BreakGlassForm(BaseModel):
    csrf_token: str = ""
    reference: str = ""
    reason: str = ""


@router.get("/nodatkomst")
def break_glass_page(request: Request, actor: PageActor) -> Response:
    actor.require(Permission.BREAK_GLASS)
    return render(
        request, "break_glass.html", {"form": BreakGlassForm(), "errors": []}, actor=actor
    )


@router.post("/nodatkomst")
def break_glass(
    request: Request, session: PageDb, actor: PageActor, form: Annotated[BreakGlassForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    try:
        grant = breakglass.request_access(
            session, actor, reference=form.reference, reason=form.reason
        )
    except ValidationFailed as exc:
        session.rollback()
        return render(
            request,
            "break_glass.html",
            {"form": form, "errors": exc.errors},
            status=422,
            actor=actor,
        )
    except breakglass.BreakGlassRefused as exc:  # a closed case, or the renewal limit
        session.rollback()
        return render(
            request,
            "break_glass.html",
            {"form": form, "errors": [FieldError("reference", exc.message)]},
            status=409,
            actor=actor,
        )
    return see_other(f"/arenden/{grant.case_id}")
