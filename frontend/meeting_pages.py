"""Pages for a case's meetings and minutes, and the print view of the minutes (issue 12).

Every rule is `domain.meetings.service`'s; these handlers translate forms. Bad input shows the
form again with the Swedish error of the field and the user's input kept, and nothing is
stored (the transaction is rolled back before the page is drawn again). A missing meeting and
one the reader may not see answer the same 404 page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from common.clock import today, utcnow
from common.errors import Conflict, FieldError, StaleVersion, ValidationFailed
from common.roles import Permission
from consent.rules import CATEGORY_LABELS
from domain.agencies.repository import AgencyRepository
from domain.cases import service as cases
from domain.cases.service import CaseView
from domain.consents import service as consents
from domain.meetings import calendar
from domain.meetings import service as meetings
from domain.meetings.rules import (
    ATTENDANCE_LABELS,
    MEETING_KIND_LABELS,
    AttendanceStatus,
    AttendeeKind,
    MeetingKind,
    forbidden,
)
from domain.meetings.service import AttendeeInput, ItemInput, MeetingInput, MeetingView
from frontend import csrf
from frontend.deps import PageActor, PageDb
from frontend.render import render, see_other

router = APIRouter(include_in_schema=False)
LIST = "/arenden/{case_id}/moten"
MEETING = LIST + "/{meeting_id}"

VISIBILITY_LABELS = {
    "team": "Teamet, inom samtycket",
    "own_agency": "Bara min organisation",
}
MINUTES_LABELS = {"draft": "Utkast", "final": "Justerat"}
STATUS_LABELS = {"scheduled": "Planerat", "cancelled": "Inställt"}
ATTENDEE_KIND_LABELS = {
    "user": "Teamet",
    "young_person": "Den unga",
    "guardian": "Vårdnadshavare",
    "other": "Övrig",
}
# A value no team member or guardian has: an unreadable id fails the service's own check
# ("must be on the team"), after the access decision, with the service's Swedish message.
_NOBODY = uuid.UUID(int=0)

LABELS: dict[str, Any] = {
    "kind_labels": {k.value: v for k, v in MEETING_KIND_LABELS.items()},
    "attendance_labels": {k.value: v for k, v in ATTENDANCE_LABELS.items()},
    "visibility_labels": VISIBILITY_LABELS,
    "minutes_labels": MINUTES_LABELS,
    "status_labels": STATUS_LABELS,
    "attendee_kind_labels": ATTENDEE_KIND_LABELS,
    "category_names": {c.value: label for c, label in CATEGORY_LABELS.items()},
}


def _uuid(value: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return _NOBODY


def _prefixed(errors: Sequence[FieldError], prefix: str) -> list[FieldError]:
    """The service names fields (`place`, `attendees.2.user_id`); the page has several forms,
    so each field's id carries its form's prefix (`schedule-place`)."""
    shown = []
    for e in errors:
        name = "attendees" if e.field.startswith("attendees") else e.field
        shown.append(FieldError(f"{prefix}-{name}", e.message, e.english))
    return shown


def _rollback_and(
    session: PageDb,
    attempt: Callable[[], object],
    again: Callable[[list[FieldError], int], Response],
) -> Response | None:
    """Run the write; on bad input or a conflict roll back and return the page drawn again."""
    try:
        attempt()
    except ValidationFailed as exc:
        session.rollback()
        return again(exc.errors, 422)
    except (StaleVersion, Conflict) as exc:
        session.rollback()
        return again([FieldError("form", exc.detail, exc.english)], 409)
    return None


# --- the list of a case's meetings ---------------------------------------------------------


def _may_call_emergency(actor: PageActor, view: CaseView) -> bool:
    case = view.case
    return actor.user_id == case.owner_user_id or case.programme in actor.programmes


def _list_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    *,
    errors: list[FieldError] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    found = meetings.list_meetings(session, actor, case_id=case_id)
    view = cases.get_case(session, actor, case_id=case_id)
    manages = actor.can(Permission.MANAGE_MEETINGS) and view.managed
    errors = errors or []
    return render(
        request,
        "meetings.html",
        {
            **LABELS,
            "view": view,
            "meetings": found,
            "manages": manages,
            "calls_emergency": manages and _may_call_emergency(actor, view),
            "errors": errors,
            "by_field": {e.field: e.message for e in errors},
            "form": form or {},
            "today": today(),
            "tomorrow": today() + timedelta(days=1),
            "kinds": [k for k in MeetingKind if k is not MeetingKind.EMERGENCY_STOP],
        },
        status=status,
        actor=actor,
    )


@router.get(LIST)
def meeting_list(
    request: Request, session: PageDb, actor: PageActor, case_id: uuid.UUID
) -> Response:
    return _list_page(request, session, actor, case_id)


def _clock(value: str, field: str, errors: list[FieldError]) -> time | None:
    try:
        return time.fromisoformat(value)
    except ValueError:
        errors.append(
            FieldError(field, "Ange klockslag som TT:MM.", "Give the time of day as HH:MM.")
        )
        return None


def _day(value: str, field: str, errors: list[FieldError]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(
            FieldError(field, "Ange datum som ÅÅÅÅ-MM-DD.", "Give the date as YYYY-MM-DD.")
        )
        return None


def _invitees(
    users: Sequence[str], young_person: str, guardians: Sequence[str]
) -> list[AttendeeInput]:
    invited = [AttendeeInput(kind="user", user_id=_uuid(u)) for u in users]
    if young_person:
        invited.append(AttendeeInput(kind="young_person"))
    invited += [AttendeeInput(kind="guardian", guardian_id=_uuid(g)) for g in guardians]
    return invited


def _create(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    *,
    prefix: str,
    form: dict[str, Any],
    day: date | None,
    errors: list[FieldError],
    emergency: bool,
) -> Response:
    # The access decision first: a reader who may not run this case's meetings gets the 404
    # (or 403) page whatever the form holds.
    case, scope = consents.managed_case(session, actor, case_id, Permission.MANAGE_MEETINGS)
    if emergency and actor.user_id != case.owner_user_id and case.programme not in scope.programmes:
        # As the service decides it, and before the form is read, like the JSON API.
        raise forbidden(
            "Bara ärendeägaren eller samordnaren kan kalla till nödstoppsmöte.",
            "Only the case owner or the programme's coordinator calls an emergency-stop meeting.",
        )
    starts = _clock(form["starts"], "starts_at", errors)
    ends = _clock(form["ends"], "ends_at", errors)
    created: list[uuid.UUID] = []

    def attempt() -> None:
        if errors or day is None or starts is None or ends is None:
            raise ValidationFailed(errors)
        data = MeetingInput(
            kind=form.get("kind", MeetingKind.EMERGENCY_STOP.value),
            starts_at=datetime.combine(day, starts),
            ends_at=datetime.combine(day, ends),
            place=form["place"],
            chair_user_id=_uuid(form["chair"]),
            attendees=_invitees(form["invited"], form["young_person"], form["guardians"]),
        )
        write = meetings.call_emergency_meeting if emergency else meetings.schedule_meeting
        created.append(write(session, actor, case_id=case_id, data=data).id)

    def again(problems: list[FieldError], status: int) -> Response:
        return _list_page(
            request,
            session,
            actor,
            case_id,
            errors=_prefixed(problems, prefix),
            form={**form, "active": prefix},
            status=status,
        )

    refused = _rollback_and(session, attempt, again)
    return refused or see_other(f"/arenden/{case_id}/moten/{created[0]}?nytt=1")


@router.post(LIST)
def schedule(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    starts: Annotated[str, Form(max_length=8)] = "",
    ends: Annotated[str, Form(max_length=8)] = "",
    place: Annotated[str, Form(max_length=1000)] = "",
    chair: Annotated[str, Form(max_length=40)] = "",
    invited: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    young_person: Annotated[str, Form(max_length=8)] = "",
    guardians: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    csrf.check(request, csrf_token)
    errors: list[FieldError] = []
    form = {
        "kind": kind,
        "day": day,
        "starts": starts,
        "ends": ends,
        "place": place,
        "chair": chair,
        "invited": invited,
        "young_person": young_person,
        "guardians": guardians,
    }
    chosen = _day(day, "day", errors)
    return _create(
        request,
        session,
        actor,
        case_id,
        prefix="schedule",
        form=form,
        day=chosen,
        errors=errors,
        emergency=False,
    )


@router.post(LIST + "/nodstopp")
def call_emergency(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    when: Annotated[str, Form(max_length=16)] = "",
    starts: Annotated[str, Form(max_length=8)] = "",
    ends: Annotated[str, Form(max_length=8)] = "",
    place: Annotated[str, Form(max_length=1000)] = "",
    chair: Annotated[str, Form(max_length=40)] = "",
    invited: Annotated[list[str], Form()] = [],  # noqa: B006
    young_person: Annotated[str, Form(max_length=8)] = "",
    guardians: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    csrf.check(request, csrf_token)
    errors: list[FieldError] = []
    form = {
        "when": when,
        "starts": starts,
        "ends": ends,
        "place": place,
        "chair": chair,
        "invited": invited,
        "young_person": young_person,
        "guardians": guardians,
    }
    days = {"today": today(), "tomorrow": today() + timedelta(days=1)}
    if when not in days:
        errors.append(FieldError("when", "Välj i dag eller i morgon.", "Choose today or tomorrow."))
    return _create(
        request,
        session,
        actor,
        case_id,
        prefix="emergency",
        form=form,
        day=days.get(when),
        errors=errors,
        emergency=True,
    )


# --- one meeting ---------------------------------------------------------------------------


def _meeting_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    *,
    errors: list[FieldError] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    view = meetings.get_meeting(session, actor, case_id=case_id, meeting_id=meeting_id)
    # The case's team, guardians and the categories the reader may write in, for the forms.
    case_view = (
        cases.get_case(session, actor, case_id=case_id) if view.manages or view.writes else None
    )
    errors = errors or []
    return render(
        request,
        "meeting.html",
        {
            **LABELS,
            "view": view,
            "m": view.meeting,
            "case_view": case_view,
            "rows": _attendance_rows(view, case_view) if view.manages else [],
            "writable": sorted(
                (c.value for c in case_view.categories), key=list(CATEGORY_LABELS).index
            )
            if case_view
            else [],
            "errors": errors,
            "by_field": {e.field: e.message for e in errors},
            "form": form or {},
            "statuses": [s.value for s in AttendanceStatus],
        },
        status=status,
        actor=actor,
    )


def _attendance_rows(view: MeetingView, case_view: CaseView | None) -> list[dict[str, Any]]:
    """Everyone who could be on the attendance list: those on it with their status, then the
    young person, the guardians and the team members not on it yet (status "")."""
    rows: list[dict[str, Any]] = []
    listed: set[tuple[str, str]] = set()
    for a in view.attendees:
        ref = str(a.user_id or a.guardian_id or "")
        listed.add((a.kind, ref))
        rows.append(
            {
                "kind": a.kind,
                "ref": ref,
                "name": a.name,
                "role": a.role_text or "",
                "status": a.status,
            }
        )
    if case_view is None:
        return rows
    extra = [("young_person", "", case_view.young_person.full_name, "")]
    extra += [("guardian", str(g.id), g.name, "") for g in case_view.young_person.guardians or ()]
    extra += [("user", str(m.user_id), m.display_name, m.agency_name) for m in case_view.team]
    for kind, ref, name, role in extra:
        if (kind, ref) not in listed:
            rows.append({"kind": kind, "ref": ref, "name": name, "role": role, "status": ""})
    return rows


@router.get(MEETING)
def meeting_page(
    request: Request, session: PageDb, actor: PageActor, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> Response:
    return _meeting_page(request, session, actor, case_id, meeting_id)


def _again(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    prefix: str,
    form: dict[str, Any],
) -> Callable[[list[FieldError], int], Response]:
    def draw(problems: list[FieldError], status: int) -> Response:
        return _meeting_page(
            request,
            session,
            actor,
            case_id,
            meeting_id,
            errors=_prefixed(problems, prefix),
            form={**form, "active": prefix},
            status=status,
        )

    return draw


def _back(case_id: uuid.UUID, meeting_id: uuid.UUID, done: str) -> Response:
    return see_other(f"/arenden/{case_id}/moten/{meeting_id}?{done}=1")


@router.post(MEETING + "/narvaro")
def record_attendance(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
    row_kind: Annotated[list[str], Form()] = [],  # noqa: B006
    row_ref: Annotated[list[str], Form()] = [],  # noqa: B006
    row_name: Annotated[list[str], Form()] = [],  # noqa: B006
    row_role: Annotated[list[str], Form()] = [],  # noqa: B006
    row_status: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """The whole list at once: each row's status ("" leaves the row off the list)."""
    csrf.check(request, csrf_token)
    count = len(row_kind)
    columns = [row_ref, row_name, row_role, row_status]
    if any(len(column) != count for column in columns):
        raise ValidationFailed.one("attendees", "Formuläret är ofullständigt. Ladda om sidan.")
    given: list[AttendeeInput] = []
    positions: list[int] = []  # the form row of each attendee given to the service
    for number in range(count):
        if not row_status[number]:
            continue
        kind, ref = row_kind[number], row_ref[number]
        given.append(
            AttendeeInput(
                kind=kind,
                user_id=_uuid(ref) if kind == AttendeeKind.USER else None,
                guardian_id=_uuid(ref) if kind == AttendeeKind.GUARDIAN else None,
                name=row_name[number] if kind == AttendeeKind.OTHER else None,
                role=row_role[number] if kind == AttendeeKind.OTHER else None,
                status=row_status[number],
            )
        )
        positions.append(number)
    form = {
        "rows": [
            {"kind": k, "ref": r, "name": n, "role": o, "status": s}
            for k, r, n, o, s in zip(row_kind, row_ref, row_name, row_role, row_status, strict=True)
        ]
    }

    def attempt() -> None:
        meetings.record_attendance(
            session,
            actor,
            case_id=case_id,
            meeting_id=meeting_id,
            attendees=given,
            expected_version=version,
        )

    def again(problems: list[FieldError], status: int) -> Response:
        shown = []
        for e in problems:
            parts = e.field.split(".")
            if len(parts) >= 2 and parts[0] == "attendees" and parts[1].isdigit():
                row = positions[int(parts[1])] if int(parts[1]) < len(positions) else 0
                column = parts[2] if len(parts) > 2 and parts[2] in ("name", "role") else "status"
                shown.append(FieldError(f"row-{row}-{column}", e.message, e.english))
            else:
                shown.append(FieldError(f"attendance-{e.field}", e.message, e.english))
        return _meeting_page(
            request,
            session,
            actor,
            case_id,
            meeting_id,
            errors=shown,
            form={**form, "active": "attendance"},
            status=status,
        )

    refused = _rollback_and(session, attempt, again)
    return refused or _back(case_id, meeting_id, "narvaro")


