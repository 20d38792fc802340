"""Pure rules about meetings and minutes: no database, unit-tested on their own."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from common.clock import STOCKHOLM
from common.errors import Conflict, FieldError, Forbidden, ValidationFailed
from consent.rules import Category


class MeetingKind(StrEnum):
    START = "start"  # uppstart / kartläggande samtal
    NETWORK = "network"
    TEAM = "team"
    FOLLOW_UP = "follow_up"
    EMERGENCY_STOP = "emergency_stop"  # nödstoppsmöte
    WORRY_TALK = "worry_talk"  # orossamtal


MEETING_KIND_LABELS: dict[MeetingKind, str] = {
    MeetingKind.START: "Uppstartsmöte",
    MeetingKind.NETWORK: "Nätverksmöte",
    MeetingKind.TEAM: "Teammöte",
    MeetingKind.FOLLOW_UP: "Uppföljningsmöte",
    MeetingKind.EMERGENCY_STOP: "Nödstoppsmöte",
    MeetingKind.WORRY_TALK: "Orossamtal",
}


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class MinutesState(StrEnum):
    DRAFT = "draft"
    FINAL = "final"


class AttendeeKind(StrEnum):
    USER = "user"
    YOUNG_PERSON = "young_person"
    GUARDIAN = "guardian"
    OTHER = "other"


class AttendanceStatus(StrEnum):
    INVITED = "invited"
    CAME = "came"
    ABSENT = "absent"


ATTENDANCE_LABELS: dict[AttendanceStatus, str] = {
    AttendanceStatus.INVITED: "Kallad",
    AttendanceStatus.CAME: "Närvarande",
    AttendanceStatus.ABSENT: "Kom inte",
}


class Visibility(StrEnum):
    TEAM = "team"
    OWN_AGENCY = "own_agency"


GUARDIAN_WITHOUT_NAME = "Vårdnadshavare"

# A case takes meetings while it is open and not refused: a start meeting or a worry talk
# comes before consent is complete, a follow-up may be what brings a paused case back.
# Declined and closed cases take no new meeting and no change to an old one.
MEETING_CASE_STATES = frozenset({"referred", "consent_pending", "active", "paused"})

MAX_PLACE = 200
MAX_HEADING = 200
MAX_TEXT = 10_000
MAX_NAME = 200
MAX_ATTENDEES = 50
MAX_MEETING_HOURS = 24


def parse_kind(value: str) -> MeetingKind:
    try:
        return MeetingKind(value)
    except ValueError:
        raise ValidationFailed.one(
            "kind", "Välj en mötestyp i listan.", f"Unknown meeting kind: {value[:40]!r}."
        ) from None


def parse_category(value: str, field: str = "category") -> Category:
    try:
        return Category(value)
    except ValueError:
        raise ValidationFailed.one(
            field,
            "Välj en informationskategori i listan.",
            f"Unknown information category: {value[:40]!r}.",
        ) from None


def parse_visibility(value: str, field: str = "visibility") -> Visibility:
    try:
        return Visibility(value)
    except ValueError:
        raise ValidationFailed.one(
            field,
            "Välj vilka som ska se punkten.",
            "Visibility must be 'team' or 'own_agency'.",
        ) from None


def check_open_for_meetings(case_state: str) -> None:
    """Meetings are held on an open case that was not refused (see MEETING_CASE_STATES)."""
    if case_state not in MEETING_CASE_STATES:
        raise Conflict(
            "Ärendet är avslutat eller nekat: möten kan inte läggas till eller ändras.",
            english="The case is closed or declined: its meetings cannot be added or changed.",
        )


def time_errors(starts_at: datetime, ends_at: datetime) -> list[FieldError]:
    """`ends_at` after `starts_at`, and a meeting shorter than a day."""
    if ends_at <= starts_at:
        return [
            FieldError(
                "ends_at",
                "Mötet måste sluta efter att det har börjat.",
                "ends_at must be after starts_at.",
            )
        ]
    if ends_at - starts_at > timedelta(hours=MAX_MEETING_HOURS):
        return [
            FieldError(
                "ends_at",
                f"Ett möte får vara högst {MAX_MEETING_HOURS} timmar.",
                f"A meeting may last at most {MAX_MEETING_HOURS} hours.",
            )
        ]
    return []


def emergency_start_errors(starts_at: datetime, now: datetime) -> list[FieldError]:
    """An emergency-stop meeting is called for today or tomorrow (Europe/Stockholm), and
    never in the past."""
    if starts_at < now:
        return [
            FieldError(
                "starts_at",
                "Ett nödstoppsmöte kan inte kallas till en tid som har passerat.",
                "An emergency-stop meeting cannot start in the past.",
            )
        ]
    today = now.astimezone(STOCKHOLM).date()
    if starts_at.astimezone(STOCKHOLM).date() > today + timedelta(days=1):
        return [
            FieldError(
                "starts_at",
                "Ett nödstoppsmöte kallas till i dag eller i morgon.",
                "An emergency-stop meeting starts today or tomorrow (Europe/Stockholm).",
            )
        ]
    return []


def in_emergency_window(starts_at: datetime, today: date) -> bool:
    """Today or tomorrow in Stockholm: an emergency-stop meeting the whole team must see."""
    return starts_at.astimezone(STOCKHOLM).date() in (today, today + timedelta(days=1))


def text_errors(
    field: str, value: str | None, *, label: str, english: str, max_length: int, required: bool
) -> tuple[str | None, list[FieldError]]:
    """Cleaned text, or the problem with it (empty, too long, control characters)."""
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            return None, [FieldError(field, f"Ange {label}.", f"{english} is required.")]
        return None, []
    if len(cleaned) > max_length:
        return None, [
            FieldError(
                field,
                f"{label.capitalize()} får vara högst {max_length} tecken.",
                f"{english} may be at most {max_length} characters.",
            )
        ]
    if any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in cleaned):
        return None, [
            FieldError(
                field,
                f"{label.capitalize()} innehåller otillåtna tecken.",
                f"{english} contains control characters.",
            )
        ]
    return cleaned, []


def category_errors(
    category: Category, *, writable: Collection[Category], field: str = "category"
) -> list[FieldError]:
    """A writer writes only in categories they may read of the case (the consent's, for a
    partner), whatever the visibility: nobody writes what they could not read back."""
    if category in writable:
        return []
    return [
        FieldError(
            field,
            "Samtycket omfattar inte den kategorin för din organisation.",
            "The consent does not cover this category for your agency.",
        )
    ]


def forbidden(swedish: str, english: str) -> Forbidden:
    error = Forbidden(swedish)
    error.english = english
    return error


def check_item_editable(
    *, minutes_state: str, author_user_id: uuid.UUID, actor_id: uuid.UUID
) -> None:
    """Only a draft's items change, and only by their author."""
    if minutes_state != MinutesState.DRAFT:
        raise Conflict(
            "Protokollet är justerat: punkten kan inte ändras. Lägg till en rättelse.",
            english="The minutes are final: the item cannot change. Add an amendment.",
        )
    if author_user_id != actor_id:
        raise forbidden(
            "Bara den som skrev punkten kan ändra den.",
            "Only the item's author may edit it.",
        )


