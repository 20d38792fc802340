"""The incremental verify: only what came after a remembered checkpoint, with a consistency
proof from it. Events are integrated one per batch, so every size has a signed checkpoint."""

from __future__ import annotations

import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlmodel import Session

from audit.checkpoints import Checkpoint, SignedCheckpoint, parse_note, sign_checkpoint
from audit.repository import AuditLogRepository
from audit.sequencer import LogSigner, integrate
from audit.verify import VerifyReport, read_state, verify_incremental, write_state
from common.keys import KeySet
from domain.cases import service as cases
from tests.builders import make_actor, make_case
from tests.integration.audit.conftest import ORIGIN, verify
from tests.integration.audit.test_tamper import drop_triggers, event_id_at


def add_events(session: Session, keys: KeySet, signer: LogSigner, cases_: int = 2) -> int:
    """Some real events, each integrated in its own batch; returns the log size."""
    actor = make_actor(session)
    for _ in range(cases_):
        cases.get_case(session, actor, case_id=make_case(session, actor, keys).id)
    session.commit()
    while integrate(session, signer, batch_size=1) is not None:
        session.commit()
    return AuditLogRepository(session).size()


def incremental(
    session: Session, signer: LogSigner, since: SignedCheckpoint, **kwargs: object
) -> VerifyReport:
    return verify_incremental(
        session,
        since=since,
        public_key=signer.key.public_key(),
        origin=ORIGIN,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def remembered(session: Session, keys: KeySet, signer: LogSigner) -> SignedCheckpoint:
    """A log verified in full, its newest checkpoint remembered, and more events after it."""
    old_size = add_events(session, keys, signer)
    report = verify(session, signer)
    assert report.ok, report.problems
    assert report.verified_note is not None
    since = parse_note(report.verified_note)
    assert since.checkpoint.size == old_size
    assert add_events(session, keys, signer) > old_size + 3
    return since


def test_only_the_new_part_is_checked_and_an_intact_log_passes(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    report = incremental(session, signer, remembered)
    assert report.ok, report.problems
    assert report.start == remembered.checkpoint.size
    assert report.size == AuditLogRepository(session).size()
    assert report.verified_note is not None
    assert parse_note(report.verified_note).checkpoint.size == report.size


def test_nothing_new_passes_and_remembers_the_same_checkpoint(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    newest = parse_note(incremental(session, signer, remembered).verified_note or "")
    report = incremental(session, signer, newest)
    assert report.ok, report.problems
    assert report.start == report.size == newest.checkpoint.size


def test_a_tampered_new_event_is_caught(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    position = remembered.checkpoint.size + 2
    drop_triggers(session)
    session.execute(
        text("UPDATE audit_event SET outcome = 'denied' WHERE id = :id"),
        {"id": event_id_at(session, position)},
    )
    session.commit()
    report = incremental(session, signer, remembered)
    assert report.first_bad_position == position
    assert "altered" in str(report.problems[0])


def test_a_tampered_old_event_is_left_to_the_full_verify(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    """By design: the incremental run does not read the leaves it already verified."""
    position = remembered.checkpoint.size - 2
    drop_triggers(session)
    session.execute(
        text("UPDATE audit_event SET outcome = 'denied' WHERE id = :id"),
        {"id": event_id_at(session, position)},
    )
    session.commit()
    assert incremental(session, signer, remembered).ok
    assert verify(session, signer).first_bad_position == position


def test_a_rewritten_new_subtree_hash_is_caught(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    size = AuditLogRepository(session).size()
    drop_triggers(session)
    session.execute(
        text("UPDATE audit_node SET hash = :h WHERE level = 1 AND idx = :i"),
        {"h": secrets.token_bytes(32), "i": (size - 1) // 2},
    )
    session.commit()
    report = incremental(session, signer, remembered)
    assert not report.ok
    assert any("subtree" in str(problem) for problem in report.problems), report.problems


def test_a_forged_newer_checkpoint_is_caught(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    size = AuditLogRepository(session).size()
    forged = sign_checkpoint(
        Checkpoint(origin=ORIGIN, size=size, root=secrets.token_bytes(32), previous=size - 1),
        Ed25519PrivateKey.generate(),
        ORIGIN,
    )
    drop_triggers(session)
    session.execute(
        text("UPDATE audit_checkpoint SET note = :n, root = :r WHERE size = :s"),
        {"n": forged.to_note(), "r": forged.checkpoint.root, "s": size},
    )
    session.commit()
    report = incremental(session, signer, remembered)
    assert any("bad signature" in str(problem) for problem in report.problems), report.problems


def test_a_log_rolled_back_below_the_remembered_checkpoint_is_caught(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    keep = remembered.checkpoint.size - 2
    drop_triggers(session)
    session.execute(text("DELETE FROM audit_leaf WHERE position >= :k"), {"k": keep})
    session.execute(text("DELETE FROM audit_checkpoint WHERE size > :k"), {"k": keep})
    session.commit()
    report = incremental(session, signer, remembered)
    assert not report.ok
    assert "cut back" in str(report.problems[0])


def test_a_remembered_checkpoint_the_log_does_not_hold_is_caught(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    """Signed with the log's own key (another database of the same installation, say), but
    not this log's tree head at that size."""
    old = remembered.checkpoint
    elsewhere = sign_checkpoint(
        Checkpoint(origin=ORIGIN, size=old.size, root=secrets.token_bytes(32)),
        signer.key,
        signer.key_name,
    )
    report = incremental(session, signer, elsewhere)
    assert not report.ok
    assert "does not match this log" in str(report.problems[0])


def test_a_remembered_checkpoint_whose_row_was_deleted_is_caught(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    drop_triggers(session)
    session.execute(
        text("DELETE FROM audit_checkpoint WHERE size = :s"), {"s": remembered.checkpoint.size}
    )
    session.commit()
    report = incremental(session, signer, remembered)
    assert "missing from the log" in str(report.problems[0])


def test_a_state_of_another_key_is_refused(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    other = sign_checkpoint(remembered.checkpoint, Ed25519PrivateKey.generate(), ORIGIN)
    report = incremental(session, signer, other)
    assert "no valid signature" in str(report.problems[0])


def test_an_exported_checkpoint_older_than_the_state_must_be_consistent(
    session: Session, signer: LogSigner, remembered: SignedCheckpoint
) -> None:
    old = remembered.checkpoint
    genuine = parse_note(AuditLogRepository(session).checkpoint(old.size - 1).note)  # type: ignore[union-attr]
    assert incremental(session, signer, remembered, external=[genuine]).ok
    forked = sign_checkpoint(
        Checkpoint(origin=ORIGIN, size=old.size - 1, root=secrets.token_bytes(32)),
        signer.key,
        signer.key_name,
    )
    report = incremental(session, signer, remembered, external=[forked])
    assert any("no consistency proof" in str(p) for p in report.problems), report.problems


def test_the_state_file_round_trips_and_is_absent_at_first(
    tmp_path: pytest.TempPathFactory, remembered: SignedCheckpoint
) -> None:
    path = tmp_path / "export" / "verified.state"  # type: ignore[operator]
    assert read_state(path) is None
    write_state(path, remembered.to_note())
    assert read_state(path) == remembered
