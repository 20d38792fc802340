"""The plan's rules (DESIGN §2 Plan, issue 12 item 4). Pure: no database.

A goal is `open` until the team finds it `reached` or `dropped`. A commitment is `open` until
it is `done` or `cancelled`; it is overdue while open after its due date (a Stockholm date).
The committing agency must take part in the case (its owning unit, or an agency with a member
on the team), and a named person must be on the team and in that agency.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from enum import StrEnum

from common.errors import FieldError, InvalidTransition

MAX_TEXT = 2000
MAX_COMMENT = 2000


class GoalStatus(StrEnum):
    OPEN = "open"
    REACHED = "reached"
    DROPPED = "dropped"


class CommitmentStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


GOAL_STATUS_LABELS = {
    GoalStatus.OPEN: "Pågår",
    GoalStatus.REACHED: "Uppnått",
    GoalStatus.DROPPED: "Avslutat utan att nås",
}
COMMITMENT_STATUS_LABELS = {
    CommitmentStatus.OPEN: "Öppet",
    CommitmentStatus.DONE: "Klart",
    CommitmentStatus.CANCELLED: "Struket",
}

# Who may move a commitment where. The case's managers (social services) may cancel an open
# commitment and reopen a done or cancelled one; the committing agency may only complete it.
# Done and cancelled never become each other directly: reopen first, so the history is plain.
COMMITMENT_TRANSITIONS: dict[CommitmentStatus, frozenset[CommitmentStatus]] = {
    CommitmentStatus.OPEN: frozenset({CommitmentStatus.DONE, CommitmentStatus.CANCELLED}),
    CommitmentStatus.DONE: frozenset({CommitmentStatus.OPEN}),
    CommitmentStatus.CANCELLED: frozenset({CommitmentStatus.OPEN}),
}


def is_overdue(status: str, due_on: date, today: date) -> bool:
    """Open and past its due date; due today is not yet overdue."""
    return status == CommitmentStatus.OPEN.value and due_on < today


def goal_status(value: str, errors: list[FieldError]) -> GoalStatus | None:
    try:
        return GoalStatus(value)
    except ValueError:
        errors.append(
            FieldError(
                "status",
                "Välj status för målet: pågår, uppnått eller avslutat.",
                "status must be one of open, reached, dropped.",
            )
        )
        return None


def commitment_status(value: str, errors: list[FieldError]) -> CommitmentStatus | None:
    try:
        return CommitmentStatus(value)
    except ValueError:
        errors.append(
            FieldError(
                "status",
                "Välj status för åtagandet: öppet, klart eller struket.",
                "status must be one of open, done, cancelled.",
            )
        )
        return None


def required_text(
    value: str | None, field: str, swedish_name: str, errors: list[FieldError]
) -> str | None:
    """Trimmed text of 1..MAX_TEXT characters, or an error naming the field."""
    text = (value or "").strip()
    if not text:
        errors.append(FieldError(field, f"Skriv {swedish_name}.", f"{field} must not be empty."))
        return None
    if len(text) > MAX_TEXT:
        errors.append(
            FieldError(
                field,
                f"Texten får vara högst {MAX_TEXT} tecken.",
                f"{field} may be at most {MAX_TEXT} characters.",
            )
        )
        return None
    return text


def optional_comment(value: str | None, errors: list[FieldError]) -> str | None:
    """A comment, trimmed; empty means none."""
    text = (value or "").strip()
    if len(text) > MAX_COMMENT:
        errors.append(
            FieldError(
                "comment",
                f"Kommentaren får vara högst {MAX_COMMENT} tecken.",
                f"comment may be at most {MAX_COMMENT} characters.",
            )
        )
        return None
    return text or None


def check_agency(
    agency_id: uuid.UUID | None,
    *,
    owner_agency_id: uuid.UUID,
    team_agencies: frozenset[uuid.UUID],
    errors: list[FieldError],
) -> None:
    """The committing agency takes part in the case: it owns it or has a member on the team."""
    if agency_id is None:
        errors.append(
            FieldError(
                "agency_id", "Välj vilken aktör som åtar sig uppgiften.", "agency_id is required."
            )
        )
    elif agency_id != owner_agency_id and agency_id not in team_agencies:
        errors.append(
            FieldError(
                "agency_id",
                "Aktören finns inte i ärendets team. Välj en aktör i listan.",
                "agency_id must be the owning agency or an agency with a member on the team.",
            )
        )


def check_person(
    person_user_id: uuid.UUID | None,
    *,
    agency_id: uuid.UUID | None,
    team: Mapping[uuid.UUID, uuid.UUID],
    errors: list[FieldError],
) -> None:
    """`team`: user id → agency id of the case's current members. A named person is on the team
    and works at the committing agency."""
    if person_user_id is None:
        return
    member_agency = team.get(person_user_id)
    if member_agency is None:
        errors.append(
            FieldError(
                "person_user_id",
                "Personen finns inte i ärendets team. Välj en person i listan.",
                "person_user_id must be a member of the case team.",
            )
        )
    elif agency_id is not None and member_agency != agency_id:
        errors.append(
            FieldError(
                "person_user_id",
                "Personen arbetar inte hos den aktör som åtar sig uppgiften.",
                "person_user_id must belong to the committing agency.",
            )
        )


def check_commitment_move(current: CommitmentStatus, target: CommitmentStatus) -> None:
    """Raise unless `current → target` is allowed (the same status is no move)."""
    if target is current:
        if current is not CommitmentStatus.OPEN:
            raise InvalidTransition(
                f"Åtagandet är redan {COMMITMENT_STATUS_LABELS[current].lower()}.",
                english=f"The commitment is already {current.value}.",
            )
        return
    if target not in COMMITMENT_TRANSITIONS[current]:
        raise InvalidTransition(
            f"Ett åtagande som är {COMMITMENT_STATUS_LABELS[current].lower()} kan inte bli "
            f"{COMMITMENT_STATUS_LABELS[target].lower()}. Öppna det igen först.",
            english=f"A {current.value} commitment cannot become {target.value}; reopen it first.",
        )
