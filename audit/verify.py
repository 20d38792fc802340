"""Recompute the whole log and check it against the stored hashes and the signed checkpoints.

What it catches, and how it names it:
- an event row altered, deleted or swapped: its payload or header no longer gives the stored
  leaf hash (the header binds position and event id);
- a leaf row removed or a gap: the positions are not 0, 1, 2, …;
- stored hashes rewritten to match a change: the recomputed root differs from a signed
  checkpoint, which nobody without the signing key can re-sign;
- the log cut back to an earlier state: a checkpoint held outside the database is larger than
  the log or has another root;
- an event inserted afterwards with an old time: it is dated before a checkpoint that was
  signed before it was integrated, or it was never integrated at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from audit.canonical import header, payload_hash
from audit.checkpoints import CheckpointError, SignedCheckpoint, parse_note, verify_signed
from audit.merkle import HASH_SIZE, CompactRange, leaf_hash, node_hash
from audit.models import AuditCheckpoint
from audit.repository import AuditLogRepository
from audit.sequencer import LOOKBACK
from common.clock import utcnow

# An event is integrated within seconds of its commit; one dated this much earlier than a
# checkpoint signed before it was integrated cannot have come through the application.
BACKDATING_TOLERANCE = timedelta(minutes=15)


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
    external: Sequence[SignedCheckpoint] = (),
) -> VerifyReport:
    repository = AuditLogRepository(session)
    report = VerifyReport()
    stored = {c.size: c for c in repository.checkpoints()}
    for checkpoint in stored.values():
        _check_signature(report, checkpoint, public_key, origin)
    outside = {}
    for signed in external:
        report.external_checked += 1
        if signed.checkpoint.origin != origin or not verify_signed(signed, public_key):
            report.problems.append(
                Problem(
                    None,
                    f"external checkpoint at size {signed.checkpoint.size} "
                    "has no valid signature for this log",
                )
            )
            continue
        outside[signed.checkpoint.size] = signed.checkpoint.root

    tree = CompactRange()
    leaves: list[bytes] = []
    signed_before: AuditCheckpoint | None = None
    matching_size = 0  # the largest checkpoint so far whose root the recomputed tree matches
    expected = 0
    rows = repository.leaves_with_events()
    for leaf, event in rows:
        if leaf.position != expected:
            report.problems.append(
                Problem(expected, f"missing: the next stored leaf is at {leaf.position}")
            )
            break
        # Only hashes recomputed here are hashed further: stored ones may be any bytes at all.
        if event is None:
            report.problems.append(Problem(expected, f"the event {leaf.event_id} is missing"))
            stored_leaf = bytes(leaf.leaf_hash)
            recomputed = stored_leaf if len(stored_leaf) == HASH_SIZE else bytes(HASH_SIZE)
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
            if (
                signed_before is not None
                and event.occurred_at < signed_before.created_at - BACKDATING_TOLERANCE
            ):
                report.problems.append(
                    Problem(
                        expected,
                        "the event is dated before checkpoint "
                        f"{signed_before.size} was signed: added afterwards",
                    )
                )
        tree.append(recomputed)
        leaves.append(recomputed)
        expected += 1
        _compare_roots(report, tree, stored, outside, matching_size)
        if tree.size in stored and stored[tree.size].root == tree.root():
            matching_size = tree.size
        if tree.size in stored:
            signed_before = stored[tree.size]
    report.size = expected

    for size, checkpoint in sorted(stored.items()):
        if size > report.size:
            report.problems.append(
                Problem(
                    None,
                    f"checkpoint at size {size} is beyond the log "
                    f"({report.size} leaves): leaves were removed",
                )
            )
        elif size == 0 and checkpoint.root != tree.root():
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
    _check_nodes(report, repository, leaves)
    for event in repository.unintegrated_before(utcnow() - LOOKBACK):
        report.problems.append(
            Problem(
                None,
                f"the event {event.id} was never integrated "
                "(inserted behind the application's back?)",
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


def _check_signature(
    report: VerifyReport, checkpoint: AuditCheckpoint, public_key: Ed25519PublicKey, origin: str
) -> None:
    report.checkpoints_checked += 1
    try:
        signed = parse_note(checkpoint.note)
    except CheckpointError:
        report.problems.append(
            Problem(None, f"checkpoint at size {checkpoint.size} is not a signed note")
        )
        return
    cp = signed.checkpoint
    if (
        cp.origin != origin
        or cp.size != checkpoint.size
        or cp.root != checkpoint.root
        or not verify_signed(signed, public_key)
    ):
        report.problems.append(
            Problem(None, f"checkpoint at size {checkpoint.size} has a bad signature")
        )


def _compare_roots(
    report: VerifyReport,
    tree: CompactRange,
    stored: dict[int, AuditCheckpoint],
    outside: dict[int, bytes],
    matching_size: int,
) -> None:
    """A mismatch is pinned to the first position after the last checkpoint that still matches:
    with a checkpoint per batch, that names the first bad position to within one batch."""
    signed = {"signed": stored[tree.size].root} if tree.size in stored else {}
    if tree.size in outside:
        signed["external"] = outside[tree.size]
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