def _item_form(
    heading: str, text: str, category: str, visibility: str, decision: str
) -> tuple[ItemInput, dict[str, Any]]:
    data = ItemInput(
        heading=heading,
        text=text,
        category=category,
        visibility=visibility,
        decision=bool(decision),
    )
    form = {
        "heading": heading,
        "text": text,
        "category": category,
        "visibility": visibility,
        "decision": bool(decision),
    }
    return data, form


@router.post(MEETING + "/punkter")
def add_item(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    heading: Annotated[str, Form(max_length=1000)] = "",
    text: Annotated[str, Form(max_length=20_000)] = "",
    category: Annotated[str, Form(max_length=32)] = "",
    visibility: Annotated[str, Form(max_length=16)] = "team",
    decision: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    data, form = _item_form(heading, text, category, visibility, decision)
    refused = _rollback_and(
        session,
        lambda: meetings.add_item(
            session, actor, case_id=case_id, meeting_id=meeting_id, data=data
        ),
        _again(request, session, actor, case_id, meeting_id, "item", form),
    )
    return refused or _back(case_id, meeting_id, "punkt")


@router.post(MEETING + "/punkter/{item_id}")
def edit_item(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
    heading: Annotated[str, Form(max_length=1000)] = "",
    text: Annotated[str, Form(max_length=20_000)] = "",
    category: Annotated[str, Form(max_length=32)] = "",
    visibility: Annotated[str, Form(max_length=16)] = "team",
    decision: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Edit one's own draft item from the version shown; a stale version shows the conflict
    message with the user's text kept in the form."""
    csrf.check(request, csrf_token)
    data, form = _item_form(heading, text, category, visibility, decision)
    refused = _rollback_and(
        session,
        lambda: meetings.edit_item(
            session,
            actor,
            case_id=case_id,
            meeting_id=meeting_id,
            item_id=item_id,
            data=data,
            expected_version=version,
        ),
        _again(request, session, actor, case_id, meeting_id, f"edit-{item_id}", form),
    )
    return refused or _back(case_id, meeting_id, "andrad")


@router.post(MEETING + "/punkter/{item_id}/rattelse")
def amend_item(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    heading: Annotated[str, Form(max_length=1000)] = "",
    text: Annotated[str, Form(max_length=20_000)] = "",
    category: Annotated[str, Form(max_length=32)] = "",
    visibility: Annotated[str, Form(max_length=16)] = "team",
    decision: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    data, form = _item_form(heading, text, category, visibility, decision)
    refused = _rollback_and(
        session,
        lambda: meetings.amend_item(
            session, actor, case_id=case_id, meeting_id=meeting_id, item_id=item_id, data=data
        ),
        _again(request, session, actor, case_id, meeting_id, f"amend-{item_id}", form),
    )
    return refused or _back(case_id, meeting_id, "rattad")


@router.post(MEETING + "/justera")
def finalise(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
) -> Response:
    csrf.check(request, csrf_token)
    refused = _rollback_and(
        session,
        lambda: meetings.finalise(
            session, actor, case_id=case_id, meeting_id=meeting_id, expected_version=version
        ),
        _again(request, session, actor, case_id, meeting_id, "finalise", {}),
    )
    return refused or _back(case_id, meeting_id, "justerat")


@router.get(MEETING + "/kalender.ics")
def invitation(
    session: PageDb, actor: PageActor, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> Response:
    """The same bytes as the API's invitation.ics, reachable with the browser session."""
    data = meetings.invitation(session, actor, case_id=case_id, meeting_id=meeting_id)
    return Response(
        content=data,
        media_type=f"{calendar.MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="mote-{meeting_id}.ics"'},
    )


@router.get(MEETING + "/utskrift")
def print_view(
    request: Request, session: PageDb, actor: PageActor, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> Response:
    """The minutes as this reader may see them, for paper or PDF: audited as an export."""
    view = meetings.minutes_for_print(session, actor, case_id=case_id, meeting_id=meeting_id)
    agency = AgencyRepository(session).get(actor.agency_id)
    return render(
        request,
        "minutes_print.html",
        {
            **LABELS,
            "view": view,
            "m": view.meeting,
            "agency_name": agency.name if agency else "",
            "printed_at": utcnow(),
        },
        actor=actor,
    )
