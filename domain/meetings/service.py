"""Use cases for meetings and minutes: the one entry for the JSON API and the pages.

Who does what (issue 12; the pure checks are in `domain.meetings.rules`):
- reading: anyone who sees the case (`READ_MEETINGS`); a meeting's header and attendance are
  participation (category `basic`), its items are shared entries filtered by the scope;
- scheduling, changing, cancelling a meeting and recording attendance: `MANAGE_MEETINGS` on a
  case the actor manages (its own unit, or the programme's coordinator); an emergency-stop
  meeting only by the case owner or the programme's coordinator;
- writing items: `WRITE_MINUTES`, for a team member (or a manager) of a case they see, in the
  categories they may read of it; finalising: the chair; amending: the author or the chair.

Every read is an audit event whose basis is `scope.basis_for(case)` (naming the consent
records for a partner) and the ids of the items shown; printing and the calendar file are
audited as exports.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import STOCKHOLM, utcnow
from common.errors import FieldError, NotFound, StaleVersion, ValidationFailed
from common.roles import Permission
from consent.rules import Category
from consent.scope import CaseScope
from domain.access import case_scope
from domain.agencies.models import Agency
from domain.cases.models import Case
from domain.cases.repository import CaseRepository
from domain.meetings import calendar
from domain.meetings.models import Meeting, MeetingAttendee, MinuteItem
from domain.meetings.repository import MeetingRepository
from domain.meetings.rules import (
    MAX_ATTENDEES,
    MAX_HEADING,
    MAX_NAME,
    MAX_PLACE,
    MAX_TEXT,
    AttendanceStatus,
    AttendeeKind,
    ItemView,
    MeetingKind,
    MeetingStatus,
    MinutesState,
    attendee_name,
    category_errors,
    check_amendable,
    check_finalisable,
    check_item_editable,
    check_items_addable,
    check_meeting_changeable,
    check_open_for_meetings,
    emergency_start_errors,
    forbidden,
    group_items,
    in_emergency_window,
    parse_category,
    parse_kind,
    parse_visibility,
    text_errors,
    time_errors,
)
from domain.people.repository import YoungPersonRepository
from domain.referrals.repository import record_first_meeting
from domain.users.models import User

MAX_START_PAGE = 100


# --- input ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendeeInput:
    kind: str
    user_id: uuid.UUID | None = None
    guardian_id: uuid.UUID | None = None
    name: str | None = None  # for `other`
    role: str | None = None  # for `other`: their role, as text
    status: str = AttendanceStatus.INVITED.value


@dataclass(frozen=True)
class MeetingInput:
    kind: str
    starts_at: datetime  # naive: Europe/Stockholm
    ends_at: datetime
    place: str
    chair_user_id: uuid.UUID | None = None  # None: the actor
    attendees: Sequence[AttendeeInput] = field(default_factory=tuple)


@dataclass(frozen=True)
class MeetingChanges:
    """A change of a meeting's header; None leaves a field as it is."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: str | None = None
    chair_user_id: uuid.UUID | None = None
    status: str | None = None


@dataclass(frozen=True)
class ItemInput:
    heading: str
    text: str
    category: str
    visibility: str = "team"
    decision: bool = False


# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendeeView:
    id: uuid.UUID
    kind: str
    status: str
    name: str  # as the reader may see it ("Vårdnadshavare" without category `social`)
    role_text: str | None  # an `other` attendee's role; a user's agency
    user_id: uuid.UUID | None
    guardian_id: uuid.UUID | None  # None when the reader may not see the guardian


@dataclass(frozen=True)
class MeetingSummary:
    id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    place: str
    status: str
    minutes_state: str
    finalised_at: datetime | None
    chair_user_id: uuid.UUID | None  # None: the chair's agency is not the reader's to know
    chair_name: str | None
    version: int
    sequence: int

    @property
    def is_emergency(self) -> bool:
        return self.kind == MeetingKind.EMERGENCY_STOP


@dataclass(frozen=True)
class MeetingView:
    """One reader's view of a meeting and its minutes, decided here."""

    meeting: MeetingSummary
    attendees: tuple[AttendeeView, ...]
    items: tuple[ItemView, ...]  # originals, each with its amendments
    manages: bool  # the reader may change the meeting and record attendance
    writes: bool  # the reader may add items (to a draft) or amendments (to final minutes)
    chairs: bool  # the reader chairs the meeting (finalises the minutes)


