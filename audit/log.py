"""Writing audit events inside the caller's transaction.

The event is inserted in the same transaction as the work it records, at once, so a failure
to write it raises here and the whole transaction rolls back with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from audit.models import AuditEvent, Outcome
from common.actor import Actor
from common.clock import utcnow
from common.context import current_request_id
from common.ids import new_id

# One Core INSERT on the table, not the ORM's unit of work nor an ORM-enabled insert: this runs
# on every audited request. Built once; the values travel as parameters, so it compiles once.
_INSERT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Target:
    """What one event of `record_many` is about."""

    resource_id: uuid.UUID | str | None
    case_id: uuid.UUID | None = None
    basis: dict[str, Any] = field(default_factory=dict)


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
) -> uuid.UUID:
    """The event's id. `user_id` names the subject when there is no actor yet (a failed
    login)."""
    row = _row(
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        case_id=case_id,
        outcome=outcome,
        basis=basis,
        user_id=user_id,
    )
    # It executes at once, so a failure raises here and the caller's transaction rolls back.
    session.execute(_INSERT, row)
    event_id: uuid.UUID = row["id"]
    return event_id


def record_many(
    session: Session,
    actor: Actor,
    *,
    action: str,
    resource_type: str,
    targets: Sequence[Target],
    outcome: Outcome = Outcome.ALLOWED,
) -> None:
    """One event per target, as `record` writes each, in one statement (executemany): for a
    list, where every row shown is a read of its own."""
    if not targets:
        return
    rows = [
        _row(
            actor,
            action=action,
            resource_type=resource_type,
            resource_id=target.resource_id,
            case_id=target.case_id,
            outcome=outcome,
            basis=target.basis,
            user_id=None,
        )
        for target in targets
    ]
    session.execute(_INSERT, rows)


def _row(
    actor: Actor | None,
    *,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None,
    case_id: uuid.UUID | None,
    outcome: Outcome,
    basis: dict[str, Any] | None,
    user_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The event's columns, as `AuditEvent`'s defaults would fill them."""
    return {
        "id": new_id(),
        "occurred_at": utcnow(),
        "request_id": current_request_id(),
        "user_id": actor.user_id if actor else user_id,
        "agency_id": actor.agency_id if actor else None,
        "role": actor.primary_role.value if actor else None,
        "action": action,
        "resource_type": resource_type,
        "resource_id": None if resource_id is None else str(resource_id),
        "case_id": case_id,
        "outcome": outcome.value,
        "basis": basis or {},
    }
