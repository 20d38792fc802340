from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import AfterValidator, AwareDatetime

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.audit import (
    AccessReportOut,
    BreakGlassGrantOut,
    BreakGlassPageOut,
    BreakGlassReviewIn,
    CheckpointOut,
    ConsistencyProofOut,
    EventPageOut,
    InclusionProofOut,
)
from audit import proofs
from audit.repository import EventFilter
from common.actor import Actor
from common.errors import NotFound, ValidationFailed
from common.roles import Permission
from domain.auditing import service as auditing
from domain.breakglass import service as breakglass

router = APIRouter(prefix="/audit", tags=["audit"])
_ERRORS = error_responses(401, 403, 404, 422)


def _auditor(actor: CurrentActor) -> Actor:
    actor.require(Permission.READ_AUDIT_LOG)
    return actor


Auditor = Annotated[Actor, Depends(_auditor)]
Page = Annotated[int, Query(ge=1, le=auditing.MAX_PAGE)]
PageSize = Annotated[int, Query(ge=1, le=auditing.MAX_PAGE_SIZE)]
# A tree size: bounded well inside 64 bits (and JSON's exact integers), so a huge one is a 422.
TreeSize = Annotated[int, Query(ge=1, le=2**53 - 1)]


def _in_utc_range(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the range that can be searched") from None


# With its offset (a naive time is ambiguous), and one that UTC can express (not 0001-01-01
# at +01:00 or 9999-12-31 at -05:00).
Instant = Annotated[AwareDatetime, AfterValidator(_in_utc_range)]


def _filter(
    user_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(pattern="^(allowed|denied)$")] = None,
    occurred_from: Annotated[Instant | None, Query(alias="from")] = None,
    occurred_to: Annotated[Instant | None, Query(alias="to")] = None,
) -> EventFilter:
    if occurred_from and occurred_to and occurred_from >= occurred_to:
        raise ValidationFailed.one("to", "Slutet av perioden måste komma efter början.")
    return EventFilter(
        user_id=user_id,
        case_id=case_id,
        action=action,
        outcome=outcome,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )


Filter = Annotated[EventFilter, Depends(_filter)]


@router.get("/events", response_model=EventPageOut, responses=_ERRORS)
def search(
    session: DbSession, actor: Auditor, where: Filter, page: Page = 1, page_size: PageSize = 50
) -> EventPageOut:
    """Search by user, case, action, outcome and period (`from` inclusive, `to` exclusive)."""
    return EventPageOut.of(
        auditing.search_events(session, actor, where=where, page=page, page_size=page_size)
    )


@router.get(
    "/events.csv",
    responses={200: {"content": {"text/csv": {}}}, **_ERRORS},
    dependencies=[requires(Permission.EXPORT_AUDIT_LOG)],
)
def export(session: DbSession, actor: CurrentActor, where: Filter) -> Response:
    """The matching events as CSV. The export is itself recorded in the log."""
    body = auditing.export_csv(session, actor, where=where)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="samsyn-logg.csv"'},
    )


@router.get("/cases/{reference}/access", response_model=AccessReportOut, responses=_ERRORS)
def access(
    session: DbSession, actor: Auditor, reference: str, page: Page = 1, page_size: PageSize = 50
) -> AccessReportOut:
    """Who opened this case, when, and on what basis (by its reference, e.g. SSPF-2026-0007)."""
    report = auditing.access_report(
        session, actor, reference=reference, page=page, page_size=page_size
    )
    return AccessReportOut(
        case_id=report.case_id, reference=report.reference, events=EventPageOut.of(report.events)
    )


@router.get("/break-glass", response_model=BreakGlassPageOut, responses=_ERRORS)
def break_glass(
    session: DbSession, actor: Auditor, page: Page = 1, page_size: PageSize = 50
) -> BreakGlassPageOut:
    """Every emergency access (nödåtkomst), newest first, with its written reason."""
    rows, total = breakglass.grants_for_review(session, actor, page=page, page_size=page_size)
    return BreakGlassPageOut(
        items=[BreakGlassGrantOut.of(r) for r in rows], total=total, page=page, page_size=page_size
    )


@router.post(
    "/break-glass/{grant_id}/review",
    response_model=BreakGlassGrantOut,
    responses=error_responses(401, 403, 404, 409, 422),
    dependencies=[requires(Permission.REVIEW_BREAK_GLASS)],
)
def review_break_glass(
    session: DbSession, actor: CurrentActor, grant_id: uuid.UUID, body: BreakGlassReviewIn
) -> BreakGlassGrantOut:
    """The auditor's judgement of one emergency access: `justified` or `not_justified`, with
    an optional note. Recorded once and audited; a second review answers 409."""
    return BreakGlassGrantOut.of(
        breakglass.review_grant(
            session, actor, grant_id=grant_id, outcome=body.outcome.value, note=body.note
        )
    )


@router.get("/denied", response_model=EventPageOut, responses=_ERRORS)
def denied(
    session: DbSession, actor: Auditor, page: Page = 1, page_size: PageSize = 50
) -> EventPageOut:
    return EventPageOut.of(auditing.denied_events(session, actor, page=page, page_size=page_size))


@router.get(
    "/checkpoint", response_model=CheckpointOut, responses=_ERRORS, dependencies=[Depends(_auditor)]
)
def latest_checkpoint(session: DbSession) -> CheckpointOut:
    """The latest signed tree head; keep copies of it outside Samsyn."""
    checkpoint = proofs.latest_checkpoint(session)
    if checkpoint is None:
        raise NotFound()
    return CheckpointOut.of(checkpoint)


@router.get(
    "/proofs/inclusion",
    response_model=InclusionProofOut,
    responses=_ERRORS,
    dependencies=[Depends(_auditor)],
)
def inclusion(
    session: DbSession,
    event_id: uuid.UUID,
    size: TreeSize | None = None,
) -> InclusionProofOut:
    """RFC 9162 inclusion proof of one event in a signed checkpoint (the latest by default)."""
    return InclusionProofOut.of(proofs.prove_inclusion(session, event_id=event_id, size=size))


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyProofOut,
    responses=_ERRORS,
    dependencies=[Depends(_auditor)],
)
def consistency(
    session: DbSession,
    old_size: TreeSize,
    new_size: TreeSize | None = None,
) -> ConsistencyProofOut:
    """RFC 9162 consistency proof between two signed checkpoints (to the latest by default)."""
    return ConsistencyProofOut.of(
        proofs.prove_consistency(session, old_size=old_size, new_size=new_size)
    )
