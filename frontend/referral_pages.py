"""Referral pages (aktualiseringar, issue 13): raise one, follow one's own, the inbox with
triage, and the waiting list. They call the same services as the JSON API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from common.errors import FieldError, ValidationFailed
from common.roles import Permission
from domain.people.models import GENDER_LABELS, Gender
from domain.referrals import service as referrals
from domain.referrals.rules import (
    DECISION_LABELS,
    PROGRAMME_LABELS,
    SENDER_STATUS_LABELS,
    STATUS_LABELS,
    ReferralStatus,
    SenderStatus,
    WishedProgramme,
)
from domain.referrals.service import DecisionInput, ReferralInput
from frontend import csrf
from frontend.deps import PageActor, PageDb
from frontend.render import render, see_other

router = APIRouter(include_in_schema=False)

_LABELS: dict[str, Any] = {
    "programme_labels": {p.value: label for p, label in PROGRAMME_LABELS.items()},
    "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
    "sender_labels": {s.value: label for s, label in SENDER_STATUS_LABELS.items()},
    "decision_labels": {d.value: label for d, label in DECISION_LABELS.items()},
}


def _form_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    *,
    errors: list[FieldError] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    shown = errors or []
    return render(
        request,
        "referral_new.html",
        {
            "grounds": referrals.active_grounds(session, actor),
            "units": referrals.receiving_agencies(session, actor),
            "programmes": list(WishedProgramme),
            "errors": shown,
            "by_field": {e.field: e.message for e in shown},
            "form": form or {"grounds": []},
            **_LABELS,
        },
        status=status,
        actor=actor,
    )


@router.get("/aktualiseringar/ny")
def new_referral(request: Request, session: PageDb, actor: PageActor) -> Response:
    return _form_page(request, session, actor)


@router.post("/aktualiseringar/ny")
def raise_referral(
    request: Request,
    session: PageDb,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    programme: Annotated[str, Form(max_length=16)] = "",
    grounds: Annotated[list[str] | None, Form(max_length=30)] = None,
    personnummer: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=300)] = "",
    birth_year: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    text: Annotated[str, Form(max_length=8000)] = "",
    receiving_agency_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    form = {
        "programme": programme,
        "grounds": grounds or [],
        "personnummer": personnummer,
        "name": name,
        "birth_year": birth_year,
        "note": note,
        "text": text,
        "receiving_agency_id": receiving_agency_id,
    }
    try:
        referrals.raise_referral(
            session,
            actor,
            index=request.app.state.keys.blind_index,
            data=ReferralInput(
                programme=programme,
                ground_ids=grounds or [],
                personnummer=personnummer,
                name=name,
                birth_year=birth_year,
                note=note,
                text=text,
                receiving_agency_id=receiving_agency_id or None,
            ),
        )
    except ValidationFailed as exc:
        session.rollback()
        return _form_page(request, session, actor, errors=exc.errors, form=form, status=422)
    return see_other("/aktualiseringar/mina?skickad=1")


@router.get("/aktualiseringar/mina")
def my_referrals(request: Request, session: PageDb, actor: PageActor) -> Response:
    return render(
        request,
        "referral_mine.html",
        {
            "items": referrals.my_referrals(session, actor),
            "sent": request.query_params.get("skickad") == "1",
            "SenderStatus": SenderStatus,
            **_LABELS,
        },
        actor=actor,
    )


_UNDECIDED = [
    ReferralStatus.RECEIVED.value,
    ReferralStatus.UNDER_ASSESSMENT.value,
    ReferralStatus.WAITING.value,
]


@router.get("/aktualiseringar")
def inbox(request: Request, session: PageDb, actor: PageActor) -> Response:
    """Undecided referrals, unless `?visa=alla` asks for the decided ones too."""
    show_all = request.query_params.get("visa") == "alla"
    return render(
        request,
        "referral_inbox.html",
        {
            "groups": referrals.inbox(session, actor, statuses=None if show_all else _UNDECIDED),
            "show_all": show_all,
            "handed_over": request.query_params.get("overlamnad") == "1",
            **_LABELS,
        },
        actor=actor,
    )


def _triage_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    referral_id: uuid.UUID,
    *,
    errors: list[FieldError] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    shown = errors or []
    view = referrals.get_referral(session, actor, referral_id=referral_id)
    return render(
        request,
        "referral.html",
        {
            "view": view,
            "r": view.item.referral,
            "open_status": view.item.referral.status
            not in (ReferralStatus.TAKEN_UP.value, ReferralStatus.NOT_TAKEN_UP.value),
            "errors": shown,
            "by_field": {e.field: e.message for e in shown},
            "form": form or {},
            "genders": [(g.value, GENDER_LABELS[g]) for g in Gender],
            "decided": request.query_params.get("beslut") == "1",
            "can_open_case": actor.can(Permission.OPEN_CASE),
            "other_units": [
                unit
                for unit in referrals.receiving_agencies_for_triage(session, actor)
                if unit.id != view.item.referral.receiving_agency_id
            ],
            "past_capacity": request.query_params.get("kapacitet") == "1",
            **_LABELS,
        },
        status=status,
        actor=actor,
    )


@router.get("/aktualiseringar/{referral_id}")
def referral_page(
    request: Request, session: PageDb, actor: PageActor, referral_id: uuid.UUID
) -> Response:
    return _triage_page(request, session, actor, referral_id)


@router.post("/aktualiseringar/{referral_id}/beslut")
def decide(
    request: Request,
    session: PageDb,
    actor: PageActor,
    referral_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
    decision: Annotated[str, Form(max_length=32)] = "",
    programme: Annotated[str, Form(max_length=8)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    crime_criteria_met: Annotated[str, Form(max_length=8)] = "",
    personnummer: Annotated[str, Form(max_length=20)] = "",
    first_name: Annotated[str, Form(max_length=200)] = "",
    last_name: Annotated[str, Form(max_length=200)] = "",
    gender: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    form = {
        "decision": decision,
        "programme": programme,
        "reason": reason,
        "crime_criteria_met": crime_criteria_met,
        "personnummer": personnummer,
        "first_name": first_name,
        "last_name": last_name,
        "gender": gender,
    }
    criteria = {"ja": True, "nej": False}.get(crime_criteria_met)
    try:
        result = referrals.decide(
            session,
            actor,
            index=request.app.state.keys.blind_index,
            referral_id=referral_id,
            data=DecisionInput(
                decision=decision,
                version=version,
                programme=programme or None,
                reason=reason,
                crime_criteria_met=criteria,
                personnummer=personnummer,
                first_name=first_name,
                last_name=last_name,
                gender=gender,
            ),
        )
    except ValidationFailed as exc:
        session.rollback()
        return _triage_page(
            request, session, actor, referral_id, errors=exc.errors, form=form, status=422
        )
    if result.warnings:  # opened past capacity: allowed, and said on the page
        return see_other(f"/aktualiseringar/{referral_id}?beslut=1&kapacitet=1")
    return see_other(f"/aktualiseringar/{referral_id}?beslut=1")


@router.post("/aktualiseringar/{referral_id}/overlamna")
def hand_over(
    request: Request,
    session: PageDb,
    actor: PageActor,
    referral_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
    receiving_agency_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    try:
        referrals.hand_over(
            session,
            actor,
            referral_id=referral_id,
            receiving_agency_id=receiving_agency_id,
            version=version,
        )
    except ValidationFailed as exc:
        session.rollback()
        return _triage_page(
            request,
            session,
            actor,
            referral_id,
            errors=exc.errors,
            form={"receiving_agency_id": receiving_agency_id},
            status=422,
        )
    return see_other("/aktualiseringar?overlamnad=1")


@router.get("/vantelista")
def waiting_list(request: Request, session: PageDb, actor: PageActor) -> Response:
    entries = referrals.waiting_list(session, actor)
    by_programme: dict[str, list[Any]] = {"SSPF": [], "SIG": []}
    for entry in entries:
        by_programme.setdefault(entry.programme, []).append(entry)
    return render(
        request,
        "referral_waiting.html",
        {"by_programme": by_programme, **_LABELS},
        actor=actor,
    )
