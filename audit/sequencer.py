"""The sequencer: gives committed audit events their positions in the Merkle log.

The Trillian pattern: requests commit their event rows with their own work and take no lock;
one sequencer at a time assigns gap-free positions in batches, stores the leaves and the
perfect-subtree hashes, and signs a checkpoint. On PostgreSQL every process runs a sequencer
thread and the one holding a session-level advisory lock does the work; each integration also
takes a transaction-level lock, and the primary key on the position is the last guard, so two
sequencers can never give out the same position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from audit.canonical import header, payload_hash
from audit.checkpoints import Checkpoint, sign_checkpoint
from audit.merkle import CompactRange, leaf_hash
from audit.models import AuditCheckpoint
from audit.repository import AuditLogRepository, try_to_lead
from common.background import Periodic
from common.clock import utcnow
from common.db import new_session

log = structlog.get_logger("samsyn.audit.sequencer")

# Events are picked up only this far back; older unintegrated events are reported by verify
# (no request transaction lives this long, so such an event was inserted behind our back).
LOOKBACK = timedelta(hours=1)
BATCH_SIZE = 1000
LATEST_NOTE = "latest.note"


@dataclass(frozen=True)
class LogSigner:
    origin: str
    key: Ed25519PrivateKey

    @property
    def key_name(self) -> str:
        return self.origin


def integrate(
    session: Session, signer: LogSigner, *, batch_size: int = BATCH_SIZE
) -> AuditCheckpoint | None:
    """Integrate one batch of pending events and sign the new tree head; None if none waited."""
    log_rows = AuditLogRepository(session)
    log_rows.lock_for_integration()
    size = log_rows.size()
    events = log_rows.pending_events(since=utcnow() - LOOKBACK, limit=batch_size)
    if not events:
        return None
    tree = CompactRange.from_nodes(size, log_rows.node)
    now = utcnow()
    leaves: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    for offset, event in enumerate(events):
        position = size + offset
        content_hash = payload_hash(event)
        leaf = leaf_hash(header(position, event), content_hash)
        leaves.append(
            {
                "position": position,
                "event_id": event.id,
                "payload_hash": content_hash,
                "leaf_hash": leaf,
                "integrated_at": now,
            }
        )
        nodes.extend(
            {"level": level, "index": index, "hash": subtree}
            for level, index, subtree in tree.append(leaf)
        )
    log_rows.add_leaves(leaves, nodes)
    root = tree.root()
    signed = sign_checkpoint(
        Checkpoint(origin=signer.origin, size=tree.size, root=root), signer.key, signer.key_name
    )
    checkpoint = AuditCheckpoint(size=tree.size, root=root, note=signed.to_note(), created_at=now)
    log_rows.add(checkpoint)
    log_rows.flush()
    return checkpoint


def integrate_all(session: Session, signer: LogSigner) -> AuditCheckpoint | None:
    """Integrate until nothing waits (for the CLI and tests); the last checkpoint, if any."""
    latest = None
    while (checkpoint := integrate(session, signer)) is not None:
        latest = checkpoint
    return latest


def export_note(note: str, directory: Path) -> None:
    """Write the latest signed note outside the database, atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / (LATEST_NOTE + ".tmp")
    temporary.write_text(note, encoding="utf-8")
    temporary.replace(directory / LATEST_NOTE)


class Sequencer:
    """A background thread that integrates every `interval` while this process leads."""

    def __init__(
        self,
        engine: Engine,
        signer: LogSigner,
        *,
        interval: float = 0.5,
        export_dir: Path | None = None,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._export_dir = export_dir
        # A round that integrated something may have left more: it runs again at once.
        self._thread = Periodic("audit-sequencer", interval, lambda: self.run_once() is not None)
        self._leader: Connection | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        if self._leader is not None:
            self._leader.close()
            self._leader = None

    def _is_leader(self) -> bool:
        if self._engine.dialect.name != "postgresql":
            return True  # the embedded default runs one process
        try:
            if self._leader is None:
                connection = self._engine.connect()
                if not try_to_lead(connection):
                    connection.close()
                    return False
                self._leader = connection
                log.info("audit_sequencer_leading")
            return True
        except Exception:  # a lost connection releases the lock; try again next round
            self._leader = None
            raise

    def run_once(self) -> AuditCheckpoint | None:
        if not self._is_leader():
            return None
        with new_session(self._engine) as session:
            checkpoint = integrate(session, self._signer)
            session.commit()
        if checkpoint is not None and self._export_dir is not None:
            export_note(checkpoint.note, self._export_dir)
        return checkpoint
