from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from audit.checkpoints import parse_note, verify_signed
from audit.merkle import root_of
from audit.repository import AuditLogRepository
from audit.sequencer import LogSigner, Sequencer, integrate, integrate_all
from common.keys import KeySet
from tests.builders import make_actor, make_case
from tests.integration.audit.conftest import ORIGIN, some_events, verify


def _queue_two_cases(session: Session, keys: KeySet) -> int:
    """Open two cases and commit; how many events wait in the queue."""
    actor = make_actor(session)
    for _ in range(2):
        make_case(session, actor, keys)
    session.commit()
    waiting: int = session.execute(text("SELECT count(*) FROM audit_pending")).scalar_one()
    return waiting


class TestIntegrate:
    def test_positions_are_gap_free_and_every_event_has_one(
        self, session: Session, keys: KeySet, signer: LogSigner
    ) -> None:
        some_events(session, keys, signer)
        events = session.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
        positions = [
            row[0]
            for row in session.execute(text("SELECT position FROM audit_leaf ORDER BY position"))
        ]
        assert events > 5
        assert positions == list(range(events))

    def test_latest_checkpoint_is_signed_and_matches_the_leaves(
        self, session: Session, keys: KeySet, signer: LogSigner
    ) -> None:
        some_events(session, keys, signer)
        checkpoint = AuditLogRepository(session).latest_checkpoint()
        assert checkpoint is not None
        leaves = [
            bytes(row[0])
            for row in session.execute(text("SELECT leaf_hash FROM audit_leaf ORDER BY position"))
        ]
        assert checkpoint.root == root_of(leaves)
        signed = parse_note(checkpoint.note)
        assert signed.checkpoint.origin == ORIGIN
        assert signed.checkpoint.size == len(leaves)
        assert verify_signed(signed, signer.key.public_key())

    def test_nothing_pending_writes_nothing(
        self, session: Session, keys: KeySet, signer: LogSigner
    ) -> None:
        some_events(session, keys, signer)
        assert integrate(session, signer) is None

    def test_uncommitted_events_wait_for_their_commit(
        self, session: Session, keys: KeySet, signer: LogSigner, engine: object
    ) -> None:
        actor = make_actor(session)
        make_case(session, actor, keys)  # flushed, not committed
        from common.db import new_session

        with new_session(engine) as other:  # type: ignore[arg-type]
            assert integrate_all(other, signer) is None
            other.commit()
        session.commit()
        assert integrate_all(session, signer) is not None

    def test_a_batch_is_full_when_it_took_as_many_events_as_it_may(
        self, session: Session, keys: KeySet, signer: LogSigner
    ) -> None:
        waiting = _queue_two_cases(session, keys)
        first = integrate(session, signer, batch_size=waiting - 1)
        rest = integrate(session, signer, batch_size=waiting - 1)
        assert first is not None
        assert first.full
        assert rest is not None
        assert not rest.full
        assert rest.size == AuditLogRepository(session).size()


class TestSequencerRounds:
    def _leaf_root(self, session: Session) -> bytes:
        leaves = session.execute(text("SELECT leaf_hash FROM audit_leaf ORDER BY position"))
        return root_of([bytes(row[0]) for row in leaves])

    def test_rounds_that_build_on_their_own_last_head_give_the_same_tree(
        self, session: Session, keys: KeySet, signer: LogSigner, engine: object
    ) -> None:
        sequencer = Sequencer(engine, signer)  # type: ignore[arg-type]
        try:
            actor = make_actor(session)
            for _ in range(3):  # each round builds on the head the one before signed
                make_case(session, actor, keys)
                session.commit()
                assert sequencer.run_once() is not None
            latest = AuditLogRepository(session).latest_checkpoint()
        finally:
            sequencer.stop()
        assert latest is not None
        assert latest.root == self._leaf_root(session)
        assert verify(session, signer).problems == []

    def test_only_a_full_batch_has_the_next_round_run_at_once(
        self, session: Session, keys: KeySet, signer: LogSigner, engine: object
    ) -> None:
        waiting = _queue_two_cases(session, keys)
        sequencer = Sequencer(engine, signer, batch_size=waiting - 1)  # type: ignore[arg-type]
        try:
            assert sequencer._more_waiting()  # a full batch: some may be left
            assert not sequencer._more_waiting()  # the rest, a partial batch: wait
            assert not sequencer._more_waiting()  # nothing queued
        finally:
            sequencer.stop()
        assert AuditLogRepository(session).any_pending() is False

    def test_a_log_grown_behind_its_back_is_read_again(
        self, session: Session, keys: KeySet, signer: LogSigner, engine: object
    ) -> None:
        sequencer = Sequencer(engine, signer)  # type: ignore[arg-type]
        try:
            actor = make_actor(session)
            make_case(session, actor, keys)
            session.commit()
            assert sequencer.run_once() is not None
            make_case(session, actor, keys)
            session.commit()
            assert integrate(session, signer) is not None  # another integrator appends
            session.commit()
            make_case(session, actor, keys)
            session.commit()
            assert sequencer.run_once() is not None
            latest = AuditLogRepository(session).latest_checkpoint()
        finally:
            sequencer.stop()
        assert latest is not None
        assert latest.root == self._leaf_root(session)
        assert verify(session, signer).problems == []


class TestVerify:
    def test_an_untouched_log_verifies(
        self, session: Session, keys: KeySet, signer: LogSigner
    ) -> None:
        some_events(session, keys, signer)
        report = verify(session, signer)
        assert report.problems == []
        assert report.size > 5
        assert report.checkpoints_checked >= 1
