"""Recompute the whole log and check it against the stored hashes and the signed checkpoints.

What it catches, and how it names it:
- an event row altered, deleted or swapped: its payload or header no longer gives the stored
  leaf hash (the header binds position and event id);
- an id or time re-spelled in the database (SQLite stores them as text, and one UUID has many
  spellings that parse alike, so the hashes still match while a search by the canonical form
  misses the row): the stored form differs from the form the value is written in;
- a leaf row removed or a gap: the positions are not 0, 1, 2, …;
- stored hashes rewritten to match a change: the recomputed root differs from a signed
  checkpoint, which nobody without the signing key can re-sign;
- the log cut back to an earlier state: a checkpoint held outside the database is larger than
  the log or has another root;
- stored checkpoints deleted from some position on: the stored checkpoints no longer reach
  the log's end; deleted anywhere else: a later checkpoint names, in its signed `previous`
  line, a size that has no checkpoint any more;
- an event inserted afterwards with an old time (back-dated), judged by signed times only.

Back-dating. Each checkpoint signed since times were signed carries its signing time T (whole
seconds) and the size of the checkpoint before it inside the signed note; a row's
`created_at` is never trusted. For the event at position p:
- let B be the largest signed time of a checkpoint of size <= p whose batch did not fill
  (size - previous < BATCH_SIZE). Such a batch took everything committed in the queue, so an
  event placed after it was committed after B was signed. Its `occurred_at` is taken when the
  request starts, before its commit, so it may be earlier than B only by the length of one
  request transaction plus clock skew between processes: `occurred_at >= B - TOLERANCE`.
  (A full batch may leave older events queued — the backlog of an outage — so its time
  bounds nothing below it.);
- let A be the signed time of the first checkpoint of size > p, the first to include it. The
  event existed when that head was signed: `occurred_at <= A + TOLERANCE`.
Signed times never decrease with the size (the sequencer signs max(now, previous time)); a
decrease is itself reported. Exported notes count as signed checkpoints like stored ones.
Checkpoints from before the time line carry no time and constrain nothing: for that old part
of a log, back-dating is not judged. A queued event dated before B of the log's end minus the
tolerance will land after that head, so it is reported before it is even integrated.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from audit.canonical import HEADER_TAG, header_of, micros, payload_of
from audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    SignedCheckpoint,
    parse_note,
    verify_signed,
)
from audit.merkle import (
    HASH_SIZE,
    CompactRange,
    consistency_proof,
    leaf_hash,
    verify_consistency,
)
from audit.models import AuditCheckpoint, AuditEvent
from audit.repository import AuditLogRepository
from audit.rows import EVENT as _EVENT
from audit.rows import RowReader
from audit.sequencer import BATCH_SIZE

# The longest a request transaction lives plus clock skew between processes: an event's time
# may lie this far on the wrong side of a signed time and still have come through the
# application.
TOLERANCE = timedelta(minutes=15)


@dataclass(frozen=True)
class Problem:
    position: int | None
    message: str
    exact: bool = True  # False: `position` is only the first position the problem can lie at

    def __str__(self) -> str:
        if self.position is None:
            return f"log: {self.message}"
        where = f"position {self.position}" + ("" if self.exact else " or later")
        return f"{where}: {self.message}"


@dataclass
class VerifyReport:
    size: int = 0
    checkpoints_checked: int = 0
    external_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    start: int = 0  # the first position recomputed (the remembered size for an incremental run)
    # The note of the largest checkpoint whose root the recomputed tree matched: what a state
    # file may remember once the report is ok.
    verified_note: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_position(self) -> int | None:
        """The lowest exactly named position; else the lowest position a problem can start at."""
        exact = [p.position for p in self.problems if p.position is not None and p.exact]
        bounds = [p.position for p in self.problems if p.position is not None]
        return min(exact) if exact else min(bounds) if bounds else None

    @property
    def first_bad_position_is_exact(self) -> bool:
        return any(p.exact and p.position == self.first_bad_position for p in self.problems)


@dataclass
class _Heads:
    """The valid signed tree heads a run checks against: stored rows (with their notes) and
    notes held outside the database, by size."""

    stored: dict[int, Checkpoint] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    outside: dict[int, Checkpoint] = field(default_factory=dict)
    outside_notes: dict[int, str] = field(default_factory=dict)


def verify_log(
    session: Session,
    *,
    public_key: Ed25519PublicKey,
    origin: str,
    key_name: str | None = None,
    external: Sequence[SignedCheckpoint] = (),
    export_expected: bool = False,
    batch_size: int = BATCH_SIZE,
) -> VerifyReport:
    """`key_name` is the verifier key's name (default: the origin); only signature lines of
    that name and key count, others (a witness's cosignature) are ignored. `export_expected`:
    an export directory is configured, so a non-empty log must have an exported checkpoint.
    `batch_size` is the sequencer's (tests that integrate in small batches pass theirs)."""
    name = origin if key_name is None else key_name
    repository = AuditLogRepository(session)
    report = VerifyReport()
    rows = {c.size: c for c in repository.checkpoints()}
    heads = _Heads()
    for row in rows.values():
        valid = _check_signature(report, row, public_key, origin, name)
        if valid is not None:
            heads.stored[row.size] = valid
            heads.notes[row.size] = row.note
    _read_external(report, heads, external, public_key, origin, name)
    _check_chain(report, heads.stored, heads.outside, known=set())
    tree = _scan(report, session, heads, start=0, tree=CompactRange(), batch_size=batch_size)
    _check_after_scan(
        report, repository, rows, heads, tree, public_key, origin, name, export_expected, batch_size
    )
    for event in repository.unqueued_without_leaf():
        report.problems.append(_unqueued(event))
    report.problems.sort(key=lambda p: (p.position is None, not p.exact, p.position or 0))
    return report


def verify_incremental(
    session: Session,
    *,
    since: SignedCheckpoint,
    public_key: Ed25519PublicKey,
    origin: str,
    key_name: str | None = None,
    external: Sequence[SignedCheckpoint] = (),
    export_expected: bool = False,
    batch_size: int = BATCH_SIZE,
) -> VerifyReport:
    """Verify only what came after `since`, a checkpoint an earlier run verified (kept outside
    the database): that the log still holds it, an RFC 9162 consistency proof from it to the
    newest stored checkpoint, and every leaf after it recomputed as `verify_log` does, with
    the signed checkpoints, stored subtree hashes and exported notes from its size on.

    By design it does not look at leaves before `since`: a tampered old event is found only
    by the full `verify_log` (run it regularly, e.g. weekly). Back-dating is judged by the
    signed times of checkpoints from `since` on, so for the first events after `since` the
    bound may be looser than the full run's."""
    name = origin if key_name is None else key_name
    repository = AuditLogRepository(session)
    report = VerifyReport()
    remembered = since.checkpoint
    if remembered.origin != origin or not verify_signed(since, public_key, name):
        report.problems.append(
            Problem(
                None, "the remembered checkpoint (state file) has no valid signature for this log"
            )
        )
        return report
    old = remembered.size
    report.start = report.size = old
    log_size = repository.size()
    if old > log_size:
        report.problems.append(
            Problem(
                None,
                f"the remembered checkpoint covers {old} leaves but the log has {log_size}: "
                "the log was cut back",
            )
        )
        return report
    if old == 0:
        return verify_log(
            session,
            public_key=public_key,
            origin=origin,
            key_name=key_name,
            external=external,
            export_expected=export_expected,
            batch_size=batch_size,
        )
    row = repository.checkpoint(old)
    if row is None or row.root != remembered.root:
        what = "is missing from the log" if row is None else "differs from the log's"
        report.problems.append(
            Problem(
                None,
                f"the remembered checkpoint at size {old} {what}: the state file does not "
                "match this log (replaced, rewritten, or another log)",
            )
        )
        return report
    try:
        tree = CompactRange.from_nodes(old, repository.node)
    except LookupError:
        tree = None
    if tree is None or tree.root() != remembered.root:
        report.problems.append(
            Problem(
                None,
                f"the stored subtree hashes at size {old} do not give the remembered root: "
                "the tree before it was rewritten (run the full verify)",
            )
        )
        return report

    rows = {c.size: c for c in repository.checkpoints(after=old - 1)}
    heads = _Heads()
    for stored_row in rows.values():
        valid = _check_signature(report, stored_row, public_key, origin, name)
        if valid is not None:
            heads.stored[stored_row.size] = valid
            heads.notes[stored_row.size] = stored_row.note
    older_outside = _read_external(report, heads, external, public_key, origin, name, since=old)
    for _, checkpoint in sorted(older_outside.items()):
        _check_consistent(report, repository, checkpoint, remembered, "external")
    # The remembered head's own predecessor was checked by the run that verified it.
    _check_chain(report, heads.stored, heads.outside, known={old, remembered.previous or 0})
    report.verified_note = since.to_note()
    tree = _scan(report, session, heads, start=old, tree=tree, batch_size=batch_size)
    newest = max((size for size in heads.stored if size <= report.size), default=old)
    if newest > old:
        _check_consistent(report, repository, remembered, heads.stored[newest], "stored")
    _check_after_scan(
        report, repository, rows, heads, tree, public_key, origin, name, export_expected, batch_size
    )
    since_time = None if remembered.time is None else _at(remembered.time) - TOLERANCE
    for event in repository.unqueued_without_leaf(since=since_time):
        report.problems.append(_unqueued(event))
    report.problems.sort(key=lambda p: (p.position is None, not p.exact, p.position or 0))
    return report


def _check_consistent(
    report: VerifyReport,
    repository: AuditLogRepository,
    old: Checkpoint,
    new: Checkpoint,
    kind: str,
) -> None:
    """An RFC 9162 consistency proof from `old` to `new`, built from the stored subtree
    hashes as `audit.proofs` builds it, verifies against both signed roots."""
    if old.size == new.size:
        consistent = old.root == new.root
    else:
        try:
            proof = consistency_proof(old.size, new.size, repository.node)
        except LookupError:
            proof = []
        consistent = verify_consistency(old.size, new.size, proof, old.root, new.root)
    if not consistent:
        report.problems.append(
            Problem(
                None,
                f"no consistency proof from the {kind if kind == 'external' else 'remembered'} "
                f"checkpoint at size {old.size} to the one at size {new.size}: the log was "
                "rewritten or forked",
            )
        )


def _read_external(
    report: VerifyReport,
    heads: _Heads,
    external: Sequence[SignedCheckpoint],
    public_key: Ed25519PublicKey,
    origin: str,
    name: str,
    *,
    since: int = 0,
) -> dict[int, Checkpoint]:
    """Valid external notes from `since` on go into `heads`; the older ones are returned."""
    older: dict[int, Checkpoint] = {}
    for signed in external:
        report.external_checked += 1
        if signed.checkpoint.origin != origin or not verify_signed(signed, public_key, name):
            report.problems.append(
                Problem(
                    None,
                    f"external checkpoint at size {signed.checkpoint.size} "
                    "has no valid signature for this log",
                )
            )
            continue
        size = signed.checkpoint.size
        if size < since:
            older[size] = signed.checkpoint
        else:
            heads.outside[size] = signed.checkpoint
            heads.outside_notes[size] = signed.to_note()
    return older


class _NodeCheck:
    """Compares the perfect subtrees the recomputed tree completes with the stored ones, one
    cursor per level walking it in index order: streamed, so memory stays flat.

    On a level, the subtrees complete in index order from `start >> level` on, each taking
    the next stored row: so the rows read on a level that has not broken are the subtrees
    completed so far, and need no count of their own."""

    def __init__(self, repository: AuditLogRepository, start: int) -> None:
        self._repository = repository
        self._start = start
        self._cursors: dict[int, Generator[Sequence[Any]]] = {}  # level -> its chunks
        self._streams: dict[int, Iterator[Any]] = {}  # the levels not broken, row by row
        # level -> (stored rows read when it broke, the rest of its rows)
        self._broken: dict[int, tuple[int, Iterator[Any]]] = {}
        self.problem: Problem | None = None

    def _open(self, level: int) -> Iterator[Any]:
        cursor = self._repository.node_hash_chunks(level, self._start >> level)
        self._cursors[level] = cursor
        stream = self._streams[level] = chain.from_iterable(cursor)
        return stream

    def completed(self, level: int, index: int, value: bytes) -> None:
        if self.problem is not None:
            return
        stream = self._streams.get(level)
        if stream is None:
            if level in self._broken:
                return
            stream = self._open(level)
        found = next(stream, None)
        if found is None or found[0] != index:
            del self._streams[level]
            self._broken[level] = (index - (self._start >> level) + (found is not None), stream)
            return
        if found[1] != value:
            first = index << level
            self.problem = Problem(
                first,
                f"stored subtree hash at level {level} (leaves from {first}) is wrong",
                exact=False,
            )

    def finish(self, report: VerifyReport, size: int) -> None:
        try:
            self._finish(report, size)
        finally:
            for cursor in self._cursors.values():
                cursor.close()

    def _finish(self, report: VerifyReport, size: int) -> None:
        if self.problem is not None:
            report.problems.append(self.problem)
            return
        for level in range(1, max(size.bit_length(), 1) + 1):
            expected = (size >> level) - (self._start >> level)
            if level in self._broken:
                read, stream = self._broken[level]
            else:
                # a level with nothing completed must hold nothing
                stream = self._streams.get(level) or self._open(level)
                read = max(expected, 0)
            stored = read + sum(1 for _ in stream)
            if level in self._broken or stored != expected:
                report.problems.append(
                    Problem(
                        None,
                        f"level {level} has {stored} stored subtree hashes, expected {expected}",
                    )
                )
                return


def _scan(
    report: VerifyReport,
    session: Session,
    heads: _Heads,
    *,
    start: int,
    tree: CompactRange,
    batch_size: int,
) -> CompactRange:
    """Recompute every leaf from `start` on from plain rows, extend `tree` with them, and check
    them, the signed roots at their sizes and the stored subtree hashes."""
    repository = AuditLogRepository(session)
    stored, outside = heads.stored, heads.outside
    times, emptied = _times(report, heads, batch_size)
    # Times as microseconds since the epoch, as the leaf header has them: comparing those is
    # comparing the UTC times themselves.
    lower = sorted((size, micros(_at(time) - TOLERANCE)) for size, time in emptied.items())
    upcoming = sorted(
        (size, time, micros(_at(time + 1) + TOLERANCE)) for size, time in times.items()
    )
    lower_at = upcoming_at = 0
    next_lower = lower[0][0] if lower else _NEVER
    next_upcoming = upcoming[0][0] if upcoming else _NEVER
    latest_at = upcoming[0][2] if upcoming else None
    signed_sizes = {size for size in (*stored, *outside) if size > start}
    reader = RowReader(session.get_bind().dialect)
    fast = reader.fast if reader.fast_enabled else None
    nodes = _NodeCheck(repository, start)
    matching_size = start  # the largest checkpoint so far whose root the recomputed tree matches
    expected = start
    earliest: int | None = None  # B - TOLERANCE for the current position, in microseconds
    sha256 = hashlib.sha256
    leaf_prefix = b"\x00" + HEADER_TAG
    pack_position, pack_time = struct.Struct(">Q").pack, struct.Struct(">q").pack
    append, completed = tree.append, nodes.completed
    rows = repository.verification_rows(start)
    for row in rows:
        if row[0] != expected:
            report.problems.append(
                Problem(expected, f"missing: the next stored leaf is at {row[0]}")
            )
            rows.close()
            break
        if expected >= next_lower:
            while lower_at < len(lower) and lower[lower_at][0] <= expected:
                earliest = lower[lower_at][1]
                lower_at += 1
            next_lower = lower[lower_at][0] if lower_at < len(lower) else _NEVER
        if expected >= next_upcoming:
            while upcoming_at < len(upcoming) and upcoming[upcoming_at][0] <= expected:
                upcoming_at += 1
            if upcoming_at < len(upcoming):
                next_upcoming, latest_at = upcoming[upcoming_at][0], upcoming[upcoming_at][2]
            else:
                next_upcoming, latest_at = _NEVER, None
        # Only hashes recomputed here are hashed further: stored ones may be any bytes at all.
        read = None if fast is None else fast(row)
        occurred: int | None
        if read is not None:
            # The row is stored exactly as written (see `audit.rows`): the same payload, id
            # and time as the general way below, and no re-spelled column.
            id_bytes, occurred, content_text = read
            content = sha256(content_text).digest()
            if content != row[2]:
                event = uuid.UUID(hex=row[_EVENT])
                report.problems.append(Problem(expected, f"the event {event} was altered"))
            recomputed = sha256(
                leaf_prefix + pack_position(expected) + id_bytes + pack_time(occurred) + content
            ).digest()
            if recomputed != row[3]:
                report.problems.append(_misplaced(expected))
        else:
            recomputed, occurred = _check_row(report, reader, row, expected)
        if occurred is not None:
            if earliest is not None and occurred < earliest:
                report.problems.append(
                    Problem(
                        expected,
                        "the event is dated before an earlier checkpoint was signed: "
                        "added afterwards",
                    )
                )
            if latest_at is not None and occurred > latest_at:
                report.problems.append(
                    Problem(
                        expected,
                        f"the event is dated after checkpoint {upcoming[upcoming_at][0]}, "
                        "which includes it, was signed",
                    )
                )
        for level, index, value in append(recomputed):
            completed(level, index, value)
        expected += 1
        if expected in signed_sizes:
            _compare_roots(report, tree, stored, outside, matching_size)
            root = tree.root()
            if expected in stored and stored[expected].root == root:
                matching_size = expected
                report.verified_note = heads.notes[expected]
            elif expected in outside and outside[expected].root == root:
                report.verified_note = heads.outside_notes[expected]
    report.size = expected
    nodes.finish(report, expected)
    return tree


def _check_after_scan(
    report: VerifyReport,
    repository: AuditLogRepository,
    rows: dict[int, AuditCheckpoint],
    heads: _Heads,
    tree: CompactRange,
    public_key: Ed25519PublicKey,
    origin: str,
    name: str,
    export_expected: bool,
    batch_size: int,
) -> None:
    stored, outside = heads.stored, heads.outside
    for size, row in sorted(rows.items()):
        if size > report.size and size in stored:  # an invalid row is reported already
            report.problems.append(
                Problem(
                    None,
                    f"checkpoint at size {size} is beyond the log "
                    f"({report.size} leaves): leaves were removed",
                )
            )
        elif size == 0 and row.root != tree.root():
            report.problems.append(Problem(None, "the empty checkpoint has a wrong root"))
    for size in sorted(outside):
        if size > report.size:
            report.problems.append(
                Problem(
                    None,
                    f"an external checkpoint covers {size} leaves but the "
                    f"log has {report.size}: the log was cut back",
                )
            )
    _check_end_is_signed(report, repository, stored, tree, public_key, origin, name)
    if export_expected and report.size > 0 and not outside and report.start == 0:
        report.problems.append(
            Problem(None, "no exported checkpoint of this log was found in the export directory")
        )
    _, emptied = _times(VerifyReport(), heads, batch_size)  # its problems are reported
    if emptied:
        threshold = _at(max(emptied.values())) - TOLERANCE
        for pending in repository.pending_dated_before(threshold):
            report.problems.append(
                Problem(
                    None,
                    f"the queued event {pending.id} is dated before the latest checkpoint "
                    "was signed: added afterwards",
                )
            )


def _times(
    report: VerifyReport, heads: _Heads, batch_size: int
) -> tuple[dict[int, int], dict[int, int]]:
    """The signed times by size, and those of the heads whose batch emptied the queue (the
    B candidates, see the module docstring)."""
    all_heads = {**heads.outside, **heads.stored}
    times = _signed_times(report, list(all_heads.values()))
    emptied = {
        size: time
        for size, time in times.items()
        if (previous := all_heads[size].previous) is None or size - previous < batch_size
    }
    return times, emptied


def _unqueued(event: AuditEvent) -> Problem:
    return Problem(
        None,
        f"the event {event.id} has no position and is not queued for one "
        "(taken off the sequencer's queue behind the application's back?)",
    )


_NEVER = 2**64  # beyond any position


def _misplaced(position: int) -> Problem:
    return Problem(
        position,
        "the leaf does not belong to this position and event (moved, swapped or rewritten)",
    )


def _check_row(
    report: VerifyReport, reader: RowReader, row: Sequence[Any], expected: int
) -> tuple[bytes, int | None]:
    """The general way (see `audit.rows`): read the row through its column types, recompute
    its leaf from `payload_of`, and report what does not hold. Returns the recomputed leaf
    hash and the event's time in microseconds (None if the event row is gone)."""
    typed = reader.typed(row)
    stored_payload, stored_leaf = row[2], row[3]
    event_id = typed[_EVENT]
    if event_id is None:
        report.problems.append(Problem(expected, f"the event {typed[1]} is missing"))
        stored_hash = bytes(stored_leaf)
        recomputed = stored_hash if len(stored_hash) == HASH_SIZE else bytes(HASH_SIZE)
        return recomputed, None
    occurred = typed[_EVENT + 1]
    content = hashlib.sha256(payload_of(*typed[_EVENT:])).digest()
    if content != stored_payload:
        report.problems.append(Problem(expected, f"the event {event_id} was altered"))
    recomputed = leaf_hash(header_of(expected, event_id, occurred), content)
    if recomputed != stored_leaf:
        report.problems.append(_misplaced(expected))
    for name in reader.respelled(row, typed):
        report.problems.append(
            Problem(
                expected,
                f"the stored {name} is not in the form it was written in "
                "(re-spelled: it verifies, but a search no longer finds it)",
            )
        )
    return recomputed, micros(occurred)


def _check_chain(
    report: VerifyReport,
    stored: dict[int, Checkpoint],
    outside: dict[int, Checkpoint],
    *,
    known: set[int],
) -> None:
    """Every checkpoint's signed `previous` size has a valid checkpoint, stored or exported
    (the first one's is 0), or is in `known` (the remembered one of an incremental run).
    Checkpoints signed before the line existed name none."""
    known = {0, *known, *stored, *outside}
    for checkpoint in sorted([*stored.values(), *outside.values()], key=lambda c: c.size):
        previous = checkpoint.previous
        if previous is not None and previous not in known:
            report.problems.append(
                Problem(
                    previous,
                    f"the checkpoint at size {previous}, named as the previous one by the "
                    f"checkpoint at size {checkpoint.size}, is missing: checkpoints were deleted",
                    exact=False,
                )
            )
            known.add(previous)  # one report per missing checkpoint


def _signed_times(report: VerifyReport, checkpoints: Sequence[Checkpoint]) -> dict[int, int]:
    """Size -> signed time of the valid checkpoints that carry one; a time smaller than that of
    a smaller tree head is reported (and the larger of the two is not trusted further)."""
    times: dict[int, int] = {}
    for checkpoint in sorted(checkpoints, key=lambda c: c.size):
        if checkpoint.time is None:
            continue
        if checkpoint.size in times and times[checkpoint.size] != checkpoint.time:
            # The same tree head signed twice (stored and exported): keep the earlier time for
            # "signed before" (B) would be weaker; both are genuine signatures, keep the first.
            continue
        times[checkpoint.size] = checkpoint.time
    latest = -1
    latest_size = 0
    for size, time in sorted(times.items()):
        if time < latest:
            report.problems.append(
                Problem(
                    None,
                    f"checkpoint at size {size} is signed as earlier than the one at size "
                    f"{latest_size}: signed times went backwards",
                )
            )
        else:
            latest, latest_size = time, size
    return times


def _at(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, UTC)


def _check_end_is_signed(
    report: VerifyReport,
    repository: AuditLogRepository,
    stored: dict[int, Checkpoint],
    tree: CompactRange,
    public_key: Ed25519PublicKey,
    origin: str,
    key_name: str,
) -> None:
    """The stored checkpoints reach the log's end: the largest valid one covers every leaf.
    (Read again past the last one seen: the sequencer may have signed while verify ran.)"""
    if report.size == 0:
        return
    seen = max(stored, default=-1)
    ends = {size: cp.root for size, cp in stored.items()}
    if seen < report.size:
        for row in repository.checkpoints(after=seen):
            valid = _valid_checkpoint(row, public_key, origin, key_name)
            if valid is not None:
                ends[row.size] = valid.root
    if ends.get(report.size) == tree.root() and max(ends) == report.size:
        return
    last = max((size for size in ends if size <= report.size), default=0)
    report.problems.append(
        Problem(
            last,
            f"the stored checkpoints end at size {last} but the log has {report.size} "
            "leaves: checkpoints were deleted, or leaves added behind the sequencer",
            exact=False,
        )
    )


def _valid_checkpoint(
    row: AuditCheckpoint, public_key: Ed25519PublicKey, origin: str, key_name: str
) -> Checkpoint | None:
    try:
        signed = parse_note(row.note)
    except CheckpointError:
        return None
    cp = signed.checkpoint
    if (
        cp.origin != origin
        or cp.size != row.size
        or cp.root != row.root
        or not verify_signed(signed, public_key, key_name)
    ):
        return None
    return cp


def _check_signature(
    report: VerifyReport,
    row: AuditCheckpoint,
    public_key: Ed25519PublicKey,
    origin: str,
    key_name: str,
) -> Checkpoint | None:
    report.checkpoints_checked += 1
    try:
        parse_note(row.note)
    except CheckpointError:
        report.problems.append(Problem(None, f"checkpoint at size {row.size} is not a signed note"))
        return None
    valid = _valid_checkpoint(row, public_key, origin, key_name)
    if valid is None:
        report.problems.append(Problem(None, f"checkpoint at size {row.size} has a bad signature"))
    return valid


def _compare_roots(
    report: VerifyReport,
    tree: CompactRange,
    stored: dict[int, Checkpoint],
    outside: dict[int, Checkpoint],
    matching_size: int,
) -> None:
    """A mismatch is pinned to the first position after the last checkpoint that still matches:
    with a checkpoint per batch, that names the first bad position to within one batch."""
    signed = {"signed": stored[tree.size].root} if tree.size in stored else {}
    if tree.size in outside:
        signed["external"] = outside[tree.size].root
    if not signed:
        return
    root = tree.root()
    for kind, expected_root in signed.items():
        if expected_root != root:
            report.problems.append(
                Problem(
                    matching_size,
                    (
                        f"the first {tree.size} leaves do not give the root of the {kind} "
                        f"checkpoint at size {tree.size}: a change before position {tree.size}"
                    ),
                    exact=False,
                )
            )


# --- the state of the incremental verify -----------------------------------------------------

STATE_FILE = "verified.state"
"""Its name in the export directory: next to `latest.note`, outside the database."""


class StateError(Exception):
    """The state file is there but is not a signed checkpoint note."""


def read_state(path: Path) -> SignedCheckpoint | None:
    """The checkpoint an earlier verify remembered; None if none was written. Only its form is
    checked here: `verify_incremental` checks its signature and that the log holds it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"{path} cannot be read ({type(exc).__name__})") from exc
    try:
        return parse_note(text)
    except CheckpointError as exc:
        raise StateError(f"{path} is not a signed checkpoint ({exc})") from exc


def write_state(path: Path, note: str) -> None:
    """Remember a verified checkpoint's signed note, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(note, encoding="utf-8")
    temporary.replace(path)
