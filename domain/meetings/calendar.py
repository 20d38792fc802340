"""The calendar invitation of a meeting (RFC 5545), built with the `icalendar` library.

The file leaves the system in e-mail, so it carries the case reference, the kind, the time and
the place, and never a name or a personnummer: no ATTENDEE, no ORGANIZER, no description.
UID is stable per meeting; SEQUENCE is the meeting's, raised when the time, the place or the
status change, so calendars replace the earlier copy. A cancelled meeting is METHOD:CANCEL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from icalendar import Calendar, Event

from domain.meetings.rules import MEETING_KIND_LABELS, MeetingKind

PRODUCT_ID = "-//Samsyn//Moten//SV"
MEDIA_TYPE = "text/calendar"


def summary(case_reference: str, kind: MeetingKind) -> str:
    return f"{case_reference}: {MEETING_KIND_LABELS[kind]}"


def invitation(
    *,
    uid: uuid.UUID,
    sequence: int,
    cancelled: bool,
    case_reference: str,
    kind: MeetingKind,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    stamp: datetime,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"{uid}@samsyn")
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("summary", summary(case_reference, kind))
    event.add("location", place)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
