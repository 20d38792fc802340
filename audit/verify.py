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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from audit.canonical import header, payload_hash
from audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    SignedCheckpoint,
    parse_note,
    verify_signed,
)
from audit.merkle import HASH_SIZE, CompactRange, leaf_hash, node_hash
from audit.models import AuditCheckpoint, AuditEvent
from audit.repository import AuditLogRepository, StoredLeaf, stored_form_columns
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
    stored: dict[int, Checkpoint] = {}
    for row in rows.values():
        valid = _check_signature(report, row, public_key, origin, name)
        if valid is not None:
            stored[row.size] = valid
    outside: dict[int, Checkpoint] = {}
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
        outside[signed.checkpoint.size] = signed.checkpoint
    heads = {**outside, **stored}
    times = _signed_times(report, list(heads.values()))
    # B candidates: the heads whose batch emptied the queue (see the module docstring).
    emptied = {
        size: time
        for size, time in times.items()
        if (previous := heads[size].previous) is None or size - previous < batch_size
    }
    _check_chain(report, stored, outside)

    tree = CompactRange()
    leaves: list[bytes] = []
    matching_size = 0  # the largest checkpoint so far whose root the recomputed tree matches
    expected = 0
    dialect = session.get_bind().dialect
    time_before: int | None = None  # B: the latest signed time of a head of size <= position
    lower = sorted(emptied.items())  # (size, time), consumed as the tree grows
    upcoming = sorted(times.items())
    for stored_leaf in repository.leaves_with_events():
        leaf, event = stored_leaf.leaf, stored_leaf.event
        if leaf.position != expected:
            report.problems.append(
                Problem(expected, f"missing: the next stored leaf is at {leaf.position}")
            )
            break
        while lower and lower[0][0] <= expected:
            time_before = lower.pop(0)[1]
        while upcoming and upcoming[0][0] <= expected:
            upcoming.pop(0)
        # Only hashes recomputed here are hashed further: stored ones may be any bytes at all.
        if event is None:
            report.problems.append(Problem(expected, f"the event {leaf.event_id} is missing"))
            stored_hash = bytes(leaf.leaf_hash)
            recomputed = stored_hash if len(stored_hash) == HASH_SIZE else bytes(HASH_SIZE)
        else:
            content = payload_hash(event)
            if content != leaf.payload_hash:
                report.problems.append(Problem(expected, f"the event {event.id} was altered"))
            recomputed = leaf_hash(header(expected, event), content)
            if recomputed != leaf.leaf_hash:
                report.problems.append(
                    Problem(
                        expected,
                        "the leaf does not belong to this position "
                        "and event (moved, swapped or rewritten)",
                    )
                )
            _check_stored_form(report, expected, stored_leaf, event, dialect)
            _check_time(report, expected, event, time_before, upcoming[0] if upcoming else None)
        tree.append(recomputed)
        leaves.append(recomputed)
        expected += 1
        _compare_roots(report, tree, stored, outside, matching_size)
        if tree.size in stored and stored[tree.size].root == tree.root():
            matching_size = tree.size
    report.size = expected

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
    if export_expected and report.size > 0 and not outside:
        report.problems.append(
            Problem(None, "no exported checkpoint of this log was found in the export directory")
        )
    _check_nodes(report, repository, leaves)
    if emptied:
        latest_time = max(emptied.values())
        threshold = datetime.fromtimestamp(latest_time, UTC) - TOLERANCE
        for pending in repository.pending_dated_before(threshold):
            report.problems.append(
                Problem(
                    None,
                    f"the queued event {pending.id} is dated before the latest checkpoint "
                    "was signed: added afterwards",
                )
            )
    for event in repository.unqueued_without_leaf():
        report.problems.append(
            Problem(
                None,
                f"the event {event.id} has no position and is not queued for one "
                "(taken off the sequencer's queue behind the application's back?)",
            )
        )
    report.problems.sort(key=lambda p: (p.position is None, not p.exact, p.position or 0))
    return report


def _check_chain(
    report: VerifyReport, stored: dict[int, Checkpoint], outside: dict[int, Checkpoint]
) -> None:
    """Every checkpoint's signed `previous` size has a valid checkpoint, stored or exported
    (the first one's is 0). Checkpoints signed before the line existed name none."""
    known = {0, *stored, *outside}
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


def _check_time(
    report: VerifyReport,
    position: int,
    event: AuditEvent,
    time_before: int | None,
    first_including: tuple[int, int] | None,
) -> None:
    occurred = event.occurred_at
    if time_before is not None and occurred < _at(time_before) - TOLERANCE:
        report.problems.append(
            Problem(
                position,
                "the event is dated before an earlier checkpoint was signed: added afterwards",
            )
        )
    if first_including is not None:
        size, time = first_including
        if occurred > _at(time + 1) + TOLERANCE:  # +1: signed times are whole seconds
            report.problems.append(
                Problem(
                    position,
                    f"the event is dated after checkpoint {size}, which includes it, was signed",
                )
            )


def _at(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, UTC)


def _check_stored_form(
    report: VerifyReport,
    position: int,
    stored_leaf: StoredLeaf,
    event: AuditEvent,
    dialect: Dialect,
) -> None:
    """Each id and time column holds exactly the form the application writes for its value
    (what SQLAlchemy's bind processing turns it into), not merely something that parses to it."""
    values: dict[str, Any] = {
        "leaf_event_id": stored_leaf.leaf.event_id,
        "id": event.id,
        "occurred_at": event.occurred_at,
        "user_id": event.user_id,
        "agency_id": event.agency_id,
        "case_id": event.case_id,
    }
    for name, column in stored_form_columns():
        value = values[name]
        processor = column.type.dialect_impl(dialect).bind_processor(dialect)
        written = value if value is None or processor is None else processor(value)
        if stored_leaf.raw[name] != written:
            report.problems.append(
                Problem(
                    position,
                    f"the stored {name} is not in the form it was written in "
                    "(re-spelled: it verifies, but a search no longer finds it)",
                )
            )


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


def _check_nodes(report: VerifyReport, repository: AuditLogRepository, leaves: list[bytes]) -> None:
    """The stored perfect-subtree hashes (used for proofs) equal the recomputed ones."""
    level_hashes = leaves
    level = 0
    while len(level_hashes) >= 2:
        level += 1
        level_hashes = [
            node_hash(level_hashes[i], level_hashes[i + 1])
            for i in range(0, len(level_hashes) - 1, 2)
        ]
        stored = 0  # streamed, not listed: a million ORM rows would not fit in memory
        for node in repository.nodes_of_level(level):
            stored += 1
            if node.index < len(level_hashes) and node.hash != level_hashes[node.index]:
                first = node.index << level
                report.problems.append(
                    Problem(
                        first,
                        f"stored subtree hash at level {level} (leaves from {first}) is wrong",
                        exact=False,
                    )
                )
                return
        if stored != len(level_hashes):
            report.problems.append(
                Problem(
                    None,
                    f"level {level} has {stored} stored subtree "
                    f"hashes, expected {len(level_hashes)}",
                )
            )
            return
