"""The bytes that go into the Merkle log for an event: a fixed header and a payload hash.

leaf = SHA-256(0x00 ‖ header ‖ SHA-256(payload)). The header binds the event to its position
and identity; the payload is the event's content as canonical JSON. Because only the payload's
hash enters the leaf, a payload can later be culled (gallring) while the tree still verifies.
"""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
from datetime import UTC, datetime
from typing import Any

from audit.models import AuditEvent

HEADER_TAG = b"samsyn-audit-v1"

EVENT_COLUMNS = (
    "id",
    "occurred_at",
    "request_id",
    "user_id",
    "agency_id",
    "role",
    "action",
    "resource_type",
    "resource_id",
    "case_id",
    "outcome",
    "basis",
)
"""The event's columns in the order `payload_of` takes them."""


def payload(event: AuditEvent) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8, UTC times to the microsecond."""
    return payload_of(
        event.id,
        event.occurred_at,
        event.request_id,
        event.user_id,
        event.agency_id,
        event.role,
        event.action,
        event.resource_type,
        event.resource_id,
        event.case_id,
        event.outcome,
        event.basis,
    )


def payload_of(
    id_: uuid.UUID,
    occurred_at: datetime,
    request_id: str | None,
    user_id: uuid.UUID | None,
    agency_id: uuid.UUID | None,
    role: str | None,
    action: str,
    resource_type: str,
    resource_id: str | None,
    case_id: uuid.UUID | None,
    outcome: str,
    basis: Any,
) -> bytes:
    """`payload` from the column values in `EVENT_COLUMNS` order (verify streams plain rows)."""
    content = {
        "id": str(id_),
        "occurred_at": micros(occurred_at),
        "request_id": request_id,
        "user_id": None if user_id is None else str(user_id),
        "agency_id": None if agency_id is None else str(agency_id),
        "role": role,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "case_id": None if case_id is None else str(case_id),
        "outcome": outcome,
        "basis": basis,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def micros(value: datetime) -> int:
    """Microseconds since the epoch: exact, and identical whatever the database returns."""
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def payload_hash(event: AuditEvent) -> bytes:
    return hashlib.sha256(payload(event)).digest()


def header(position: int, event: AuditEvent) -> bytes:
    return header_of(position, event.id, event.occurred_at)


def header_of(position: int, event_id: uuid.UUID, occurred_at: datetime) -> bytes:
    return (
        HEADER_TAG
        + struct.pack(">Q", position)
        + event_id.bytes
        + struct.pack(">q", micros(occurred_at))
    )