@dataclass(frozen=True)
class StartPageMeeting:
    meeting: MeetingSummary
    emergency: bool  # an emergency-stop meeting today or tomorrow: first on the start page


# --- access --------------------------------------------------------------------------------


def _visible_case(
    session: Session, actor: Actor, case_id: uuid.UUID, permission: Permission
) -> tuple[Case, CaseScope]:
    actor.require(permission)
    scope = case_scope(session, actor)
    case = CaseRepository(session, scope).get(case_id)
    if case is None:
        raise NotFound()
    return case, scope


def _managed_case(session: Session, actor: Actor, case_id: uuid.UUID) -> tuple[Case, CaseScope]:
    """Partners and break-glass readers see a case's meetings; only its own unit or the
    coordinator runs them (as `domain.consents.service.managed_case`)."""
    case, scope = _visible_case(session, actor, case_id, Permission.MANAGE_MEETINGS)
    if not scope.manages(case):
        raise NotFound()
    return case, scope


def _meeting(repo: MeetingRepository, case: Case, meeting_id: uuid.UUID) -> Meeting:
    meeting = repo.get(case.id, meeting_id)
    if meeting is None:
        raise NotFound()
    return meeting


def _may_write(repo: MeetingRepository, scope: CaseScope, case: Case, actor: Actor) -> bool:
    """A manager of the case or a member of its team (a break-glass reader only reads)."""
    return scope.manages(case) or actor.user_id in repo.team_user_ids(case.id)


def _require_writer(repo: MeetingRepository, scope: CaseScope, case: Case, actor: Actor) -> None:
    if not _may_write(repo, scope, case, actor):
        raise forbidden(
            "Bara ärendets team skriver i protokollet.",
            "Only the case's team writes minutes.",
        )


def _check_version(meeting: Meeting, expected: int) -> None:
    if meeting.version != expected:
        raise StaleVersion(current_version=meeting.version)


def _claim(
    repo: MeetingRepository, meeting: Meeting, expected: int, *, raise_sequence: bool
) -> None:
    if not repo.claim_meeting(meeting, expected, raise_sequence=raise_sequence):
        raise StaleVersion(current_version=repo.current_version(meeting))


# --- validation ----------------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    """A time without a zone is Stockholm time, as on the pages."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=STOCKHOLM)
    return value.astimezone(UTC)


def _place(errors: list[FieldError], value: str | None) -> str | None:
    place, problems = text_errors(
        "place", value, label="plats", english="place", max_length=MAX_PLACE, required=True
    )
    errors.extend(problems)
    return place


def _chair(errors: list[FieldError], chair: uuid.UUID, team: set[uuid.UUID]) -> uuid.UUID:
    if chair not in team:
        errors.append(
            FieldError(
                "chair_user_id",
                "Ordföranden måste ingå i ärendets team.",
                "The chair must be a member of the case's team.",
            )
        )
    return chair


