"""The auditor's tools: search the log, a case's access report, break-glass and denied lists,
CSV export. The auditor sees ids, staff names and bases, never case content; every use of
these tools is itself audited."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from audit import log as audit
from audit.checkpoints import CheckpointError, parse_note
from audit.models import AuditEvent, Outcome
from audit.repository import AuditLogRepository, EventFilter
from audit.sequencer import LATEST_NOTE
from audit.verify import VerifyReport, verify_log
from common.actor import Actor
from common.errors import NotFound, ValidationFailed
from common.roles import Permission
from domain.auditing.labels import action_label, basis_label, outcome_label
from domain.auditing.repository import case_event_facts
from domain.cases.repository import case_id_by_reference
from domain.users.repository import UserRepository

MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000
MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    user_name: str | None
    agency_name: str | None


@dataclass(frozen=True)
class EventPage:
    items: Sequence[EventRow]
    total: int
    page: int
    page_size: int


def _filter_basis(where: EventFilter) -> dict[str, str]:
    """The filters as recorded in the auditor's own audit event (ids and dates only)."""
    return {key: str(value) for key, value in vars(where).items() if value is not None}


def check_instant(field: str, value: datetime | None) -> None:
    """A period's end must be a point in time (with its offset) that UTC can express: a naive
    time or one at the edge of the calendar (0001-01-01, 9999-12-31) is the caller's error."""
    if value is None:
        return
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed.one(field, "Ange tiden med tidszon, t.ex. 2026-01-31T00:00:00Z.")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed.one(field, "Tiden ligger utanför det som går att söka på.") from None


def _check_period(where: EventFilter) -> None:
    check_instant("occurred_from", where.occurred_from)
    check_instant("occurred_to", where.occurred_to)
    if where.occurred_from and where.occurred_to and where.occurred_from >= where.occurred_to:
        raise ValidationFailed.one("occurred_to", "Slutet av perioden måste komma efter början.")