def check_meeting_changeable(minutes_state: str) -> None:
    """Final minutes freeze the meeting they record: its time, place, chair and attendance."""
    if minutes_state != MinutesState.DRAFT:
        raise Conflict(
            "Protokollet är justerat: mötet kan inte längre ändras.",
            english="The minutes are final: the meeting can no longer change.",
        )


def check_items_addable(minutes_state: str) -> None:
    if minutes_state != MinutesState.DRAFT:
        raise Conflict(
            "Protokollet är justerat: nya punkter läggs till som rättelser.",
            english="The minutes are final: add an amendment instead.",
        )


def check_finalisable(*, minutes_state: str, chair_user_id: uuid.UUID, actor_id: uuid.UUID) -> None:
    if minutes_state != MinutesState.DRAFT:
        raise Conflict("Protokollet är redan justerat.", english="The minutes are already final.")
    if chair_user_id != actor_id:
        raise forbidden(
            "Bara mötets ordförande kan justera protokollet.",
            "Only the meeting's chair may finalise the minutes.",
        )


def check_amendable(
    *,
    minutes_state: str,
    original_amends: uuid.UUID | None,
    original_author: uuid.UUID,
    chair_user_id: uuid.UUID,
    actor_id: uuid.UUID,
) -> None:
    """A correction of final minutes, by the item's author or the chair, of an original
    item (a second correction amends the original again)."""
    if minutes_state != MinutesState.FINAL:
        raise Conflict(
            "Protokollet är ett utkast: ändra punkten i stället för att lägga till en rättelse.",
            english="The minutes are a draft: edit the item instead of amending it.",
        )
    if original_amends is not None:
        raise Conflict(
            "En rättelse rättas genom en ny rättelse av den ursprungliga punkten.",
            english="Amend the original item, not an amendment.",
        )
    if actor_id not in (original_author, chair_user_id):
        raise forbidden(
            "Bara den som skrev punkten eller mötets ordförande kan rätta den.",
            "Only the item's author or the meeting's chair may amend it.",
        )


