"""Inclusion and consistency proofs from the stored tree, against signed checkpoints."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session

from audit.checkpoints import CheckpointError, parse_note
from audit.merkle import consistency_proof, inclusion_proof
from audit.models import AuditCheckpoint
from audit.repository import AuditLogRepository
from common.errors import NotFound, ValidationFailed


@dataclass(frozen=True)
class InclusionProof:
    event_id: uuid.UUID
    position: int
    leaf_hash: bytes
    checkpoint: AuditCheckpoint
    path: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    old: AuditCheckpoint
    new: AuditCheckpoint
    path: list[bytes]


# How many rows from the top `latest` looks through for one that is well formed.
LATEST_SEARCH = 100


def _well_formed(row: AuditCheckpoint, log_size: int) -> bool:
    """The row's note parses and states the row's own size and root, within the log. (Rows are
    written by the sequencer only; one that is not so was put there behind its back. Whether
    the signature holds is for the client and `verify` to judge, with the verifier key.)"""
    try:
        checkpoint = parse_note(row.note).checkpoint
    except CheckpointError:
        return False
    return checkpoint.size == row.size and checkpoint.root == row.root and (row.size <= log_size)


def _checkpoint(repository: AuditLogRepository, size: int | None, field: str) -> AuditCheckpoint:
    log_size = repository.size()
    if size is None:
        rows = repository.latest_checkpoints(LATEST_SEARCH)
        checkpoint = next((row for row in rows if _well_formed(row, log_size)), None)
    else:
        row = repository.checkpoint(size)
        checkpoint = row if row is not None and _well_formed(row, log_size) else None
    if checkpoint is None:
        raise ValidationFailed.one(field, "Ingen signerad kontrollpunkt har den storleken.")
    return checkpoint


def prove_inclusion(
    session: Session, *, event_id: uuid.UUID, size: int | None = None
) -> InclusionProof:
    """Proof that the event sits at its position in the tree of a signed checkpoint
    (the latest one unless `size` names another)."""
    repository = AuditLogRepository(session)
    leaf = repository.leaf_of_event(event_id)
    if leaf is None:
        raise NotFound()
    checkpoint = _checkpoint(repository, size, "size")
    if leaf.position >= checkpoint.size:
        raise ValidationFailed.one(
            "size", "Händelsen ligger efter kontrollpunkten; välj en senare."
        )
    return InclusionProof(
        event_id=event_id,
        position=leaf.position,
        leaf_hash=bytes(leaf.leaf_hash),
        checkpoint=checkpoint,
        path=inclusion_proof(leaf.position, checkpoint.size, repository.node),
    )


def prove_consistency(
    session: Session, *, old_size: int, new_size: int | None = None
) -> ConsistencyProof:
    """Proof that the tree at `old_size` is a prefix of the tree at `new_size` (default: latest)."""
    repository = AuditLogRepository(session)
    old = _checkpoint(repository, old_size, "old_size")
    new = _checkpoint(repository, new_size, "new_size")
    if not 0 < old.size <= new.size:
        raise ValidationFailed.one("old_size", "Den äldre kontrollpunkten måste vara den mindre.")
    return ConsistencyProof(
        old=old, new=new, path=consistency_proof(old.size, new.size, repository.node)
    )


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The latest well-formed signed tree head, passing over rows written behind the
    sequencer's back (garbage, another size's note, a size beyond the log)."""
    repository = AuditLogRepository(session)
    log_size = repository.size()
    rows = repository.latest_checkpoints(LATEST_SEARCH)
    return next((row for row in rows if _well_formed(row, log_size)), None)
