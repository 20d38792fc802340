"""The collaboration agreement's pages (issue 14, item 1): the coordinator sets it up; the
steering group reads it (no forms are shown to a role without MANAGE_AGREEMENTS, and its
posts answer 403). They call the same domain functions as the JSON API."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from common.actor import Actor
from common.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from common.roles import Permission
from domain.agreements import service as agreements
from domain.agreements.rules import GridFrozen
from domain.statistics.periods import PERIOD_KIND_LABELS, PeriodKind
from domain.statistics.spec import (
    BREAKDOWN_LABELS,
    DEFAULT_K,
    INDICATORS,
    Breakdown,
    Comparison,
    TargetKind,
)
from frontend import csrf
from frontend.deps import PageActor, PageDb
from frontend.render import render, see_other

router = APIRouter(include_in_schema=False)

BASE = "/uppfoljning/overenskommelser"
STALE_MESSAGE = (
    "Någon annan har sparat en ändring medan du arbetade, så din ändring sparades inte. "
    "Sidan visar nu det som gäller. Gör om din ändring om den ska gälla."
)
TARGET_KIND_LABELS = {
    TargetKind.COUNT: "Antal under perioden",
    TargetKind.SHARE: "Andel i procent",
    TargetKind.MEDIAN_DAYS: "Median i dagar",
}
COMPARISON_LABELS = {Comparison.AT_LEAST: "minst", Comparison.AT_MOST: "högst"}
Line = Annotated[str, Form(max_length=400)]
Short = Annotated[str, Form(max_length=40)]
Choices = Annotated[list[str] | None, Form()]
LongText = Annotated[str, Form(max_length=20_000)]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _version(value: str) -> int:
    """A hidden version that does not parse is as stale as an old one."""
    text = value.strip()
    return int(text) if text.isdigit() else -1


def _prefixed(prefix: str, errors: Sequence[FieldError]) -> list[FieldError]:
    """The form's inputs are `prefix-field`, so each error links to its own input."""
    return [FieldError(f"{prefix}-{e.field}", e.message, e.english) for e in errors]


def _indicators() -> list[dict[str, Any]]:
    return [
        {
            "code": info.code,
            "title": info.title,
            "rows": list(info.rows),
            "kinds": [TARGET_KIND_LABELS[k] for k in TargetKind if k in info.target_kinds],
        }
        for info in INDICATORS.values()
    ]


def _base_context() -> dict[str, Any]:
    return {
        "period_kinds": [(k.value, PERIOD_KIND_LABELS[k]) for k in PeriodKind],
        "breakdown_choices": [(b.value, BREAKDOWN_LABELS[b]) for b in Breakdown],
        "breakdown_labels": {b.value: BREAKDOWN_LABELS[b] for b in Breakdown},
        "period_kind_labels": {k.value: PERIOD_KIND_LABELS[k] for k in PeriodKind},
        "target_kind_choices": [(k.value, TARGET_KIND_LABELS[k]) for k in TargetKind],
        "target_kind_labels": {k.value: TARGET_KIND_LABELS[k] for k in TargetKind},
        "comparison_choices": [(c.value, COMPARISON_LABELS[c]) for c in Comparison],
        "comparison_labels": {c.value: COMPARISON_LABELS[c] for c in Comparison},
        "indicators": _indicators(),
        "indicator_titles": {code: info.title for code, info in INDICATORS.items()},
        "row_labels": {
            (code, r): label for code, info in INDICATORS.items() for r, label in info.rows
        },
    }


