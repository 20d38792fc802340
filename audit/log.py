"""Writing audit events inside the caller's transaction.

The event is inserted in the same transaction as the work it records, at once, so a failure
to write it raises here and the whole transaction rolls back with it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from audit.models import AuditEvent, Outcome
from common.actor import Actor
from common.context import current_request_id


def record(
    session: Session,
    actor: Actor | None,
    *,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    case_id: uuid.UUID | None = None,
    outcome: Outcome = Outcome.ALLOWED,
    basis: dict[str, Any] | None = None,
    user_id: uuid.UUID | None = None,
) -> AuditEvent:
    """`user_id` names the subject when there is no actor yet (a failed login)."""
    event = AuditEvent(
        request_id=current_request_id(),
        user_id=actor.user_id if actor else user_id,
        agency_id=actor.agency_id if actor else None,
        role=actor.primary_role.value if actor else None,
        action=action,
        resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        case_id=case_id,
        outcome=outcome.value,
        basis=basis or {},
    )
    # One Core INSERT, not the ORM's unit of work: this runs on every audited request. It
    # executes at once, so a failure raises here and the caller's transaction rolls back.
    session.execute(insert(AuditEvent).values(**event.model_dump()))
    return event