def attendee_name(
    kind: AttendeeKind,
    *,
    young_person_name: str,
    guardian_name: str | None,
    other_name: str | None,
    user_name: str | None,
    sees_social: bool,
) -> str:
    """The name a reader sees for one attendee: the young person's (category `basic`), a
    guardian's only with category `social` (as `domain.people.rules.person_details`),
    otherwise "Vårdnadshavare"; others by the name recorded."""
    if kind is AttendeeKind.YOUNG_PERSON:
        return young_person_name
    if kind is AttendeeKind.GUARDIAN:
        return guardian_name if sees_social and guardian_name else GUARDIAN_WITHOUT_NAME
    if kind is AttendeeKind.OTHER:
        return other_name or ""
    return user_name or ""


@dataclass(frozen=True)
class ItemView:
    """One minute item as one reader sees it. `amends_item_id` is set only when the reader
    also sees the item it corrects; then the item sits in that item's `amendments`."""

    id: uuid.UUID
    heading: str
    text: str
    category: str
    visibility: str
    decision: bool
    author_user_id: uuid.UUID | None  # None: the author's agency is not the reader's to know
    author_name: str | None
    author_agency_id: uuid.UUID | None
    author_agency_name: str | None
    amends_item_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int
    amendments: tuple[ItemView, ...] = ()


def group_items(items: Sequence[ItemView]) -> tuple[ItemView, ...]:
    """Originals in order, each with the amendments that correct it (or correct one of its
    amendments) beside it. An amendment whose original the reader does not see is shown as a
    plain item, with no reference: the hidden original leaves no trace."""
    by_id = {item.id: item for item in items}

    def root(item: ItemView) -> ItemView:
        current, passed = item, {item.id}
        while current.amends_item_id in by_id:
            current = by_id[current.amends_item_id]
            if current.id in passed:  # a cycle cannot be stored; stop rather than loop
                break
            passed.add(current.id)
        return current

    by_root: dict[uuid.UUID, list[ItemView]] = {}
    top: list[ItemView] = []
    for item in items:
        original = root(item)
        if original.id == item.id or item.amends_item_id not in by_id:
            top.append(replace(item, amends_item_id=None))
        else:
            by_root.setdefault(original.id, []).append(item)
    return tuple(replace(item, amendments=tuple(by_root.get(item.id, ()))) for item in top)
