"""Meetings and minutes of a case (issue 12). Every rule is the service's; these routes only
translate JSON. Out-of-scope and missing meetings, items and cases answer the same 404."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.meetings import (
    AttendanceIn,
    EmergencyMeetingIn,
    FinaliseIn,
    ItemIn,
    ItemOut,
    ItemPatchIn,
    MeetingIn,
    MeetingOut,
    MeetingPatchIn,
    MeetingSummaryOut,
)
from common.errors import NotFound
from common.roles import Permission
from domain.meetings import calendar
from domain.meetings import service as meetings
from domain.meetings.service import MeetingChanges, MeetingView

router = APIRouter(prefix="/cases/{case_id}", tags=["meetings and minutes"])
_ERRORS = error_responses(401, 403, 404, 409, 422)
MEETING = "/meetings/{meeting_id}"


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def _read(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> MeetingView:
    return meetings.get_meeting(session, actor, case_id=case_id, meeting_id=meeting_id)


def _meeting_out(view: MeetingView, response: Response) -> MeetingOut:
    _etag(response, view.meeting.version)
    return MeetingOut.of_view(view)


def _item_out(view: MeetingView, item_id: uuid.UUID, response: Response) -> ItemOut:
    for item in view.items:
        for found in (item, *item.amendments):
            if found.id == item_id:
                _etag(response, found.version)
                return ItemOut.of(found)
    raise NotFound()  # written, but no longer the writer's to see (never expected)


@router.get(
    "/meetings",
    response_model=list[MeetingSummaryOut],
    responses=_ERRORS,
    dependencies=[requires(Permission.READ_MEETINGS)],
)
def list_meetings(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID
) -> list[MeetingSummaryOut]:
    """The case's meetings, earliest first."""
    return [
        MeetingSummaryOut.of(m) for m in meetings.list_meetings(session, actor, case_id=case_id)
    ]


@router.post(
    "/meetings",
    status_code=201,
    response_model=MeetingOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.MANAGE_MEETINGS)],
)
def schedule(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, body: MeetingIn, response: Response
) -> MeetingOut:
    """Schedule a meeting (the case's own unit or the programme's coordinator). The chair and
    every invited user must be on the team, every guardian the case's young person's."""
    meeting = meetings.schedule_meeting(session, actor, case_id=case_id, data=body.to_input())
    response.headers["Location"] = f"/api/v1/cases/{case_id}/meetings/{meeting.id}"
    return _meeting_out(_read(session, actor, case_id, meeting.id), response)


@router.post(
    "/emergency-meetings",
    status_code=201,
    response_model=MeetingOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.MANAGE_MEETINGS)],
)
def call_emergency(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    body: EmergencyMeetingIn,
    response: Response,
) -> MeetingOut:
    """Call an emergency-stop meeting (nödstoppsmöte) for today or tomorrow: the case owner or
    the programme's coordinator. It tops every team member's start page at once."""
    meeting = meetings.call_emergency_meeting(session, actor, case_id=case_id, data=body.to_input())
    response.headers["Location"] = f"/api/v1/cases/{case_id}/meetings/{meeting.id}"
    return _meeting_out(_read(session, actor, case_id, meeting.id), response)


@router.get(
    MEETING,
    response_model=MeetingOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.READ_MEETINGS)],
)
def read_meeting(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    response: Response,
) -> MeetingOut:
    """The meeting, its attendance and the minute items your agency may see now."""
    return _meeting_out(_read(session, actor, case_id, meeting_id), response)


@router.patch(
    MEETING,
    response_model=MeetingOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.MANAGE_MEETINGS)],
)
def change_meeting(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    body: MeetingPatchIn,
    response: Response,
) -> MeetingOut:
    """Change time, place, chair or status (`cancelled`, or back to `scheduled`). A stale
    `version` gets 409 with `current_version`; final minutes freeze the meeting (409)."""
    meetings.update_meeting(
        session,
        actor,
        case_id=case_id,
        meeting_id=meeting_id,
        changes=MeetingChanges(
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            place=body.place,
            chair_user_id=body.chair_user_id,
            status=body.status,
        ),
        expected_version=body.version,
    )
    return _meeting_out(_read(session, actor, case_id, meeting_id), response)


@router.put(
    MEETING + "/attendance",
    response_model=MeetingOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.MANAGE_MEETINGS)],
)
def record_attendance(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    body: AttendanceIn,
    response: Response,
) -> MeetingOut:
    """Replace the whole attendance list (invited / came / absent)."""
    meetings.record_attendance(
        session,
        actor,
        case_id=case_id,
        meeting_id=meeting_id,
        attendees=[a.to_input() for a in body.attendees],
        expected_version=body.version,
    )
    return _meeting_out(_read(session, actor, case_id, meeting_id), response)


@router.post(
    MEETING + "/items",
    status_code=201,
    response_model=ItemOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.WRITE_MINUTES)],
)
def add_item(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    body: ItemIn,
    response: Response,
) -> ItemOut:
    """Add an item to draft minutes (a team member, in a category they may read)."""
    item = meetings.add_item(
        session, actor, case_id=case_id, meeting_id=meeting_id, data=body.to_input()
    )
    return _item_out(_read(session, actor, case_id, meeting_id), item.id, response)


@router.patch(
    MEETING + "/items/{item_id}",
    response_model=ItemOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.WRITE_MINUTES)],
)
def edit_item(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    body: ItemPatchIn,
    response: Response,
) -> ItemOut:
    """Edit your own item while the minutes are a draft (a final item: 409)."""
    meetings.edit_item(
        session,
        actor,
        case_id=case_id,
        meeting_id=meeting_id,
        item_id=item_id,
        data=body.to_input(),
        expected_version=body.version,
    )
    return _item_out(_read(session, actor, case_id, meeting_id), item_id, response)


@router.post(
    MEETING + "/finalise",
    response_model=MeetingOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.WRITE_MINUTES)],
)
def finalise(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    body: FinaliseIn,
    response: Response,
) -> MeetingOut:
    """Finalise the minutes (the chair). Finalising twice gets 409."""
    meetings.finalise(
        session, actor, case_id=case_id, meeting_id=meeting_id, expected_version=body.version
    )
    return _meeting_out(_read(session, actor, case_id, meeting_id), response)


@router.post(
    MEETING + "/items/{item_id}/amendments",
    status_code=201,
    response_model=ItemOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.WRITE_MINUTES)],
)
def amend_item(
    session: DbSession,
    actor: CurrentActor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    body: ItemIn,
    response: Response,
) -> ItemOut:
    """Correct an item of final minutes (its author or the chair): a new item beside it.
    Amending a draft gets 409."""
    item = meetings.amend_item(
        session,
        actor,
        case_id=case_id,
        meeting_id=meeting_id,
        item_id=item_id,
        data=body.to_input(),
    )
    return _item_out(_read(session, actor, case_id, meeting_id), item.id, response)


@router.get(
    MEETING + "/invitation.ics",
    response_class=Response,
    responses={
        **_ERRORS,
        200: {"content": {calendar.MEDIA_TYPE: {}}, "description": "An iCalendar file"},
    },
    dependencies=[requires(Permission.READ_MEETINGS)],
)
def invitation(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> Response:
    """The calendar invitation (RFC 5545): case reference, kind, time and place, never a name
    or personnummer. Downloading it is audited as an export."""
    data = meetings.invitation(session, actor, case_id=case_id, meeting_id=meeting_id)
    return Response(
        content=data,
        media_type=f"{calendar.MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="mote-{meeting_id}.ics"'},
    )
