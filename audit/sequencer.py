"""The sequencer: gives committed audit events their positions in the Merkle log.

The Trillian pattern: requests commit their event rows with their own work and take no lock;
one sequencer at a time assigns gap-free positions in batches, stores the leaves and the
perfect-subtree hashes, and signs a checkpoint. On PostgreSQL every process runs a sequencer
thread and the one holding a session-level advisory lock does the work; each integration also
takes a transaction-level lock, and the primary key on the position is the last guard, so two
sequencers can never give out the same position.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from audit.canonical import header_of, payload_of
from audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    parse_note,
    sign_checkpoint,
    verify_signed,
)
from audit.merkle import EMPTY_ROOT, CompactRange, consistency_proof, leaf_hash, verify_consistency
from audit.repository import AuditLogRepository, LeafBatch, try_to_lead
from common.background import Periodic
from common.clock import utcnow
from common.db import new_session

log = structlog.get_logger("samsyn.audit.sequencer")

BATCH_SIZE = 1000
LATEST_NOTE = "latest.note"


@dataclass(frozen=True)
class LogSigner:
    origin: str
    key: Ed25519PrivateKey

    @property
    def key_name(self) -> str:
        return self.origin

    def verifies(self, note: str) -> Checkpoint | None:
        """The checkpoint of `note` if it is this log's and carries a valid signature of its key."""
        try:
            signed = parse_note(note)
        except CheckpointError:
            return None
        if signed.checkpoint.origin != self.origin or not verify_signed(
            signed, self.key.public_key(), self.key_name
        ):
            return None
        return signed.checkpoint


class ExportMismatch(Exception):
    """The log in the database does not extend the checkpoint exported before: it was cut back,
    replaced or rewritten. Signing on would publish a fork, so the sequencer refuses."""


@dataclass(frozen=True)
class Integration:
    """One integrated batch: the signed note, whether its checkpoint row could be stored
    (False: a row already sat at that size; it was skipped and reported), and whether it took
    as many events as a batch may (`full`: more may be waiting)."""

    size: int
    note: str
    stored: bool
    head: SignedHead
    full: bool


@dataclass(frozen=True)
class SignedHead:
    """What a sequencer keeps of the tree head it signed last, so that its next batch need not
    read it back: the right edge of the tree (`CompactRange.peaks`) and the signed time. It
    describes the log only while the log still has `size` leaves: leaves are only ever
    appended, by a sequencer holding the integration lock, so an unchanged size under that
    lock means the same leaves."""

    size: int
    peaks: tuple[bytes, ...]
    time: int


def _unix_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def integrate(
    session: Session,
    signer: LogSigner,
    *,
    batch_size: int = BATCH_SIZE,
    anchor: Checkpoint | None = None,
    last: SignedHead | None = None,
) -> Integration | None:
    """Integrate one batch of pending events and sign the new tree head; None if none waited.

    Every queued event is taken, however old: the queue is the sequencer's whole work list,
    and an event that waited through an outage is as much part of the log as a fresh one
    (verify judges back-dating by the signed times, not the sequencer).

    `anchor` is the checkpoint exported before; the new tree must extend it (consistency
    proof), or `ExportMismatch` is raised and nothing may be committed. The note carries the
    signing time, never earlier than the previous checkpoint's, and the previous checkpoint's
    size (every batch ends in a checkpoint, so that is the tree size before this batch).

    A row already stored at the new size (only someone writing behind the sequencer's back
    puts one there; the table is append-only, so it cannot be replaced) is left alone and
    logged; the note is still returned so that it can be exported.

    `last` is the head this caller signed and committed last (`Integration.head`): if the log
    has not grown since, the tree's edge and the previous signed time are taken from it
    instead of from the database."""
    log_rows = AuditLogRepository(session)
    if not log_rows.any_pending():  # the idle round: one index probe, no lock
        return None
    log_rows.lock_for_integration()
    size = log_rows.size()
    events = log_rows.pending_rows(limit=batch_size)
    if not events:
        return None
    if last is not None and last.size == size:
        tree, previous_time = CompactRange(size, last.peaks), last.time
    else:
        tree, previous_time = CompactRange(size, log_rows.right_edge(size)), None
    now = utcnow()
    event_ids: list[uuid.UUID] = []
    payload_hashes: list[bytes] = []
    leaf_hashes: list[bytes] = []
    nodes: list[tuple[int, int, bytes]] = []
    for position, event in enumerate(events, start=size):
        event_id, occurred_at = event[0], event[1]  # EVENT_COLUMNS begins with both
        content_hash = hashlib.sha256(payload_of(*event)).digest()
        leaf = leaf_hash(header_of(position, event_id, occurred_at), content_hash)
        event_ids.append(event_id)
        payload_hashes.append(content_hash)
        leaf_hashes.append(leaf)
        nodes.extend(tree.append(leaf))
    log_rows.add_leaves(
        LeafBatch(
            start=size,
            event_ids=event_ids,
            payload_hashes=payload_hashes,
            leaf_hashes=leaf_hashes,
            integrated_at=now,
            nodes=nodes,
        )
    )
    root = tree.root()
    if anchor is not None:
        _check_extends(log_rows, anchor, tree.size, root)
    time = max(_unix_seconds(now), _previous_time(log_rows, signer, size, anchor, previous_time))
    signed = sign_checkpoint(
        Checkpoint(origin=signer.origin, size=tree.size, root=root, time=time, previous=size),
        signer.key,
        signer.key_name,
    )
    note = signed.to_note()
    stored = log_rows.add_checkpoint(
        {"size": tree.size, "root": root, "note": note, "created_at": now}
    )
    if not stored:
        log.error("audit_checkpoint_row_skipped", size=tree.size)
    head = SignedHead(size=tree.size, peaks=tuple(tree.peaks), time=time)
    return Integration(
        size=tree.size, note=note, stored=stored, head=head, full=len(events) >= batch_size
    )


