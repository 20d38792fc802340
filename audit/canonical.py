"""The bytes that go into the Merkle log for an event: a fixed header and a payload hash.

leaf = SHA-256(0x00 ‖ header ‖ SHA-256(payload)). The header binds the event to its position
and identity; the payload is the event's content as canonical JSON. Because only the payload's
hash enters the leaf, a payload can later be culled (gallring) while the tree still verifies.
"""

from __future__ import annotations

import hashlib
import json
import struct
from datetime import UTC, datetime

from audit.models import AuditEvent

HEADER_TAG = b"samsyn-audit-v1"


def payload(event: AuditEvent) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8, UTC times to the microsecond."""
    content = {
        "id": str(event.id),
        "occurred_at": _micros(event.occurred_at),
        "request_id": event.request_id,
        "user_id": None if event.user_id is None else str(event.user_id),
        "agency_id": None if event.agency_id is None else str(event.agency_id),
        "role": event.role,
        "action": event.action,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "case_id": None if event.case_id is None else str(event.case_id),
        "outcome": event.outcome,
        "basis": event.basis,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _micros(value: datetime) -> int:
    """Microseconds since the epoch: exact, and identical whatever the database returns."""
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def payload_hash(event: AuditEvent) -> bytes:
    return hashlib.sha256(payload(event)).digest()


def header(position: int, event: AuditEvent) -> bytes:
    return (
        HEADER_TAG
        + struct.pack(">Q", position)
        + event.id.bytes
        + struct.pack(">q", _micros(event.occurred_at))
    )
