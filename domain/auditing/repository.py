"""The auditor's queries that audit.repository does not already answer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlmodel import Session, col

from audit.models import AuditEvent

EventFacts = tuple[uuid.UUID | None, str | None, datetime, str, str, dict[str, Any]]


def case_event_facts(session: Session, case_id: uuid.UUID, *, limit: int) -> Sequence[EventFacts]:
    """(user, role, time, action, outcome, basis) of a case's events, oldest first: what the
    per-person summary counts, without the columns it does not need."""
    statement = (
        select(
            col(AuditEvent.user_id),
            col(AuditEvent.role),
            col(AuditEvent.occurred_at),
            col(AuditEvent.action),
            col(AuditEvent.outcome),
            col(AuditEvent.basis),
        )
        .where(col(AuditEvent.case_id) == case_id)
        .order_by(col(AuditEvent.occurred_at), col(AuditEvent.id))
        .limit(limit)
    )
    return [cast(EventFacts, tuple(row)) for row in session.execute(statement).all()]