def _previous_time(
    log_rows: AuditLogRepository,
    signer: LogSigner,
    size: int,
    anchor: Checkpoint | None,
    signed: int | None = None,
) -> int:
    """The signed time of the tree head before this batch (0 if none is known), so that
    signed times never go backwards even if the clock does. `signed`: that head's time as
    its own sequencer signed it (then its stored row is not read back)."""
    times = [0]
    if anchor is not None and anchor.time is not None:
        times.append(anchor.time)
    if signed is not None:
        return max(*times, signed)
    row = log_rows.checkpoint(size) if size else None
    if row is not None and (previous := signer.verifies(row.note)) is not None:
        times.append(previous.time or 0)
    return max(times)


def _check_extends(
    log_rows: AuditLogRepository, anchor: Checkpoint, size: int, root: bytes
) -> None:
    if anchor.size > size:
        raise ExportMismatch(
            f"the exported checkpoint covers {anchor.size} leaves, the log has {size}"
        )
    if anchor.size == 0:
        consistent = anchor.root == EMPTY_ROOT
    elif anchor.size == size:
        consistent = anchor.root == root
    else:
        try:
            proof = consistency_proof(anchor.size, size, log_rows.node)
        except LookupError:
            proof = []
        consistent = verify_consistency(anchor.size, size, proof, anchor.root, root)
    if not consistent:
        raise ExportMismatch(
            f"the log at size {size} does not extend the exported checkpoint at size {anchor.size}"
        )


def check_current_tree(session: Session, anchor: Checkpoint) -> None:
    """Raise `ExportMismatch` unless the stored tree as it is extends `anchor`."""
    log_rows = AuditLogRepository(session)
    size = log_rows.size()
    if anchor.size > size:
        raise ExportMismatch(
            f"the exported checkpoint covers {anchor.size} leaves, the log has {size}"
        )
    try:
        root = CompactRange.from_nodes(size, log_rows.node).root()
    except LookupError as exc:
        raise ExportMismatch(f"the stored tree of size {size} is incomplete") from exc
    _check_extends(log_rows, anchor, size, root)


def integrate_all(
    session: Session, signer: LogSigner, *, anchor: Checkpoint | None = None
) -> Integration | None:
    """Integrate until nothing waits (for the CLI and tests); the last batch, if any."""
    latest = None
    while (batch := integrate(session, signer, anchor=anchor)) is not None:
        latest = batch
    return latest


def read_export(directory: Path, signer: LogSigner) -> Checkpoint | None:
    """The checkpoint last exported to `directory`; None if none was; `ExportMismatch` if the
    file is there but is not a note of this log signed by its key."""
    path = directory / LATEST_NOTE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportMismatch(f"the exported note cannot be read ({type(exc).__name__})") from exc
    checkpoint = signer.verifies(text)
    if checkpoint is None:
        raise ExportMismatch("the exported note is not a checkpoint signed by this log's key")
    return checkpoint


