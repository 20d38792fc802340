from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from audit.checkpoints import CheckpointError, parse_note
from audit.models import AuditCheckpoint
from audit.proofs import ConsistencyProof, InclusionProof
from consent.models import ReviewOutcome
from domain.auditing.service import EventPage, EventRow
from domain.breakglass.service import GrantRow


class EventOut(BaseModel):
    id: uuid.UUID
    occurred_at: datetime
    user_id: uuid.UUID | None
    user_name: str | None
    agency_id: uuid.UUID | None
    agency_name: str | None
    role: str | None
    action: str
    resource_type: str
    resource_id: str | None
    case_id: uuid.UUID | None
    outcome: str
    basis: dict[str, Any]
    request_id: str | None

    @classmethod
    def of(cls, row: EventRow) -> EventOut:
        e = row.event
        return cls(
            id=e.id,
            occurred_at=e.occurred_at,
            user_id=e.user_id,
            user_name=row.user_name,
            agency_id=e.agency_id,
            agency_name=row.agency_name,
            role=e.role,
            action=e.action,
            resource_type=e.resource_type,
            resource_id=e.resource_id,
            case_id=e.case_id,
            outcome=e.outcome,
            basis=e.basis,
            request_id=e.request_id,
        )


class EventPageOut(BaseModel):
    items: list[EventOut]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, page: EventPage) -> EventPageOut:
        return cls(
            items=[EventOut.of(row) for row in page.items],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
        )


class AccessReportOut(BaseModel):
    case_id: uuid.UUID
    reference: str
    events: EventPageOut


class CheckpointOut(BaseModel):
    size: int
    root: str  # hex
    created_at: datetime  # when the row was stored: not signed, for display only
    signed_at: datetime | None  # the time inside the signed note (None in older notes)
    note: str  # the signed note (C2SP tlog-checkpoint), the evidence to keep elsewhere

    @classmethod
    def of(cls, checkpoint: AuditCheckpoint) -> CheckpointOut:
        try:
            signed_time = parse_note(checkpoint.note).checkpoint.time
        except CheckpointError:
            signed_time = None
        return cls(
            size=checkpoint.size,
            root=checkpoint.root.hex(),
            created_at=checkpoint.created_at,
            signed_at=None if signed_time is None else datetime.fromtimestamp(signed_time, UTC),
            note=checkpoint.note,
        )


class InclusionProofOut(BaseModel):
    event_id: uuid.UUID
    position: int
    leaf_hash: str
    checkpoint: CheckpointOut
    path: list[str]

    @classmethod
    def of(cls, proof: InclusionProof) -> InclusionProofOut:
        return cls(
            event_id=proof.event_id,
            position=proof.position,
            leaf_hash=proof.leaf_hash.hex(),
            checkpoint=CheckpointOut.of(proof.checkpoint),
            path=[h.hex() for h in proof.path],
        )


class ConsistencyProofOut(BaseModel):
    old: CheckpointOut
    new: CheckpointOut
    path: list[str]

    @classmethod
    def of(cls, proof: ConsistencyProof) -> ConsistencyProofOut:
        return cls(
            old=CheckpointOut.of(proof.old),
            new=CheckpointOut.of(proof.new),
            path=[h.hex() for h in proof.path],
        )


class BreakGlassGrantOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str | None
    user_id: uuid.UUID
    user_name: str | None
    agency_name: str | None
    reason: str
    granted_at: datetime
    expires_at: datetime
    reviewed: bool
    reviewed_by: uuid.UUID | None
    reviewer_name: str | None
    reviewed_at: datetime | None
    review_outcome: ReviewOutcome | None
    review_note: str | None

    @classmethod
    def of(cls, row: GrantRow) -> BreakGlassGrantOut:
        grant = row.grant
        return cls(
            id=grant.id,
            case_id=grant.case_id,
            case_reference=row.case_reference,
            user_id=grant.user_id,
            user_name=row.user_name,
            agency_name=row.agency_name,
            reason=grant.reason,
            granted_at=grant.granted_at,
            expires_at=grant.expires_at,
            reviewed=grant.reviewed_at is not None,
            reviewed_by=grant.reviewed_by,
            reviewer_name=row.reviewer_name,
            reviewed_at=grant.reviewed_at,
            review_outcome=ReviewOutcome(grant.review_outcome) if grant.review_outcome else None,
            review_note=grant.review_note,
        )


class BreakGlassReviewIn(BaseModel):
    outcome: ReviewOutcome = Field(
        description="The auditor's judgement: was the emergency access justified?"
    )
    note: str = Field(default="", max_length=2000, description="Optional comment")


class BreakGlassPageOut(BaseModel):
    items: list[BreakGlassGrantOut]
    total: int
    page: int
    page_size: int