def _page(session: Session, where: EventFilter, page: int, page_size: int) -> EventPage:
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed.one("page", f"Sidnumret måste vara 1–{MAX_PAGE}.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed.one("page_size", f"Sidstorleken måste vara 1–{MAX_PAGE_SIZE}.")
    events, total = AuditLogRepository(session).search(
        where, offset=(page - 1) * page_size, limit=page_size
    )
    return EventPage(
        items=_with_names(session, events), total=total, page=page, page_size=page_size
    )


def _with_names(session: Session, events: Sequence[AuditEvent]) -> list[EventRow]:
    names = UserRepository(session).names({e.user_id for e in events if e.user_id is not None})
    rows = []
    for event in events:
        user_name, agency_name = (
            names.get(event.user_id, (None, None)) if event.user_id else (None, None)
        )
        rows.append(EventRow(event=event, user_name=user_name, agency_name=agency_name))
    return rows


def search_events(
    session: Session, actor: Actor, *, where: EventFilter, page: int = 1, page_size: int = 50
) -> EventPage:
    actor.require(Permission.READ_AUDIT_LOG)
    _check_period(where)
    result = _page(session, where, page, page_size)
    audit.record(
        session,
        actor,
        action="audit.search",
        resource_type="audit_log",
        case_id=where.case_id,
        basis={"filters": _filter_basis(where)},
    )
    return result


# The actions that show a case's content (or that it exists) to the one who acts: the "reads"
# the per-person summary counts. The rest change the case or are the auditor's own work.
READ_ACTIONS = frozenset(
    {
        "case.read",
        "case.list",
        "case.break_glass",
        "young_person.read",
        "consent.read",
        "consent.tracker",
        "plan.read",
        "commitments.mine",
        "commitments.overdue",
        "meeting.list",
        "meeting.read",
        "meeting.invitation",
        "minutes.print",
        "assessment.list",
        "assessment.read",
        "referral.read",
        "referral.list",
        "referral.read_own",
    }
)


@dataclass(frozen=True)
class PersonSummary:
    """One person's dealings with a case, over every event the log holds for it."""

    user_id: uuid.UUID | None  # None: the system (a rule, with no person behind it)
    user_name: str | None
    agency_name: str | None
    roles: tuple[str, ...]
    first_at: datetime
    last_at: datetime
    events: int
    reads: int  # allowed events in READ_ACTIONS
    denied: int
    bases: tuple[str, ...]  # the basis kinds of their allowed events, in the order first used


@dataclass(frozen=True)
class AccessReport:
    case_id: uuid.UUID
    reference: str
    events: EventPage
    people: Sequence[PersonSummary] = ()
    people_complete: bool = True  # False: the case has more than MAX_EXPORT_ROWS events


@dataclass
class _Tally:
    first_at: datetime
    last_at: datetime
    roles: list[str]
    bases: list[str]
    events: int = 0
    reads: int = 0
    denied: int = 0


def person_summaries(
    session: Session, case_id: uuid.UUID, *, limit: int = MAX_EXPORT_ROWS
) -> tuple[list[PersonSummary], bool]:
    """Who dealt with the case: first and last event, how many reads, on which bases, the one
    who came first first. The bool says whether every event of the case was counted."""
    facts = case_event_facts(session, case_id, limit=limit + 1)
    complete = len(facts) <= limit
    tallies: dict[uuid.UUID | None, _Tally] = {}
    for user_id, role, occurred_at, action, outcome, basis in facts[:limit]:
        tally = tallies.setdefault(user_id, _Tally(occurred_at, occurred_at, [], []))
        tally.last_at = occurred_at
        tally.events += 1
        if role and role not in tally.roles:
            tally.roles.append(role)
        if outcome == Outcome.DENIED.value:
            tally.denied += 1
            continue
        if action in READ_ACTIONS:
            tally.reads += 1
        kind = basis.get("kind") if basis_label(basis) else None
        if kind and kind not in tally.bases:
            tally.bases.append(kind)
    names = UserRepository(session).names({u for u in tallies if u is not None})
    people = []
    for user_id, tally in tallies.items():
        user_name, agency_name = names.get(user_id, (None, None)) if user_id else (None, None)
        people.append(
            PersonSummary(
                user_id=user_id,
                user_name=user_name,
                agency_name=agency_name,
                roles=tuple(tally.roles),
                first_at=tally.first_at,
                last_at=tally.last_at,
                events=tally.events,
                reads=tally.reads,
                denied=tally.denied,
                bases=tuple(tally.bases),
            )
        )
    return people, complete


def access_report(
    session: Session, actor: Actor, *, reference: str, page: int = 1, page_size: int = 50
) -> AccessReport:
    """Everything the log holds about one case: who opened it, when, and on what basis."""
    actor.require(Permission.READ_AUDIT_LOG)
    case_id = case_id_by_reference(session, reference)
    if case_id is None:
        raise NotFound()
    events = _page(session, EventFilter(case_id=case_id), page, page_size)
    people, complete = person_summaries(session, case_id)
    audit.record(
        session,
        actor,
        action="audit.access_report",
        resource_type="case",
        resource_id=case_id,
        case_id=case_id,
    )
    return AccessReport(
        case_id=case_id,
        reference=reference.strip().upper(),
        events=events,
        people=people,
        people_complete=complete,
    )


def denied_events(
    session: Session, actor: Actor, *, page: int = 1, page_size: int = 50
) -> EventPage:
    return search_events(
        session,
        actor,
        where=EventFilter(outcome=Outcome.DENIED.value),
        page=page,
        page_size=page_size,
    )


def case_id_for(session: Session, actor: Actor, *, reference: str) -> uuid.UUID:
    """For filtering the log by a case the auditor knows by its reference."""
    actor.require(Permission.READ_AUDIT_LOG)
    case_id = case_id_by_reference(session, reference)
    if case_id is None:
        raise ValidationFailed.one("referens", "Det finns inget ärende med den referensen.")
    return case_id


def staff(session: Session, actor: Actor) -> list[tuple[uuid.UUID, str, str]]:
    """Every staff account (id, name, agency) for the auditor's user filter."""
    actor.require(Permission.READ_AUDIT_LOG)
    return [
        (user.id, user.display_name, agency.name)
        for user, agency in UserRepository(session).list_all()
    ]


def integrity(
    session: Session,
    actor: Actor,
    *,
    public_key: Ed25519PublicKey,
    origin: str,
    export_dir: Path | None = None,
) -> VerifyReport:
    """Recompute the whole log now (the same check as `samsyn audit verify`), against the
    note in the export directory too when one is configured."""
    actor.require(Permission.READ_AUDIT_LOG)
    external = []
    if export_dir is not None:
        # Unreadable or malformed: verify_log reports that no exported checkpoint was found.
        with contextlib.suppress(OSError, UnicodeDecodeError, CheckpointError):
            external.append(parse_note((export_dir / LATEST_NOTE).read_text(encoding="utf-8")))
    report = verify_log(
        session,
        public_key=public_key,
        origin=origin,
        external=external,
        export_expected=export_dir is not None,
    )
    audit.record(
        session,
        actor,
        action="audit.verify",
        resource_type="audit_log",
        basis={"size": report.size, "ok": report.ok},
    )
    return report


# The export's columns: English names for machines (the JSON API's export, `kolumner=en` on the
# page), Swedish for people (the page's default). The Swedish export adds the action and the
# basis in words, and is written for a spreadsheet: semicolons and a byte order mark.
CSV_COLUMNS = [
    "occurred_at",
    "user_id",
    "user_name",
    "agency_name",
    "role",
    "action",
    "resource_type",
    "resource_id",
    "case_id",
    "outcome",
    "basis",
    "request_id",
]
CSV_COLUMNS_SV = [
    "tid",
    "användar-id",
    "användare",
    "enhet",
    "roll",
    "händelse",
    "händelsekod",
    "resurstyp",
    "resurs-id",
    "ärende-id",
    "utfall",
    "grund",
    "grund (data)",
    "begäran-id",
]
CSV_LANGUAGES = ("sv", "en")


def export_csv(session: Session, actor: Actor, *, where: EventFilter, language: str = "en") -> str:
    """The matching events as CSV (newest first, at most MAX_EXPORT_ROWS); the export is audited.
    `language` "en" keeps the columns machines read; "sv" is the auditor's spreadsheet."""
    actor.require(Permission.EXPORT_AUDIT_LOG)
    if language not in CSV_LANGUAGES:
        raise ValidationFailed.one(
            "language", "Välj kolumnnamn på svenska (sv) eller engelska (en)."
        )
    _check_period(where)
    events, total = AuditLogRepository(session).search(where, offset=0, limit=MAX_EXPORT_ROWS)
    out = io.StringIO()
    swedish = language == "sv"
    writer = csv.writer(out, delimiter=";" if swedish else ",")
    if swedish:
        out.write("\ufeff")
    writer.writerow(CSV_COLUMNS_SV if swedish else CSV_COLUMNS)
    for row in _with_names(session, events):
        e = row.event
        basis = json.dumps(e.basis, sort_keys=True, ensure_ascii=False)
        if swedish:
            values = [
                e.occurred_at.isoformat(),
                e.user_id or "",
                row.user_name or "",
                row.agency_name or "",
                e.role or "",
                action_label(e.action),
                e.action,
                e.resource_type,
                e.resource_id or "",
                e.case_id or "",
                outcome_label(e.outcome),
                basis_label(e.basis),
                basis,
                e.request_id or "",
            ]
        else:
            values = [
                e.occurred_at.isoformat(),
                e.user_id or "",
                row.user_name or "",
                row.agency_name or "",
                e.role or "",
                e.action,
                e.resource_type,
                e.resource_id or "",
                e.case_id or "",
                e.outcome,
                basis,
                e.request_id or "",
            ]
        writer.writerow(values)
    audit.record(
        session,
        actor,
        action="audit.export",
        resource_type="audit_log",
        case_id=where.case_id,
        basis={
            "filters": _filter_basis(where),
            "rows": len(events),
            "matching": total,
            "columns": language,
        },
    )
    return out.getvalue()
