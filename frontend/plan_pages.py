"""The plan page of a case: goals and commitments, and the forms to keep them. It calls the
same domain services as the JSON API; what a reader sees and may change is decided there."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from common.errors import FieldError, ValidationFailed
from domain.plans import service as plans
from domain.plans.rules import COMMITMENT_STATUS_LABELS, GOAL_STATUS_LABELS
from domain.plans.service import CommitmentChanges
from frontend import csrf
from frontend.deps import PageActor, PageDb
from frontend.render import render, see_other

router = APIRouter(include_in_schema=False)


def _plan_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    *,
    errors: list[FieldError] | None = None,
    form: dict[str, str] | None = None,
    open_row: uuid.UUID | None = None,
    status: int = 200,
) -> Response:
    view = plans.read_plan(session, actor, case_id=case_id)
    shown = errors or []
    return render(
        request,
        "plan.html",
        {
            "view": view,
            "errors": shown,
            "by_field": {e.field: e.message for e in shown},
            "form": form or {},
            "open_row": open_row,
            "goal_labels": GOAL_STATUS_LABELS,
            "commitment_labels": COMMITMENT_STATUS_LABELS,
        },
        status=status,
        actor=actor,
    )


def _optional_id(value: str, field: str, errors: list[FieldError]) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        errors.append(FieldError(field, "Välj i listan."))
        return None


def _optional_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@router.get("/arenden/{case_id}/plan")
def plan_page(request: Request, session: PageDb, actor: PageActor, case_id: uuid.UUID) -> Response:
    return _plan_page(request, session, actor, case_id)


@router.post("/arenden/{case_id}/plan/mal")
def add_goal(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    try:
        plans.add_goal(session, actor, case_id=case_id, text=text)
    except ValidationFailed as exc:
        session.rollback()
        return _plan_page(
            request, session, actor, case_id, errors=exc.errors, form={"text": text}, status=422
        )
    return see_other(f"/arenden/{case_id}/plan?mal=1")


@router.post("/arenden/{case_id}/plan/mal/{goal_id}")
def update_goal(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    goal_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    try:
        plans.update_goal(
            session, actor, case_id=case_id, goal_id=goal_id, version=version, status=status
        )
    except ValidationFailed as exc:
        session.rollback()
        return _plan_page(request, session, actor, case_id, errors=exc.errors, status=422)
    return see_other(f"/arenden/{case_id}/plan?malandrat=1")


@router.post("/arenden/{case_id}/plan/ataganden")
def add_commitment(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    what: Annotated[str, Form(max_length=4000)] = "",
    agency_id: Annotated[str, Form(max_length=40)] = "",
    person_user_id: Annotated[str, Form(max_length=40)] = "",
    due_on: Annotated[str, Form(max_length=20)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    form = {
        "what": what,
        "agency_id": agency_id,
        "person_user_id": person_user_id,
        "due_on": due_on,
        "comment": comment,
    }
    errors: list[FieldError] = []
    agency = _optional_id(agency_id, "agency_id", errors)
    person = _optional_id(person_user_id, "person_user_id", errors)
    try:
        if errors:
            raise ValidationFailed(errors)
        plans.add_commitment(
            session,
            actor,
            case_id=case_id,
            what=what,
            agency_id=agency,
            person_user_id=person,
            due_on=_optional_date(due_on),
            comment=comment,
        )
    except ValidationFailed as exc:
        session.rollback()
        return _plan_page(
            request, session, actor, case_id, errors=exc.errors, form=form, status=422
        )
    return see_other(f"/arenden/{case_id}/plan?atagande=1")


@router.post("/arenden/{case_id}/plan/ataganden/{commitment_id}")
def update_commitment(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    commitment_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
    status: Annotated[str, Form(max_length=16)] = "",
    current_status: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    due_on: Annotated[str | None, Form(max_length=20)] = None,
    person_user_id: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Contact persons send `comment` (and `status` "done" from the button); managers the
    whole row. Only fields the form carries, and a status that differs, are changes."""
    csrf.check(request, csrf_token)
    errors: list[FieldError] = []
    changes = CommitmentChanges(
        status=status if status and status != current_status else None,
        comment=comment,
        due_on=None if due_on is None else _optional_date(due_on),
        person_user_id=None
        if person_user_id is None
        else _optional_id(person_user_id, "person_user_id", errors),
        clear_person=person_user_id == "",
    )
    if due_on is not None and changes.due_on is None:
        errors.append(FieldError("due_on", "Ange senast-datum som ÅÅÅÅ-MM-DD."))
    try:
        if errors:
            raise ValidationFailed(errors)
        plans.update_commitment(
            session,
            actor,
            case_id=case_id,
            commitment_id=commitment_id,
            version=version,
            changes=changes,
        )
    except ValidationFailed as exc:
        session.rollback()
        row_errors = [FieldError(f"{e.field}-{commitment_id}", e.message) for e in exc.errors]
        return _plan_page(
            request,
            session,
            actor,
            case_id,
            errors=row_errors,
            open_row=commitment_id,
            status=422,
        )
    return see_other(f"/arenden/{case_id}/plan?andrat=1")