def _attendees(
    errors: list[FieldError],
    given: Sequence[AttendeeInput],
    *,
    meeting_id: uuid.UUID,
    team: set[uuid.UUID],
    guardians: set[uuid.UUID],
) -> list[MeetingAttendee]:
    """Attendance rows from input, each problem named by its field (`attendees.2.user_id`)."""
    if len(given) > MAX_ATTENDEES:
        errors.append(
            FieldError(
                "attendees",
                f"Högst {MAX_ATTENDEES} deltagare.",
                f"At most {MAX_ATTENDEES} attendees.",
            )
        )
        return []
    rows: list[MeetingAttendee] = []
    seen: set[tuple[str, uuid.UUID | None]] = set()
    for number, attendee in enumerate(given):
        prefix = f"attendees.{number}"
        try:
            kind = AttendeeKind(attendee.kind)
        except ValueError:
            errors.append(
                FieldError(
                    f"{prefix}.kind",
                    "Välj vilken sorts deltagare det är.",
                    "kind must be user, young_person, guardian or other.",
                )
            )
            continue
        try:
            status = AttendanceStatus(attendee.status)
        except ValueError:
            errors.append(
                FieldError(
                    f"{prefix}.status",
                    "Välj kallad, närvarande eller kom inte.",
                    "status must be invited, came or absent.",
                )
            )
            continue
        row = MeetingAttendee(meeting_id=meeting_id, kind=kind.value, status=status.value)
        key: tuple[str, uuid.UUID | None] | None = None
        if kind is AttendeeKind.USER:
            if attendee.user_id is None or attendee.user_id not in team:
                errors.append(
                    FieldError(
                        f"{prefix}.user_id",
                        "Deltagaren måste ingå i ärendets team.",
                        "The attendee must be a member of the case's team.",
                    )
                )
                continue
            row.user_id = attendee.user_id
            key = (kind.value, attendee.user_id)
        elif kind is AttendeeKind.GUARDIAN:
            if attendee.guardian_id is None or attendee.guardian_id not in guardians:
                errors.append(
                    FieldError(
                        f"{prefix}.guardian_id",
                        "Välj en vårdnadshavare till den unga personen i ärendet.",
                        "The guardian must be a guardian of this case's young person.",
                    )
                )
                continue
            row.guardian_id = attendee.guardian_id
            key = (kind.value, attendee.guardian_id)
        elif kind is AttendeeKind.YOUNG_PERSON:
            key = (kind.value, None)
        else:
            name, problems = text_errors(
                f"{prefix}.name",
                attendee.name,
                label="namn",
                english="name",
                max_length=MAX_NAME,
                required=True,
            )
            role, role_problems = text_errors(
                f"{prefix}.role",
                attendee.role,
                label="roll",
                english="role",
                max_length=MAX_NAME,
                required=False,
            )
            errors.extend(problems + role_problems)
            if problems or role_problems:
                continue
            row.name, row.role_text = name, role
        if key is not None:
            if key in seen:
                errors.append(
                    FieldError(
                        prefix, "Deltagaren finns redan i listan.", "The attendee is listed twice."
                    )
                )
                continue
            seen.add(key)
        rows.append(row)
    return rows


def _item_fields(data: ItemInput, *, writable: frozenset[Category]) -> tuple[str, str, str, str]:
    """Heading, text, category and visibility of an item, checked; every problem at once."""
    errors: list[FieldError] = []
    heading, problems = text_errors(
        "heading",
        data.heading,
        label="rubrik",
        english="heading",
        max_length=MAX_HEADING,
        required=True,
    )
    errors.extend(problems)
    text, problems = text_errors(
        "text", data.text, label="text", english="text", max_length=MAX_TEXT, required=True
    )
    errors.extend(problems)
    category: str | None = None
    try:
        chosen = parse_category(data.category)
        errors.extend(category_errors(chosen, writable=writable))
        category = chosen.value
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    visibility: str | None = None
    try:
        visibility = parse_visibility(data.visibility).value
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors or not (heading and text and category and visibility):
        raise ValidationFailed(errors)
    return heading, text, category, visibility


def _guardian_ids(session: Session, scope: CaseScope, case: Case) -> set[uuid.UUID]:
    people = YoungPersonRepository(session, scope)
    person = people.get(case.young_person_id)
    return {g.id for g in people.guardians_of(person)} if person else set()


# --- views ---------------------------------------------------------------------------------


def _names(
    users: dict[uuid.UUID, tuple[User, Agency]],
    user_id: uuid.UUID | None,
    agencies: frozenset[uuid.UUID] | None,
    actor: Actor,
) -> tuple[User, Agency] | None:
    """A staff member the reader may know of: of an agency the consent covers, the owning
    unit, or the reader's own (`domain.cases.service.visible_team`)."""
    found = users.get(user_id) if user_id else None
    if found is None:
        return None
    agency = found[1]
    if agencies is None or agency.id in agencies or agency.id == actor.agency_id:
        return found
    return None


