"""The auditor's pages (Logggranskning). They call domain.auditing like the JSON API does."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from audit.repository import EventFilter
from audit.sequencer import LogSigner
from common.clock import STOCKHOLM
from common.errors import FieldError, ValidationFailed
from common.roles import Permission
from consent.models import REVIEW_OUTCOME_LABELS
from domain.auditing import service as auditing
from domain.breakglass import service as breakglass
from frontend import csrf
from frontend.deps import PageActor, PageDb
from frontend.labels import ACTION_LABELS, action_label
from frontend.render import render, see_other

router = APIRouter(prefix="/granskning", include_in_schema=False)
PAGE_SIZE = 50


class SearchForm(BaseModel):
    anvandare: str = ""
    referens: str = ""
    handelse: str = ""
    utfall: str = ""
    fran: str = ""
    till: str = ""
    sida: int = 1


def _day(value: str, field: str, errors: list[FieldError], *, end: bool) -> datetime | None:
    """A Stockholm calendar day to a UTC instant: its start, or the start of the next day."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, "Ange datum som ÅÅÅÅ-MM-DD."))
        return None
    try:
        if end:
            day += timedelta(days=1)
        instant = datetime.combine(day, time(), tzinfo=STOCKHOLM)
        instant.astimezone(UTC)  # 0001-01-01 in Stockholm is before UTC's first day
    except OverflowError:
        errors.append(FieldError(field, "Datumet ligger utanför det som går att söka på."))
        return None
    return instant


def _event_filter(session: PageDb, actor: PageActor, form: SearchForm) -> EventFilter:
    errors: list[FieldError] = []
    user_id = None
    if form.anvandare:
        try:
            user_id = uuid.UUID(form.anvandare)
        except ValueError:
            errors.append(FieldError("anvandare", "Välj en användare i listan."))
    case_id = None
    if form.referens.strip():
        try:
            case_id = auditing.case_id_for(session, actor, reference=form.referens)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if form.utfall not in ("", "allowed", "denied"):
        errors.append(FieldError("utfall", "Välj utfall i listan."))
    occurred_from = _day(form.fran, "fran", errors, end=False)
    occurred_to = _day(form.till, "till", errors, end=True)
    if occurred_from and occurred_to and occurred_from >= occurred_to:
        errors.append(FieldError("till", "Slutet av perioden måste komma efter början."))
    if not 1 <= form.sida <= auditing.MAX_PAGE:
        errors.append(FieldError("sida", f"Sidnumret måste vara 1–{auditing.MAX_PAGE}."))
    if errors:
        raise ValidationFailed(errors)
    return EventFilter(
        user_id=user_id,
        case_id=case_id,
        action=form.handelse.strip() or None,
        outcome=form.utfall or None,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )


def _action_choices(chosen: str) -> list[tuple[str, str]]:
    """(code, Swedish label) for the action filter, by label; a code typed into the address
    that has no label (a denied request's route) is kept, so the form shows what was searched."""
    choices = sorted(ACTION_LABELS.items(), key=lambda item: item[1])
    if chosen and chosen not in ACTION_LABELS:
        choices.insert(0, (chosen, action_label(chosen)))
    return choices


@router.get("")
def search(
    request: Request, session: PageDb, actor: PageActor, form: Annotated[SearchForm, Query()]
) -> Response:
    actor.require(Permission.READ_AUDIT_LOG)
    context = {
        "form": form,
        "staff": auditing.staff(session, actor),
        "actions": _action_choices(form.handelse.strip()),
        "errors": [],
        "page": None,
        "query": urlencode({k: v for k, v in form.model_dump().items() if v and k != "sida"}),
    }
    searched = (
        any(v for k, v in form.model_dump().items() if k != "sida") or "sok" in request.query_params
    )
    if searched:
        try:
            where = _event_filter(session, actor, form)
            context["page"] = auditing.search_events(
                session, actor, where=where, page=form.sida, page_size=PAGE_SIZE
            )
        except ValidationFailed as exc:
            context["errors"] = exc.errors
            return render(request, "audit_search.html", context, status=422, actor=actor)
    return render(request, "audit_search.html", context, actor=actor)


@router.get("/export.csv")
def export(
    session: PageDb,
    actor: PageActor,
    form: Annotated[SearchForm, Query()],
    kolumner: Annotated[str, Query(max_length=2)] = "sv",
) -> Response:
    """The search's events as CSV: Swedish columns for a spreadsheet by default, the JSON API's
    English columns with `kolumner=en` for programs."""
    # The permission first, as the JSON API's export does: a user who may not export gets 403,
    # not a verdict on the dates they typed.
    actor.require(Permission.EXPORT_AUDIT_LOG)
    if kolumner not in auditing.CSV_LANGUAGES:
        message = "Välj kolumnnamn på svenska (kolumner=sv) eller engelska (kolumner=en)."
        raise ValidationFailed([FieldError("kolumner", message)], detail=message)
    body = auditing.export_csv(
        session, actor, where=_event_filter(session, actor, form), language=kolumner
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="samsyn-logg.csv"'},
    )


