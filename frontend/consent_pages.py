"""Pages for a case's consents and team (social services only), calling the same services
as the JSON API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from common.errors import Conflict, FieldError, ValidationFailed
from common.roles import Permission
from consent.models import CONSENT_METHOD_LABELS
from consent.rules import CATEGORY_LABELS
from domain.agencies.repository import AgencyRepository
from domain.cases import service as cases
from domain.consents import service as consents
from domain.consents.service import ConsentInput
from domain.consents.tracker import (
    CONCERN_LABELS,
    HORIZON_DAYS,
    PROGRAMMES,
    SORT_LABELS,
    TrackerQuery,
    consent_tracker,
)
from domain.teams import service as teams
from frontend import csrf
from frontend.deps import PageActor, PageDb
from frontend.render import render, see_other

router = APIRouter(include_in_schema=False)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def _date(value: str, field: str, errors: list[FieldError]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, "Ange datum som ÅÅÅÅ-MM-DD."))
        return None


def _consent_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    *,
    errors: list[FieldError],
    form: dict[str, object],
    status: int = 200,
) -> Response:
    overview = consents.consent_overview(session, actor, case_id=case_id)
    view = cases.get_case(session, actor, case_id=case_id)
    agencies = AgencyRepository(session).list()
    names = {str(g.id): g.name for g in overview.guardians}
    return render(
        request,
        "consents.html",
        {
            "overview": overview,
            "view": view,
            "agencies": agencies,
            "agency_names": {str(a.id): a.name for a in agencies},
            "guardian_names": names,
            "category_labels": CATEGORY_LABELS,
            "method_labels": CONSENT_METHOD_LABELS,
            "errors": errors,
            "by_field": {e.field: e.message for e in errors},
            "form": form,
        },
        status=status,
        actor=actor,
    )


@router.get("/arenden/{case_id}/samtycken")
def consent_page(
    request: Request, session: PageDb, actor: PageActor, case_id: uuid.UUID
) -> Response:
    return _consent_page(request, session, actor, case_id, errors=[], form={})


@router.post("/arenden/{case_id}/samtycken")
def record_consent(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    signer: Annotated[str, Form(max_length=40)] = "",
    decision: Annotated[str, Form(max_length=16)] = "",
    signed_on: Annotated[str, Form(max_length=10)] = "",
    valid_from: Annotated[str, Form(max_length=10)] = "",
    valid_until: Annotated[str, Form(max_length=10)] = "",
    agencies: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    categories: Annotated[list[str], Form()] = [],  # noqa: B006
    method: Annotated[str, Form(max_length=32)] = "",
    scope_from: Annotated[str, Form(max_length=40)] = "",
    document: Annotated[UploadFile | None, File()] = None,
) -> Response:
    csrf.check(request, csrf_token)
    content = document.file.read(MAX_DOCUMENT_BYTES + 1) if document and document.filename else None
    form: dict[str, object] = {
        "signer": signer,
        "decision": decision,
        "signed_on": signed_on,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "agencies": agencies,
        "categories": categories,
        "method": method,
        "scope_from": scope_from,
    }
    errors: list[FieldError] = []
    if content is not None and len(content) > MAX_DOCUMENT_BYTES:
        errors.append(FieldError("document", "Filen får vara högst 20 MB."))
    data = ConsentInput(
        signer=signer,
        decision=decision,
        signed_on=_date(signed_on, "signed_on", errors),
        valid_from=_date(valid_from, "valid_from", errors),
        valid_until=_date(valid_until, "valid_until", errors),
        agencies=agencies,
        categories=categories,
        method=method,
        document=content or None,
        scope_from=scope_from,
    )
    return _record(request, session, actor, case_id, data, form, errors)


def _record(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    data: ConsentInput,
    form: dict[str, object],
    errors: list[FieldError],
) -> Response:
    try:
        if errors:
            raise ValidationFailed(errors)
        consents.record_consent(session, actor, case_id=case_id, data=data)
    except ValidationFailed as exc:
        session.rollback()
        found = {(e.field, e.message) for e in exc.errors}
        combined = [*exc.errors, *(e for e in errors if (e.field, e.message) not in found)]
        return _consent_page(
            request, session, actor, case_id, errors=combined, form=form, status=422
        )
    except Conflict as exc:  # e.g. the case was closed meanwhile: the form stays as typed
        session.rollback()
        return _consent_page(
            request,
            session,
            actor,
            case_id,
            errors=[FieldError("signer", exc.detail)],
            form=form,
            status=409,
        )
    return see_other(f"/arenden/{case_id}/samtycken?sparat=1")


@router.post("/samtycken/{consent_id}/aterkalla")
def withdraw(
    request: Request,
    session: PageDb,
    actor: PageActor,
    consent_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    case_id: Annotated[uuid.UUID | None, Form()] = None,
) -> Response:
    csrf.check(request, csrf_token)
    try:
        consents.withdraw_consent(session, actor, consent_id=consent_id)
    except Conflict as exc:  # already withdrawn (e.g. in another tab): say so on the case's page
        if case_id is None:
            raise
        session.rollback()
        error = FieldError("records", exc.detail)
        return _consent_page(request, session, actor, case_id, errors=[error], form={}, status=409)
    return see_other(f"/arenden/{case_id}/samtycken?aterkallat=1" if case_id else "/arenden")


@router.get("/arenden/{case_id}/team")
def team_page(request: Request, session: PageDb, actor: PageActor, case_id: uuid.UUID) -> Response:
    return _team_page(request, session, actor, case_id, errors=[])


def _team_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    *,
    errors: list[FieldError],
    status: int = 200,
) -> Response:
    consents.managed_case(session, actor, case_id, Permission.MANAGE_TEAM)  # 404 for others
    view = cases.get_case(session, actor, case_id=case_id)
    members = {member.user_id for member in view.team}
    candidates = [(u, a) for u, a in teams.candidates(session, actor) if u.id not in members]
    return render(
        request,
        "team.html",
        {"view": view, "candidates": candidates, "errors": errors},
        status=status,
        actor=actor,
    )


@router.post("/arenden/{case_id}/team")
def add_member(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    user_id: Annotated[str, Form()] = "",
) -> Response:
    csrf.check(request, csrf_token)
    try:
        try:
            chosen = uuid.UUID(user_id)
        except ValueError:
            raise ValidationFailed.one("user_id", "Välj en person i listan.") from None
        teams.add_member(session, actor, case_id=case_id, user_id=chosen)
    except ValidationFailed as exc:
        session.rollback()
        return _team_page(request, session, actor, case_id, errors=exc.errors, status=422)
    return see_other(f"/arenden/{case_id}/team?tillagd=1")


@router.post("/arenden/{case_id}/team/{user_id}/ta-bort")
def remove_member(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    user_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    csrf.check(request, csrf_token)
    teams.remove_member(session, actor, case_id=case_id, user_id=user_id)
    return see_other(f"/arenden/{case_id}/team?borttagen=1")


@router.get("/samtycken")
def tracker_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    programme: Annotated[str, Query(max_length=40)] = "",
    owner: Annotated[str, Query(max_length=40)] = "",
    concern: Annotated[str, Query(max_length=40)] = "",
    sort: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The consent tracker, filtered by GET parameters; a filter that is not understood is
    named in the error summary and not applied, and the list is shown without it."""
    query = TrackerQuery(programme=programme, owner=owner, concern=concern, sort=sort)
    result = consent_tracker(session, actor, query=query)
    return render(
        request,
        "tracker.html",
        {
            "result": result,
            "labels": CONCERN_LABELS,
            "sort_labels": SORT_LABELS,
            "programmes": PROGRAMMES,
            "days": HORIZON_DAYS,
            "errors": result.errors,
            "filtered": any((programme, owner, concern, sort)),
        },
        status=422 if result.errors else 200,
        actor=actor,
    )