def _summary(
    meeting: Meeting,
    case: Case,
    users: dict[uuid.UUID, tuple[User, Agency]],
    agencies: frozenset[uuid.UUID] | None,
    actor: Actor,
) -> MeetingSummary:
    chair = _names(users, meeting.chair_user_id, agencies, actor)
    return MeetingSummary(
        id=meeting.id,
        case_id=case.id,
        case_reference=case.reference,
        kind=meeting.kind,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        place=meeting.place,
        status=meeting.status,
        minutes_state=meeting.minutes_state,
        finalised_at=meeting.finalised_at,
        chair_user_id=chair[0].id if chair else None,
        chair_name=chair[0].display_name if chair else None,
        version=meeting.version,
        sequence=meeting.sequence,
    )


def _build_view(
    session: Session,
    actor: Actor,
    scope: CaseScope,
    repo: MeetingRepository,
    case: Case,
    meeting: Meeting,
) -> MeetingView:
    attendees = repo.attendees(meeting)
    items = repo.visible_items(meeting)
    users = repo.users_with_agencies(
        {a.user_id for a in attendees if a.user_id}
        | {item.author_user_id for item in items}
        | {meeting.chair_user_id}
    )
    agencies = scope.agencies_for(case)
    categories = scope.categories_for(case)
    sees_social = Category.SOCIAL in categories
    people = YoungPersonRepository(session, scope)
    person = people.get(case.young_person_id)
    if person is None:  # visible case, invisible person: the scope rules disagree; deny
        raise NotFound()
    guardian_names: dict[uuid.UUID, str] = {}
    if sees_social and any(a.kind == AttendeeKind.GUARDIAN for a in attendees):
        guardian_names = {g.id: g.name for g in people.guardians_of(person)}

    shown: list[AttendeeView] = []
    for attendee in attendees:
        kind = AttendeeKind(attendee.kind)
        staff = _names(users, attendee.user_id, agencies, actor)
        if kind is AttendeeKind.USER and staff is None:
            continue  # a partner does not learn which other agencies take part
        shown.append(
            AttendeeView(
                id=attendee.id,
                kind=kind.value,
                status=attendee.status,
                name=attendee_name(
                    kind,
                    young_person_name=person.full_name,
                    guardian_name=guardian_names.get(attendee.guardian_id)
                    if attendee.guardian_id
                    else None,
                    other_name=attendee.name,
                    user_name=staff[0].display_name if staff else None,
                    sees_social=sees_social,
                ),
                role_text=staff[1].name if staff else attendee.role_text,
                user_id=attendee.user_id,
                guardian_id=attendee.guardian_id if sees_social else None,
            )
        )
    item_views = []
    for item in items:
        author = _names(users, item.author_user_id, agencies, actor)
        item_views.append(
            ItemView(
                id=item.id,
                heading=item.heading,
                text=item.text,
                category=item.category,
                visibility=item.visibility,
                decision=item.decision,
                author_user_id=author[0].id if author else None,
                author_name=author[0].display_name if author else None,
                author_agency_id=author[1].id if author else None,
                author_agency_name=author[1].name if author else None,
                amends_item_id=item.amends_item_id,
                created_at=item.created_at,
                updated_at=item.updated_at,
                version=item.version,
            )
        )
    return MeetingView(
        meeting=_summary(meeting, case, users, agencies, actor),
        attendees=tuple(shown),
        items=group_items(item_views),
        manages=actor.can(Permission.MANAGE_MEETINGS) and scope.manages(case),
        writes=actor.can(Permission.WRITE_MINUTES) and _may_write(repo, scope, case, actor),
        chairs=meeting.chair_user_id == actor.user_id,
    )


def _item_ids(view: MeetingView) -> list[str]:
    return [str(i.id) for item in view.items for i in (item, *item.amendments)]


def _basis(scope: CaseScope, case: Case, **extra: Any) -> dict[str, Any]:
    return {**scope.basis_for(case), **extra}


# --- reads ---------------------------------------------------------------------------------


def list_meetings(
    session: Session, actor: Actor, *, case_id: uuid.UUID
) -> Sequence[MeetingSummary]:
    case, scope = _visible_case(session, actor, case_id, Permission.READ_MEETINGS)
    repo = MeetingRepository(session, scope)
    meetings = repo.meetings_of(case.id)
    users = repo.users_with_agencies({m.chair_user_id for m in meetings})
    agencies = scope.agencies_for(case)
    audit.record(
        session,
        actor,
        action="meeting.list",
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        basis=_basis(scope, case),
    )
    return [_summary(m, case, users, agencies, actor) for m in meetings]