def export_note(note: str, directory: Path) -> None:
    """Write the latest signed note outside the database, atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / (LATEST_NOTE + ".tmp")
    temporary.write_text(note, encoding="utf-8")
    temporary.replace(directory / LATEST_NOTE)


@dataclass
class SequencerStatus:
    """What this process's sequencer last did, for /healthz. Only counts, sizes and states:
    never an event's content.

    `state`: "starting" before the first round, "leading" while it integrates, "standby"
    while another process leads (PostgreSQL), "refusing" while the log does not extend the
    exported checkpoint, "failing" while rounds raise."""

    state: str = "starting"
    reason: str | None = None
    last_round_at: datetime | None = None
    last_progress_at: datetime | None = None
    skipped_checkpoint_rows: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def snapshot(self) -> SequencerStatus:
        with self._lock:
            return SequencerStatus(
                state=self.state,
                reason=self.reason,
                last_round_at=self.last_round_at,
                last_progress_at=self.last_progress_at,
                skipped_checkpoint_rows=self.skipped_checkpoint_rows,
            )

    def record(self, state: str, reason: str | None = None, *, progress: bool = False) -> None:
        with self._lock:
            self.state = state
            self.reason = reason
            self.last_round_at = utcnow()
            if progress:
                self.last_progress_at = self.last_round_at

    def count_skipped_row(self) -> None:
        with self._lock:
            self.skipped_checkpoint_rows += 1


class Sequencer:
    """A background thread that integrates every `interval` while this process leads."""

    def __init__(
        self,
        engine: Engine,
        signer: LogSigner,
        *,
        interval: float = 0.2,
        export_dir: Path | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._batch_size = batch_size
        self._export_dir = export_dir
        self._thread = Periodic("audit-sequencer", interval, self._more_waiting)
        self._leader: Connection | None = None
        self._checked_export: tuple[Checkpoint | None, int] | None = None
        self._head: SignedHead | None = None  # of this sequencer's last committed batch
        self.status = SequencerStatus()

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

    def _latest_signed(self, session: Session, anchor: Checkpoint | None) -> str | None:
        """The note of the stored checkpoint at the log's end, if it is valid and newer than
        the export (the tree was just checked to extend the export)."""
        log_rows = AuditLogRepository(session)
        size = log_rows.size()
        row = log_rows.checkpoint(size) if size else None
        if row is None or (anchor is not None and anchor.size >= size):
            return None
        checkpoint = self._signer.verifies(row.note)
        if checkpoint is None or checkpoint.size != size or checkpoint.root != row.root:
            return None
        return row.note

    def _more_waiting(self) -> bool:
        """One round; whether the next should run at once rather than after `interval`.

        Only a full batch may have left events behind. A partial one took the whole queue as
        it was read, and what arrived since waits for the next round, at most `interval`.
        Running again at once after every batch, as this did before, meant that under steady
        load rounds ran back to back, each taking the few events committed during the last:
        more than ten rounds a second under 150 case reads a second, each a transaction of
        seven statements and a signature, where one round in `interval` does the same work."""
        batch = self.run_once()
        return batch is not None and batch.full

    def run_once(self) -> Integration | None:
        try:
            return self._round()
        except ExportMismatch as exc:
            if self.status.state != "refusing" or self.status.reason != str(exc):
                log.error(
                    "audit_export_inconsistent",
                    reason=str(exc),
                    export_dir=str(self._export_dir),
                    action="refusing to sign until the log or the export is put right",
                )
            self.status.record("refusing", str(exc))
            return None
        except Exception as exc:
            self.status.record("failing", type(exc).__name__)
            raise

    def _round(self) -> Integration | None:
        if not self._is_leader():
            self.status.record("standby")
            return None
        anchor = None
        if self._export_dir is not None:
            anchor = read_export(self._export_dir, self._signer)
        catch_up = None
        last, self._head = self._head, None  # kept only once the next batch is committed
        with new_session(self._engine) as session:
            batch = integrate(
                session, self._signer, batch_size=self._batch_size, anchor=anchor, last=last
            )
            if batch is None and self._export_dir is not None:
                # With nothing queued, whenever the log's size or the export changed since the
                # last look (one index probe otherwise): refuse at once if the log no longer
                # extends the export, and bring a missing or lagging export up to date.
                seen = (anchor, AuditLogRepository(session).size())
                if seen != self._checked_export:
                    if anchor is not None:
                        check_current_tree(session, anchor)
                    catch_up = self._latest_signed(session, anchor)
                    self._checked_export = seen
            session.commit()
        self._head = last if batch is None else batch.head
        if catch_up is not None and self._export_dir is not None:
            export_note(catch_up, self._export_dir)
        if batch is not None and not batch.stored:
            self.status.count_skipped_row()
        if batch is not None and self._export_dir is not None:
            export_note(batch.note, self._export_dir)
        self.status.record("leading", progress=True)
        return batch