@router.get("/arende")
def access_report(
    request: Request,
    session: PageDb,
    actor: PageActor,
    referens: Annotated[str, Query(max_length=32)] = "",
    sida: Annotated[int, Query(ge=1, le=auditing.MAX_PAGE)] = 1,
) -> Response:
    actor.require(Permission.READ_AUDIT_LOG)
    report = None
    errors: list[FieldError] = []
    if referens.strip():
        try:
            auditing.case_id_for(session, actor, reference=referens)
            report = auditing.access_report(
                session, actor, reference=referens, page=sida, page_size=PAGE_SIZE
            )
        except ValidationFailed as exc:
            errors = exc.errors
    return render(
        request,
        "audit_access.html",
        {"reference": referens, "report": report, "errors": errors},
        status=422 if errors else 200,
        actor=actor,
    )


@router.get("/nodatkomst")
def break_glass(
    request: Request,
    session: PageDb,
    actor: PageActor,
    sida: Annotated[int, Query(ge=1, le=auditing.MAX_PAGE)] = 1,
) -> Response:
    return _break_glass_page(request, session, actor, page=sida, errors=[], form={})


def _break_glass_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    *,
    page: int,
    errors: list[FieldError],
    form: dict[str, str],
    status: int = 200,
) -> Response:
    rows, total = breakglass.grants_for_review(session, actor, page=page, page_size=PAGE_SIZE)
    return render(
        request,
        "audit_break_glass.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "errors": errors,
            "by_field": {e.field: e.message for e in errors},
            "form": form,
            "outcomes": REVIEW_OUTCOME_LABELS,
        },
        status=status,
        actor=actor,
    )


class ReviewForm(BaseModel):
    csrf_token: str = ""
    outcome: str = ""
    note: str = ""
    sida: int = 1


@router.post("/nodatkomst/{grant_id}/granskning")
def review_break_glass(
    request: Request,
    session: PageDb,
    actor: PageActor,
    grant_id: uuid.UUID,
    form: Annotated[ReviewForm, Form()],
) -> Response:
    csrf.check(request, form.csrf_token)
    page = min(max(form.sida, 1), 100_000)
    try:
        breakglass.review_grant(
            session, actor, grant_id=grant_id, outcome=form.outcome, note=form.note
        )
    except ValidationFailed as exc:
        session.rollback()
        errors, status = exc.errors, 422
    except breakglass.BreakGlassRefused as exc:  # reviewed already
        session.rollback()
        errors, status = [FieldError("outcome", exc.message)], 409
    else:
        return see_other(f"/granskning/nodatkomst?sida={page}#granskning-{grant_id}")
    # Field ids carry the grant's id: the page holds one form per unreviewed grant.
    return _break_glass_page(
        request,
        session,
        actor,
        page=page,
        errors=[FieldError(f"{e.field}-{grant_id}", e.message) for e in errors],
        form={"grant_id": str(grant_id), "outcome": form.outcome, "note": form.note},
        status=status,
    )


@router.get("/nekade")
def denied(
    request: Request,
    session: PageDb,
    actor: PageActor,
    sida: Annotated[int, Query(ge=1, le=auditing.MAX_PAGE)] = 1,
) -> Response:
    page = auditing.denied_events(session, actor, page=sida, page_size=PAGE_SIZE)
    return render(
        request,
        "audit_list.html",
        {
            "title": "Nekade förfrågningar",
            "page": page,
            "base": "/granskning/nekade",
            "intro": "Försök att nå uppgifter som användaren saknar rätt till eller som saknas.",
            "empty": "Inga nekade förfrågningar.",
        },
        actor=actor,
    )


@router.get("/integritet")
def integrity_page(request: Request, actor: PageActor) -> Response:
    actor.require(Permission.READ_AUDIT_LOG)
    return render(request, "audit_integrity.html", {"report": None}, actor=actor)


class CsrfForm(BaseModel):
    csrf_token: str = ""


@router.post("/integritet")
def check_integrity(
    request: Request, session: PageDb, actor: PageActor, form: Annotated[CsrfForm, Form()]
) -> Response:
    csrf.check(request, form.csrf_token)
    signer: LogSigner = request.app.state.log_signer
    report = auditing.integrity(
        session,
        actor,
        public_key=signer.key.public_key(),
        origin=signer.origin,
        export_dir=request.app.state.settings.audit_export_dir,
    )
    return render(request, "audit_integrity.html", {"report": report}, actor=actor)
