"""Tampering as a database administrator could, with the append-only triggers removed.

Events are integrated one per batch here, so there is a signed checkpoint after every leaf
and verify can name the exact position even when the attacker recomputes leaf hashes.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from audit.canonical import header, payload_hash
from audit.checkpoints import parse_note
from audit.merkle import CompactRange, leaf_hash
from audit.models import AUDIT_TABLES, AuditEvent, AuditLeaf, AuditNode
from audit.repository import AuditLogRepository
from audit.sequencer import LogSigner, integrate
from common.clock import utcnow
from common.keys import KeySet
from tests.builders import make_actor, make_case
from tests.integration.audit.conftest import verify

POSITION = 4


def drop_triggers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        for table in AUDIT_TABLES:
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        for table in AUDIT_TABLES:
            for verb in ("update", "delete"):
                session.execute(text(f"DROP TRIGGER {table}_no_{verb}"))
    session.commit()


def event_id_at(session: Session, position: int) -> str:
    return str(
        session.execute(
            text("SELECT event_id FROM audit_leaf WHERE position = :p"), {"p": position}
        ).scalar_one()
    )


class TestTriggers:
    @pytest.mark.parametrize("table", AUDIT_TABLES)
    def test_update_and_delete_are_refused(self, session: Session, log: int, table: str) -> None:
        column = {
            "audit_event": "action",
            "audit_leaf": "position",
            "audit_node": "level",
            "audit_checkpoint": "note",
        }[table]
        value = "'x'" if column in {"action", "note"} else "99999"
        statements = [f"UPDATE {table} SET {column} = {value}", f"DELETE FROM {table}"]
        if session.get_bind().dialect.name == "postgresql":  # SQLite has no TRUNCATE
            statements.append(f"TRUNCATE {table} CASCADE")
        for statement in statements:
            with pytest.raises((DBAPIError, IntegrityError), match="append-only"):
                session.execute(text(statement))
            session.rollback()


class TestTamperingIsCaught:
    def test_untouched_log_verifies(self, session: Session, signer: LogSigner, log: int) -> None:
        report = verify(session, signer)
        assert report.ok, report.problems
        assert report.size == log

    def test_altered_event(self, session: Session, signer: LogSigner, log: int) -> None:
        drop_triggers(session)
        session.execute(
            text("UPDATE audit_event SET outcome = 'denied' WHERE id = :id"),
            {"id": event_id_at(session, POSITION)},
        )
        session.commit()
        report = verify(session, signer)
        assert report.first_bad_position == POSITION
        assert "altered" in str(report.problems[0])

    def test_deleted_event(self, session: Session, signer: LogSigner, log: int) -> None:
        drop_triggers(session)
        session.execute(
            text("DELETE FROM audit_event WHERE id = :id"), {"id": event_id_at(session, POSITION)}
        )
        session.commit()
        report = verify(session, signer)
        assert report.first_bad_position == POSITION
        assert "missing" in str(report.problems[0])

    def test_deleted_leaf(self, session: Session, signer: LogSigner, log: int) -> None:
        drop_triggers(session)
        session.execute(text("DELETE FROM audit_leaf WHERE position = :p"), {"p": POSITION})
        session.commit()
        report = verify(session, signer)
        assert report.first_bad_position == POSITION

    def test_two_events_swapped(self, session: Session, signer: LogSigner, log: int) -> None:
        first, second = event_id_at(session, POSITION), event_id_at(session, POSITION + 2)
        drop_triggers(session)
        # Swap which event each leaf points to (through a placeholder: event_id is unique).
        placeholder = str(uuid.uuid4())
        for old, new in ((first, placeholder), (second, first), (placeholder, second)):
            session.execute(
                text("UPDATE audit_leaf SET event_id = :new WHERE event_id = :old"),
                {"new": new, "old": old},
            )
        session.commit()
        report = verify(session, signer)
        assert report.first_bad_position == POSITION

    def test_event_inserted_with_recomputed_hashes(
        self, session: Session, signer: LogSigner, log: int
    ) -> None:
        """The attacker shifts later leaves up, inserts a forged event and recomputes every leaf
        hash; only the signed checkpoints, which cannot be re-signed, give it away."""
        in_order = [
            row.event for row in AuditLogRepository(session).leaves_with_events() if row.event
        ]
        drop_triggers(session)
        forged = AuditEvent(
            action="case.read",
            resource_type="case",
            outcome="allowed",
            occurred_at=in_order[POSITION].occurred_at,
        )
        session.add(forged)
        tampered = [*in_order[:POSITION], forged, *in_order[POSITION:]]
        session.execute(text("DELETE FROM audit_leaf WHERE position >= :p"), {"p": POSITION})
        session.flush()
        for position, event in enumerate(tampered[POSITION:], start=POSITION):
            assert event is not None
            content = payload_hash(event)
            session.add(
                AuditLeaf(
                    position=position,
                    event_id=event.id,
                    payload_hash=content,
                    leaf_hash=leaf_hash(header(position, event), content),
                    integrated_at=utcnow(),
                )
            )
        session.commit()
        report = verify(session, signer)
        assert report.first_bad_position == POSITION, report.problems

    def test_log_cut_back_is_caught_against_an_exported_checkpoint(
        self, session: Session, signer: LogSigner, log: int
    ) -> None:
        exported = parse_note(AuditLogRepository(session).latest_checkpoint().note)  # type: ignore[union-attr]
        keep = POSITION + 1
        drop_triggers(session)
        cut = [event_id_at(session, p) for p in range(keep, log)]
        session.execute(text("DELETE FROM audit_leaf WHERE position >= :k"), {"k": keep})
        for event_id in cut:
            session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event_id})
        session.execute(text("DELETE FROM audit_node"))  # a careful attacker rebuilds these
        session.execute(text("DELETE FROM audit_checkpoint WHERE size > :k"), {"k": keep})
        session.commit()
        _rebuild_nodes(session, keep)
        assert verify(session, signer).ok  # consistent in itself …
        report = verify(session, signer, external=[exported])
        assert not report.ok  # … but not with what was exported before
        assert any("cut back" in str(problem) for problem in report.problems)

    def test_backdated_event_is_caught_queued_and_integrated(
        self, session: Session, signer: LogSigner, log: int
    ) -> None:
        session.add(
            AuditEvent(
                action="case.read",
                resource_type="case",
                outcome="allowed",
                occurred_at=utcnow() - timedelta(days=2),
            )
        )
        session.commit()
        queued = verify(session, signer)
        assert any("queued event" in str(problem) for problem in queued.problems)
        assert integrate(session, signer) is not None  # the sequencer takes every queued event
        session.commit()
        report = verify(session, signer)
        assert report.first_bad_position == log
        assert "dated before an earlier checkpoint was signed" in str(report.problems[0])


def _rebuild_nodes(session: Session, size: int) -> None:
    hashes = [
        bytes(row[0])
        for row in session.execute(text("SELECT leaf_hash FROM audit_leaf ORDER BY position"))
    ]
    tree = CompactRange()
    for leaf in hashes[:size]:
        for level, index, value in tree.append(leaf):
            session.add(AuditNode(level=level, index=index, hash=value))
    session.commit()


def test_a_stored_hash_of_the_wrong_length_is_reported_not_a_crash(
    session: Session, signer: LogSigner, log: int
) -> None:
    drop_triggers(session)
    session.execute(
        text("UPDATE audit_leaf SET leaf_hash = :h, payload_hash = :h WHERE position = :p"),
        {"h": b"short", "p": POSITION},
    )
    session.commit()
    report = verify(session, signer)
    assert report.first_bad_position == POSITION


def test_an_event_taken_off_the_queue_is_reported(
    session: Session, keys: KeySet, signer: LogSigner
) -> None:
    actor = make_actor(session)
    make_case(session, actor, keys)
    session.commit()
    session.execute(text("DELETE FROM audit_pending"))  # the queue is not append-only
    session.commit()
    assert integrate(session, signer) is None  # nothing left for the sequencer
    report = verify(session, signer)
    assert any("not queued" in str(problem) for problem in report.problems)