def get_meeting(
    session: Session, actor: Actor, *, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> MeetingView:
    """The meeting with the minute items the reader may see now."""
    return _read(session, actor, case_id, meeting_id, action="meeting.read")


def minutes_for_print(
    session: Session, actor: Actor, *, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> MeetingView:
    """The same view as a read, for the print page: printing discloses, so it is audited as
    an export by this reader."""
    return _read(session, actor, case_id, meeting_id, action="minutes.print", export="print")


def _read(
    session: Session,
    actor: Actor,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    *,
    action: str,
    export: str | None = None,
) -> MeetingView:
    case, scope = _visible_case(session, actor, case_id, Permission.READ_MEETINGS)
    repo = MeetingRepository(session, scope)
    meeting = _meeting(repo, case, meeting_id)
    view = _build_view(session, actor, scope, repo, case, meeting)
    extra: dict[str, Any] = {"minute_items": _item_ids(view)}
    if export:
        extra["export"] = export
    audit.record(
        session,
        actor,
        action=action,
        resource_type="meeting",
        resource_id=meeting.id,
        case_id=case.id,
        basis=_basis(scope, case, **extra),
    )
    return view


def invitation(
    session: Session, actor: Actor, *, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> bytes:
    """The meeting as an iCalendar file (`domain.meetings.calendar`): no name or personnummer,
    since it leaves the system in e-mail. Audited as an export."""
    case, scope = _visible_case(session, actor, case_id, Permission.READ_MEETINGS)
    repo = MeetingRepository(session, scope)
    meeting = _meeting(repo, case, meeting_id)
    audit.record(
        session,
        actor,
        action="meeting.invitation",
        resource_type="meeting",
        resource_id=meeting.id,
        case_id=case.id,
        basis=_basis(scope, case, export="ics"),
    )
    return calendar.invitation(
        uid=meeting.id,
        sequence=meeting.sequence,
        cancelled=meeting.status == MeetingStatus.CANCELLED,
        case_reference=case.reference,
        kind=MeetingKind(meeting.kind),
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        place=meeting.place,
        stamp=utcnow(),
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), STOCKHOLM).astimezone(UTC)


def my_meetings(session: Session, actor: Actor, *, today: date) -> Sequence[StartPageMeeting]:
    """For the start page: meetings from `today` on that the actor is invited to or chairs, or
    of a case the actor owns; and every emergency-stop meeting of today and tomorrow of every
    case the actor is on the team of, or of the programmes they coordinate. Emergencies first,
    then by time. (A social worker's whole unit is not their day: only their own cases.)"""
    actor.require(Permission.READ_MEETINGS)
    scope = case_scope(session, actor)
    repo = MeetingRepository(session, scope)
    rows = repo.upcoming(_day_start(today))
    invited = repo.invited_meeting_ids(actor.user_id, [m.id for m, _ in rows])
    team = CaseRepository(session, scope).team_case_ids(actor.user_id)
    chosen: list[tuple[Meeting, Case, bool]] = []
    for meeting, case in rows:
        on_case = case.id in team or case.programme in scope.programmes
        emergency = (
            meeting.kind == MeetingKind.EMERGENCY_STOP
            and in_emergency_window(meeting.starts_at, today)
            and on_case
        )
        mine = actor.user_id in (meeting.chair_user_id, case.owner_user_id) or meeting.id in invited
        if emergency or mine:
            chosen.append((meeting, case, emergency))
    chosen.sort(key=lambda row: (not row[2], row[0].starts_at, row[0].id))
    chosen = chosen[:MAX_START_PAGE]
    users = repo.users_with_agencies({m.chair_user_id for m, _, _ in chosen})
    _audit_list(session, actor, scope, [case for _, case, _ in chosen], view="my_meetings")
    return [
        StartPageMeeting(
            meeting=_summary(m, case, users, scope.agencies_for(case), actor), emergency=emergency
        )
        for m, case, emergency in chosen
    ]


def my_draft_minutes(session: Session, actor: Actor) -> Sequence[MeetingSummary]:
    """Meetings the actor chairs whose minutes are still a draft, oldest first."""
    actor.require(Permission.READ_MEETINGS)
    scope = case_scope(session, actor)
    repo = MeetingRepository(session, scope)
    rows = list(repo.drafts_chaired_by(actor.user_id))[:MAX_START_PAGE]
    users = repo.users_with_agencies({m.chair_user_id for m, _ in rows})
    _audit_list(session, actor, scope, [case for _, case in rows], view="my_draft_minutes")
    return [_summary(m, case, users, scope.agencies_for(case), actor) for m, case in rows]


def _audit_list(
    session: Session, actor: Actor, scope: CaseScope, cases: Sequence[Case], *, view: str
) -> None:
    """One list read: an event per case shown (as `case.list`), each with its own basis."""
    for case in {case.id: case for case in cases}.values():
        audit.record(
            session,
            actor,
            action="meeting.list",
            resource_type="case",
            resource_id=case.id,
            case_id=case.id,
            basis=_basis(scope, case, view=view),
        )


# --- writes: meetings ----------------------------------------------------------------------


def schedule_meeting(
    session: Session, actor: Actor, *, case_id: uuid.UUID, data: MeetingInput
) -> Meeting:
    case, scope = _managed_case(session, actor, case_id)
    kind = parse_kind(data.kind)
    return _create(session, actor, scope, case, data, kind=kind)


def call_emergency_meeting(
    session: Session, actor: Actor, *, case_id: uuid.UUID, data: MeetingInput
) -> Meeting:
    """An emergency-stop meeting for today or tomorrow, by the case owner or the programme's
    coordinator; the whole team sees it at the top of the start page at once."""
    case, scope = _managed_case(session, actor, case_id)
    if actor.user_id != case.owner_user_id and case.programme not in scope.programmes:
        raise forbidden(
            "Bara ärendeägaren eller samordnaren kan kalla till nödstoppsmöte.",
            "Only the case owner or the programme's coordinator calls an emergency-stop meeting.",
        )
    return _create(session, actor, scope, case, data, kind=MeetingKind.EMERGENCY_STOP)


def _create(
    session: Session,
    actor: Actor,
    scope: CaseScope,
    case: Case,
    data: MeetingInput,
    *,
    kind: MeetingKind,
) -> Meeting:
    repo = MeetingRepository(session, scope)
    errors: list[FieldError] = []
    starts_at, ends_at = _as_utc(data.starts_at), _as_utc(data.ends_at)
    errors.extend(time_errors(starts_at, ends_at))
    if kind is MeetingKind.EMERGENCY_STOP:
        errors.extend(emergency_start_errors(starts_at, utcnow()))
    place = _place(errors, data.place)
    team = repo.team_user_ids(case.id)
    chair = _chair(errors, data.chair_user_id or actor.user_id, team)
    meeting_id = uuid.uuid4()
    attendees = _attendees(
        errors,
        data.attendees,
        meeting_id=meeting_id,
        team=team,
        guardians=_guardian_ids(session, scope, case),
    )
    if errors or place is None:
        raise ValidationFailed(errors)
    check_open_for_meetings(case.state)
    if chair not in {a.user_id for a in attendees}:
        attendees.insert(0, MeetingAttendee(meeting_id=meeting_id, kind="user", user_id=chair))
    meeting = Meeting(
        id=meeting_id,
        case_id=case.id,
        kind=kind.value,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        chair_user_id=chair,
        created_by=actor.user_id,
        created_at=utcnow(),
    )
    repo.add(meeting, attendees)
    audit.record(
        session,
        actor,
        action="meeting.create",
        resource_type="meeting",
        resource_id=meeting.id,
        case_id=case.id,
        basis=_basis(scope, case, kind=kind.value),
    )
    return meeting


def update_meeting(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    changes: MeetingChanges,
    expected_version: int,
) -> Meeting:
    """Time, place, chair or status (cancel, or reinstate). A change of time, place or status
    raises the calendar SEQUENCE. Final minutes freeze the meeting."""
    case, scope = _managed_case(session, actor, case_id)
    repo = MeetingRepository(session, scope)
    meeting = _meeting(repo, case, meeting_id)
    errors: list[FieldError] = []
    starts_at = _as_utc(changes.starts_at) if changes.starts_at else meeting.starts_at
    ends_at = _as_utc(changes.ends_at) if changes.ends_at else meeting.ends_at
    errors.extend(time_errors(starts_at, ends_at))
    if meeting.kind == MeetingKind.EMERGENCY_STOP and starts_at != meeting.starts_at:
        errors.extend(emergency_start_errors(starts_at, utcnow()))
    place = _place(errors, changes.place) if changes.place is not None else meeting.place
    chair = meeting.chair_user_id
    if changes.chair_user_id is not None and changes.chair_user_id != meeting.chair_user_id:
        chair = _chair(errors, changes.chair_user_id, repo.team_user_ids(case.id))
    status = meeting.status
    if changes.status is not None:
        try:
            status = MeetingStatus(changes.status).value
        except ValueError:
            errors.append(
                FieldError(
                    "status",
                    "Välj planerat eller inställt.",
                    "status must be scheduled or cancelled.",
                )
            )
    if errors or place is None:
        raise ValidationFailed(errors)
    check_open_for_meetings(case.state)
    check_meeting_changeable(meeting.minutes_state)
    _check_version(meeting, expected_version)
    calendar_changed = (starts_at, ends_at, place, status) != (
        meeting.starts_at,
        meeting.ends_at,
        meeting.place,
        meeting.status,
    )
    _claim(repo, meeting, expected_version, raise_sequence=calendar_changed)
    cancelled = status == MeetingStatus.CANCELLED and meeting.status != status
    meeting.starts_at, meeting.ends_at, meeting.place = starts_at, ends_at, place
    meeting.chair_user_id, meeting.status = chair, status
    repo.save(meeting)
    audit.record(
        session,
        actor,
        action="meeting.cancel" if cancelled else "meeting.update",
        resource_type="meeting",
        resource_id=meeting.id,
        case_id=case.id,
        basis=_basis(scope, case),
    )
    return meeting


def record_attendance(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    attendees: Sequence[AttendeeInput],
    expected_version: int,
) -> Meeting:
    """Replace the whole attendance list: who was invited, who came, who did not."""
    case, scope = _managed_case(session, actor, case_id)
    repo = MeetingRepository(session, scope)
    meeting = _meeting(repo, case, meeting_id)
    errors: list[FieldError] = []
    rows = _attendees(
        errors,
        attendees,
        meeting_id=meeting.id,
        team=repo.team_user_ids(case.id),
        guardians=_guardian_ids(session, scope, case),
    )
    if errors:
        raise ValidationFailed(errors)
    check_open_for_meetings(case.state)
    check_meeting_changeable(meeting.minutes_state)
    _check_version(meeting, expected_version)
    _claim(repo, meeting, expected_version, raise_sequence=False)
    repo.replace_attendees(meeting, rows)
    audit.record(
        session,
        actor,
        action="meeting.attendance",
        resource_type="meeting",
        resource_id=meeting.id,
        case_id=case.id,
        basis=_basis(scope, case, attendees=len(rows)),
    )
    return meeting


# --- writes: minutes -----------------------------------------------------------------------


def _writer_context(
    session: Session, actor: Actor, case_id: uuid.UUID, meeting_id: uuid.UUID
) -> tuple[Case, CaseScope, MeetingRepository, Meeting]:
    case, scope = _visible_case(session, actor, case_id, Permission.WRITE_MINUTES)
    repo = MeetingRepository(session, scope)
    meeting = _meeting(repo, case, meeting_id)
    _require_writer(repo, scope, case, actor)
    return case, scope, repo, meeting


def add_item(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    data: ItemInput,
) -> MinuteItem:
    case, scope, repo, meeting = _writer_context(session, actor, case_id, meeting_id)
    heading, text, category, visibility = _item_fields(data, writable=scope.categories_for(case))
    check_open_for_meetings(case.state)
    check_items_addable(meeting.minutes_state)
    item = _new_item(actor, case, meeting, heading, text, category, visibility, data.decision)
    repo.add_item(item)
    audit.record(
        session,
        actor,
        action="minutes.item_add",
        resource_type="minute_item",
        resource_id=item.id,
        case_id=case.id,
        basis=_basis(scope, case, meeting_id=str(meeting.id), category=category),
    )
    return item


def _new_item(
    actor: Actor,
    case: Case,
    meeting: Meeting,
    heading: str,
    text: str,
    category: str,
    visibility: str,
    decision: bool,
    amends: uuid.UUID | None = None,
) -> MinuteItem:
    now = utcnow()
    return MinuteItem(
        meeting_id=meeting.id,
        case_id=case.id,
        heading=heading,
        text=text,
        category=category,
        visibility=visibility,
        author_user_id=actor.user_id,
        author_agency_id=actor.agency_id,
        decision=decision,
        amends_item_id=amends,
        created_at=now,
        updated_at=now,
    )


def edit_item(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    data: ItemInput,
    expected_version: int,
) -> MinuteItem:
    """Only the author, only while the minutes are a draft, only from the current version."""
    case, scope, repo, meeting = _writer_context(session, actor, case_id, meeting_id)
    item = repo.visible_item(meeting, item_id)
    if item is None:
        raise NotFound()
    heading, text, category, visibility = _item_fields(data, writable=scope.categories_for(case))
    check_open_for_meetings(case.state)
    check_item_editable(
        minutes_state=meeting.minutes_state,
        author_user_id=item.author_user_id,
        actor_id=actor.user_id,
    )
    if item.version != expected_version:
        raise StaleVersion(current_version=item.version)
    if not repo.claim_item(item, expected_version):
        raise StaleVersion(current_version=repo.current_item_version(item))
    item.heading, item.text, item.category, item.visibility = heading, text, category, visibility
    item.decision, item.updated_at = data.decision, utcnow()
    repo.save(item)
    audit.record(
        session,
        actor,
        action="minutes.item_edit",
        resource_type="minute_item",
        resource_id=item.id,
        case_id=case.id,
        basis=_basis(scope, case, meeting_id=str(meeting.id), category=category),
    )
    return item


def finalise(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    expected_version: int,
) -> Meeting:
    """Draft → final, by the chair. Final items never change; corrections are amendments."""
    case, scope = _visible_case(session, actor, case_id, Permission.WRITE_MINUTES)
    repo = MeetingRepository(session, scope)
    meeting = _meeting(repo, case, meeting_id)
    check_open_for_meetings(case.state)
    check_finalisable(
        minutes_state=meeting.minutes_state,
        chair_user_id=meeting.chair_user_id,
        actor_id=actor.user_id,
    )
    _check_version(meeting, expected_version)
    _claim(repo, meeting, expected_version, raise_sequence=False)
    meeting.minutes_state = MinutesState.FINAL.value
    meeting.finalised_at = utcnow()
    meeting.finalised_by = actor.user_id
    repo.save(meeting)
    record_first_meeting(session, case.id, meeting.starts_at)
    audit.record(
        session,
        actor,
        action="minutes.finalise",
        resource_type="meeting",
        resource_id=meeting.id,
        case_id=case.id,
        basis=_basis(scope, case),
    )
    return meeting


def amend_item(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    data: ItemInput,
) -> MinuteItem:
    """A correction of an item of final minutes: a new item pointing at the one it corrects,
    by that item's author or the chair."""
    case, scope, repo, meeting = _writer_context(session, actor, case_id, meeting_id)
    original = repo.visible_item(meeting, item_id)
    if original is None:
        raise NotFound()
    heading, text, category, visibility = _item_fields(data, writable=scope.categories_for(case))
    check_open_for_meetings(case.state)
    check_amendable(
        minutes_state=meeting.minutes_state,
        original_amends=original.amends_item_id,
        original_author=original.author_user_id,
        chair_user_id=meeting.chair_user_id,
        actor_id=actor.user_id,
    )
    item = _new_item(
        actor, case, meeting, heading, text, category, visibility, data.decision, original.id
    )
    repo.add_item(item)
    audit.record(
        session,
        actor,
        action="minutes.amend",
        resource_type="minute_item",
        resource_id=item.id,
        case_id=case.id,
        basis=_basis(
            scope, case, meeting_id=str(meeting.id), amends=str(original.id), category=category
        ),
    )
    return item