def _page(
    request: Request,
    actor: Actor,
    template: str,
    context: dict[str, Any],
    *,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    return render(
        request,
        template,
        {
            **_base_context(),
            "errors": list(errors),
            "by_field": {e.field: e.message for e in errors},
            "saved": request.query_params.get("sparat") == "1",
            "can_manage": actor.can(Permission.MANAGE_AGREEMENTS),
            **context,
        },
        status=status,
        actor=actor,
    )


# --- the list ------------------------------------------------------------------------------


@router.get(BASE)
def agreement_list(request: Request, session: PageDb, actor: PageActor) -> Response:
    found = agreements.list_agreements(session, actor)
    return _page(request, actor, "agreements.html", {"agreements": found})


# --- a new agreement, and editing one ------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    form: dict[str, Any],
    agreement_id: uuid.UUID | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    return _page(
        request,
        actor,
        "agreement_form.html",
        {
            "form": form,
            "agreement_id": agreement_id,
            "schools": agreements.school_choices(session, actor),
        },
        errors=errors,
        status=status,
    )


@router.get(f"{BASE}/ny")
def new_form(request: Request, session: PageDb, actor: PageActor) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    form = {
        "name": "",
        "starts_on": "",
        "ends_on": "",
        "period_kind": PeriodKind.TERTIAL.value,
        "k": str(DEFAULT_K),
        "breakdowns": [b.value for b in Breakdown],
        "areas": "",
        "school_agency_ids": [],
        "follow_up_by": "",
        "parties": "",
    }
    return _form_page(request, session, actor, form=form)


@router.post(f"{BASE}/ny")
def create(
    request: Request,
    session: PageDb,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    name: Line = "",
    starts_on: Short = "",
    ends_on: Short = "",
    period_kind: Short = "",
    k: Short = "",
    breakdowns: Choices = None,
    areas: LongText = "",
    school_agency_ids: Choices = None,
    follow_up_by: Line = "",
    parties: LongText = "",
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    form = {
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "period_kind": period_kind,
        "k": k,
        "breakdowns": breakdowns or [],
        "areas": areas,
        "school_agency_ids": school_agency_ids or [],
        "follow_up_by": follow_up_by,
        "parties": parties,
    }
    try:
        created = agreements.create_agreement(
            session,
            actor,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            period_kind=period_kind,
            k=k,
            breakdowns=breakdowns or [],
            areas=_lines(areas),
            school_agency_ids=school_agency_ids or [],
            follow_up_by=follow_up_by,
            parties=[agreements.PartyInput(line) for line in _lines(parties)],
        )
    except ValidationFailed as exc:
        session.rollback()
        return _form_page(request, session, actor, form=form, errors=exc.errors, status=422)
    return see_other(f"{BASE}/{created.id}?sparat=1")


@router.get(f"{BASE}/{{agreement_id}}/andra")
def edit_form(
    request: Request, session: PageDb, actor: PageActor, agreement_id: uuid.UUID
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    agreement = agreements.get_agreement(session, actor, agreement_id).agreement
    form = {
        "name": agreement.name,
        "starts_on": agreement.starts_on.isoformat(),
        "ends_on": agreement.ends_on.isoformat(),
        "period_kind": agreement.period_kind,
        "k": str(agreement.k),
        "breakdowns": list(agreement.breakdowns),
        "areas": "\n".join(agreement.areas),
        "school_agency_ids": list(agreement.school_agency_ids),
        "follow_up_by": agreement.follow_up_by,
        "version": str(agreement.version),
        "frozen": agreement.grid_frozen_at is not None,
    }
    return _form_page(request, session, actor, form=form, agreement_id=agreement_id)


@router.post(f"{BASE}/{{agreement_id}}/andra")
def edit(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Short = "",
    name: Line = "",
    starts_on: Short = "",
    ends_on: Short = "",
    period_kind: Short = "",
    k: Short = "",
    breakdowns: Choices = None,
    areas: LongText = "",
    school_agency_ids: Choices = None,
    follow_up_by: Line = "",
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    current = agreements.get_agreement(session, actor, agreement_id).agreement
    form = {
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "period_kind": period_kind,
        "k": k,
        "breakdowns": breakdowns or [],
        "areas": areas,
        "school_agency_ids": school_agency_ids or [],
        "follow_up_by": follow_up_by,
        "version": version,
        "frozen": current.grid_frozen_at is not None,
    }
    try:
        agreements.update_agreement(
            session,
            actor,
            agreement_id,
            version=_version(version),
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            period_kind=period_kind,
            k=k,
            breakdowns=breakdowns or [],
            areas=_lines(areas),
            school_agency_ids=school_agency_ids or [],
            follow_up_by=follow_up_by,
        )
    except ValidationFailed as exc:
        session.rollback()
        return _form_page(
            request,
            session,
            actor,
            form=form,
            agreement_id=agreement_id,
            errors=exc.errors,
            status=422,
        )
    except (StaleVersion, GridFrozen) as exc:
        session.rollback()
        message = STALE_MESSAGE if isinstance(exc, StaleVersion) else exc.detail
        return _form_page(
            request,
            session,
            actor,
            form={**form, "version": str(current.version)},
            agreement_id=agreement_id,
            errors=[FieldError("name", message)],
            status=409,
        )
    return see_other(f"{BASE}/{agreement_id}?sparat=1")


# --- one agreement, and the coordinator's additions to it ----------------------------------


def _detail(
    request: Request,
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    *,
    form: dict[str, Any] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    view = agreements.get_agreement(session, actor, agreement_id)
    context: dict[str, Any] = {"view": view, "form": form or {}}
    if actor.can(Permission.MANAGE_AGREEMENTS):
        context["schools"] = [(s, view.school_name(s)) for s in view.agreement.school_agency_ids]
    return _page(request, actor, "agreement.html", context, errors=errors, status=status)


@router.get(f"{BASE}/{{agreement_id}}")
def detail(
    request: Request, session: PageDb, actor: PageActor, agreement_id: uuid.UUID
) -> Response:
    return _detail(request, session, actor, agreement_id)


def _after(
    request: Request,
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    prefix: str,
    form: dict[str, Any],
    exc: DomainError,
) -> Response:
    """Show the agreement again with the form's problem: 422 for input, 409 for a conflict."""
    session.rollback()
    if isinstance(exc, ValidationFailed):
        errors = _prefixed(prefix, exc.errors)
    else:
        errors = [FieldError(f"{prefix}-name", exc.detail)]
    return _detail(
        request,
        session,
        actor,
        agreement_id,
        form={prefix: form},
        errors=errors,
        status=exc.status_code,
    )


@router.post(f"{BASE}/{{agreement_id}}/parter")
def add_party(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    name: Line = "",
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    try:
        agreements.add_party(session, actor, agreement_id, name=name)
    except ValidationFailed as exc:
        return _after(request, session, actor, agreement_id, "party", {"name": name}, exc)
    return see_other(f"{BASE}/{agreement_id}?sparat=1#parter")


def _removed(
    request: Request,
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    remove: Callable[[], None],
    *,
    button: str,
    anchor: str,
) -> Response:
    """Remove one part of the agreement; a conflict (a goal area that still has activities,
    an activity once a report is published) shows the agreement again with the reason, linked
    to `button` (the element of the page it is about)."""
    try:
        remove()
    except Conflict as exc:
        session.rollback()
        errors = [FieldError(button, exc.detail)]
        return _detail(request, session, actor, agreement_id, errors=errors, status=exc.status_code)
    return see_other(f"{BASE}/{agreement_id}?sparat=1#{anchor}")


@router.post(f"{BASE}/{{agreement_id}}/parter/{{party_id}}/ta-bort")
def remove_party(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    party_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    return _removed(
        request,
        session,
        actor,
        agreement_id,
        partial(agreements.remove_party, session, actor, agreement_id, party_id),
        button=f"remove-party-{party_id}",
        anchor="parter",
    )


@router.post(f"{BASE}/{{agreement_id}}/malomraden/{{goal_area_id}}/ta-bort")
def remove_goal_area(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    goal_area_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    return _removed(
        request,
        session,
        actor,
        agreement_id,
        partial(agreements.delete_goal_area, session, actor, agreement_id, goal_area_id),
        button=f"remove-goal-{goal_area_id}",
        anchor="malomraden",
    )


@router.post(f"{BASE}/{{agreement_id}}/aktiviteter/{{activity_id}}/ta-bort")
def remove_activity(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The activity and its targets; only until the first report is published."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    return _removed(
        request,
        session,
        actor,
        agreement_id,
        partial(agreements.delete_activity, session, actor, agreement_id, activity_id),
        button=f"aktivitet-{activity_id}",  # its heading: the button is gone once published
        anchor="aktiviteter",
    )


@router.post(f"{BASE}/{{agreement_id}}/malomraden")
def add_goal_area(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    letter: Short = "",
    title: Line = "",
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    try:
        agreements.add_goal_area(session, actor, agreement_id, letter=letter, title=title)
    except ValidationFailed as exc:
        form = {"letter": letter, "title": title}
        return _after(request, session, actor, agreement_id, "goal", form, exc)
    return see_other(f"{BASE}/{agreement_id}?sparat=1#malomraden")


def _goal_area_page(
    request: Request,
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    goal_area_id: uuid.UUID,
    *,
    form: dict[str, Any] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    """The goal area's form: its title as saved, or as in a form that failed (`form`)."""
    view = agreements.get_agreement(session, actor, agreement_id)
    goal_area = view.goal_area(goal_area_id)
    if goal_area is None:
        raise NotFound()
    shown = form or {"title": goal_area.title, "version": str(goal_area.version)}
    context = {"view": view, "goal_area": goal_area, "form": shown}
    return _page(request, actor, "agreement_goal_area.html", context, errors=errors, status=status)


@router.get(f"{BASE}/{{agreement_id}}/malomraden/{{goal_area_id}}/andra")
def edit_goal_area_form(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    goal_area_id: uuid.UUID,
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    return _goal_area_page(request, session, actor, agreement_id, goal_area_id)


@router.post(f"{BASE}/{{agreement_id}}/malomraden/{{goal_area_id}}/andra")
def edit_goal_area(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    goal_area_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Short = "",
    title: Line = "",
) -> Response:
    """Save the goal area's title (its letter names it in the agreement and stays); an input
    error names the field, and an edit based on an old version is refused."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    try:
        agreements.update_goal_area(
            session, actor, agreement_id, goal_area_id, version=_version(version), title=title
        )
    except ValidationFailed as exc:
        session.rollback()
        return _goal_area_page(
            request,
            session,
            actor,
            agreement_id,
            goal_area_id,
            form={"title": title, "version": version},
            errors=_prefixed("goal", exc.errors),
            status=422,
        )
    except StaleVersion:
        session.rollback()
        stale = [FieldError("goal-title", STALE_MESSAGE)]
        return _goal_area_page(
            request, session, actor, agreement_id, goal_area_id, errors=stale, status=409
        )
    return see_other(f"{BASE}/{agreement_id}?sparat=1#malomraden")


@router.post(f"{BASE}/{{agreement_id}}/aktiviteter")
def add_activity(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    goal_area_id: Short = "",
    name: Line = "",
    programmes: Choices = None,
    school_agency_ids: Choices = None,
    areas: Choices = None,
    responsible: Line = "",
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    try:
        agreements.add_activity(
            session,
            actor,
            agreement_id,
            goal_area_id=goal_area_id,
            name=name,
            programmes=programmes or [],
            school_agency_ids=school_agency_ids or [],
            areas=areas or [],
            responsible=responsible,
        )
    except ValidationFailed as exc:
        form = {
            "goal_area_id": goal_area_id,
            "name": name,
            "programmes": programmes or [],
            "school_agency_ids": school_agency_ids or [],
            "areas": areas or [],
            "responsible": responsible,
        }
        return _after(request, session, actor, agreement_id, "activity", form, exc)
    return see_other(f"{BASE}/{agreement_id}?sparat=1#aktiviteter")


def _activity_page(
    request: Request,
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    *,
    form: dict[str, Any] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    """The activity's form: its current values, or the values of a form that failed (`form`,
    whose errors are about `activity-` inputs)."""
    view = agreements.get_agreement(session, actor, agreement_id)
    activity = next((a for a in view.activities if a.id == activity_id), None)
    if activity is None:
        raise NotFound()
    shown = form or {
        "goal_area_id": str(activity.goal_area_id),
        "name": activity.name,
        "programmes": list(activity.programmes),
        "school_agency_ids": list(activity.school_agency_ids),
        "areas": list(activity.areas),
        "responsible": activity.responsible,
        "version": str(activity.version),
    }
    context = {
        "view": view,
        "activity_id": activity.id,
        "activity_name": activity.name,
        "form": shown,
        "schools": [(s, view.school_name(s)) for s in view.agreement.school_agency_ids],
    }
    return _page(request, actor, "agreement_activity.html", context, errors=errors, status=status)


@router.get(f"{BASE}/{{agreement_id}}/aktiviteter/{{activity_id}}/andra")
def edit_activity_form(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    return _activity_page(request, session, actor, agreement_id, activity_id)


@router.post(f"{BASE}/{{agreement_id}}/aktiviteter/{{activity_id}}/andra")
def edit_activity(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Short = "",
    goal_area_id: Short = "",
    name: Line = "",
    programmes: Choices = None,
    school_agency_ids: Choices = None,
    areas: Choices = None,
    responsible: Line = "",
) -> Response:
    """Save the activity's form; input errors name their field, and an edit based on an old
    version is refused and shows what is saved now."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    form = {
        "goal_area_id": goal_area_id,
        "name": name,
        "programmes": programmes or [],
        "school_agency_ids": school_agency_ids or [],
        "areas": areas or [],
        "responsible": responsible,
        "version": version,
    }
    try:
        agreements.update_activity(
            session,
            actor,
            agreement_id,
            activity_id,
            version=_version(version),
            goal_area_id=goal_area_id,
            name=name,
            programmes=programmes or [],
            school_agency_ids=school_agency_ids or [],
            areas=areas or [],
            responsible=responsible,
        )
    except ValidationFailed as exc:
        session.rollback()
        errors = _prefixed("activity", exc.errors)
        return _activity_page(
            request, session, actor, agreement_id, activity_id, form=form, errors=errors, status=422
        )
    except StaleVersion:
        session.rollback()
        stale = [FieldError("activity-name", STALE_MESSAGE)]
        return _activity_page(
            request, session, actor, agreement_id, activity_id, errors=stale, status=409
        )
    return see_other(f"{BASE}/{agreement_id}?sparat=1#aktivitet-{activity_id}")


@router.post(f"{BASE}/{{agreement_id}}/aktiviteter/{{activity_id}}/mal")
def add_target(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    indicator: Short = "",
    row_code: Short = "",
    kind: Short = "",
    comparison: Short = "",
    value: Short = "",
    label: Line = "",
) -> Response:
    """`indicator` may carry the row too, as "indicator:row" (one choice in the form)."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    code, _, row = indicator.partition(":")
    try:
        agreements.add_target(
            session,
            actor,
            agreement_id,
            activity_id,
            indicator=code,
            row_code=row or row_code or None,
            kind=kind,
            comparison=comparison,
            value=value,
            label=label,
        )
    except ValidationFailed as exc:
        form = {
            "indicator": indicator,
            "kind": kind,
            "comparison": comparison,
            "value": value,
            "label": label,
        }
        exc.errors = _target_errors(exc)
        return _after(request, session, actor, agreement_id, f"target-{activity_id}", form, exc)
    return see_other(f"{BASE}/{agreement_id}?sparat=1#aktivitet-{activity_id}")


def _target_page(
    request: Request,
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    target_id: uuid.UUID,
    *,
    form: dict[str, Any] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    """The target's form: its values as saved, or as in a form that failed (`form`, whose
    errors are about `target-` inputs)."""
    view = agreements.get_agreement(session, actor, agreement_id)
    activity = next((a for a in view.activities if a.id == activity_id), None)
    target = next((t for t in view.targets.get(activity_id, ()) if t.id == target_id), None)
    if activity is None or target is None:
        raise NotFound()
    shown = form or {
        "indicator": f"{target.indicator}:{target.row_code}"
        if target.row_code
        else target.indicator,
        "kind": target.kind,
        "comparison": target.comparison,
        "value": f"{target.value:g}",
        "label": target.label,
        "version": str(target.version),
    }
    context = {
        "view": view,
        "activity_id": activity.id,
        "activity_name": activity.name,
        "target_id": target.id,
        "target_label": target.label,
        "form": shown,
    }
    return _page(request, actor, "agreement_target.html", context, errors=errors, status=status)


@router.get(f"{BASE}/{{agreement_id}}/aktiviteter/{{activity_id}}/mal/{{target_id}}/andra")
def edit_target_form(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    target_id: uuid.UUID,
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    return _target_page(request, session, actor, agreement_id, activity_id, target_id)


@router.post(f"{BASE}/{{agreement_id}}/aktiviteter/{{activity_id}}/mal/{{target_id}}/andra")
def edit_target(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    target_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Short = "",
    indicator: Short = "",
    kind: Short = "",
    comparison: Short = "",
    value: Short = "",
    label: Line = "",
) -> Response:
    """Save the target's form, as `add_target` reads it; input errors name their field, and
    an edit based on an old version is refused and shows what is saved now."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    code, _, row = indicator.partition(":")
    form = {
        "indicator": indicator,
        "kind": kind,
        "comparison": comparison,
        "value": value,
        "label": label,
        "version": version,
    }
    try:
        agreements.update_target(
            session,
            actor,
            agreement_id,
            activity_id,
            target_id,
            version=_version(version),
            indicator=code,
            row_code=row or None,
            kind=kind,
            comparison=comparison,
            value=value,
            label=label,
        )
    except ValidationFailed as exc:
        session.rollback()
        return _target_page(
            request,
            session,
            actor,
            agreement_id,
            activity_id,
            target_id,
            form=form,
            errors=_prefixed("target", _target_errors(exc)),
            status=422,
        )
    except StaleVersion:
        session.rollback()
        stale = [FieldError("target-label", STALE_MESSAGE)]
        return _target_page(
            request, session, actor, agreement_id, activity_id, target_id, errors=stale, status=409
        )
    return see_other(f"{BASE}/{agreement_id}?sparat=1#aktivitet-{activity_id}")


def _target_errors(exc: ValidationFailed) -> list[FieldError]:
    """The target form chooses indicator and row in one input: a row's error belongs to it."""
    return [
        FieldError("indicator" if e.field == "row_code" else e.field, e.message, e.english)
        for e in exc.errors
    ]


@router.post(f"{BASE}/{{agreement_id}}/aktiviteter/{{activity_id}}/mal/{{target_id}}/ta-bort")
def delete_target(
    request: Request,
    session: PageDb,
    actor: PageActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    target_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    actor.require(Permission.MANAGE_AGREEMENTS)
    csrf.check(request, csrf_token)
    agreements.delete_target(session, actor, agreement_id, activity_id, target_id)
    return see_other(f"{BASE}/{agreement_id}?sparat=1#aktivitet-{activity_id}")
