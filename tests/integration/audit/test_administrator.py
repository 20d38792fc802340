"""Issue 11 §3: what an administrator tried against the audit log, each caught or refused.

Each test fails on the code before the fix: the look-back, the unsigned `created_at`, the
parsed (not stored) ids, the unchecked export and the junk checkpoint row.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session
from structlog.testing import capture_logs

from audit.checkpoints import Checkpoint, parse_note, sign_checkpoint
from audit.health import audit_health
from audit.models import AuditEvent
from audit.repository import AuditLogRepository, EventFilter
from audit.sequencer import (
    LATEST_NOTE,
    ExportMismatch,
    LogSigner,
    Sequencer,
    integrate,
    integrate_all,
    read_export,
)
from common.clock import reset_clock, set_clock, utcnow
from common.keys import KeySet
from tests.builders import make_actor, make_case
from tests.integration.audit.conftest import some_events, verify
from tests.integration.audit.test_tamper import drop_triggers

INSERT_CHECKPOINT = text(
    "INSERT INTO audit_checkpoint (size, root, note, created_at) VALUES (:s, :r, :n, :t)"
)
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[list[datetime]]:
    now = [T0]
    set_clock(lambda: now[0])
    yield now
    reset_clock()


@pytest.fixture
def sequencers() -> Iterator[list[Sequencer]]:
    """Sequencers made by a test, stopped after it (on PostgreSQL the leader holds a connection)."""
    made: list[Sequencer] = []
    yield made
    for sequencer in made:
        sequencer.stop()


def an_event(session: Session, occurred_at: datetime) -> AuditEvent:
    event = AuditEvent(
        action="case.read", resource_type="case", outcome="allowed", occurred_at=occurred_at
    )
    session.add(event)
    session.commit()
    return event


def each_in_its_own_checkpoint(session: Session, signer: LogSigner) -> None:
    while integrate(session, signer, batch_size=1) is not None:
        session.commit()


class TestOutage:
    def test_events_queued_during_a_long_outage_are_integrated_and_verify(
        self, session: Session, signer: LogSigner, clock: list[datetime]
    ) -> None:
        an_event(session, T0)
        integrate_all(session, signer)
        session.commit()
        # The sequencer is down for three hours while the application records events.
        for minutes in (10, 60, 170):
            clock[0] = T0 + timedelta(minutes=minutes)
            an_event(session, clock[0])
        clock[0] = T0 + timedelta(hours=3)
        assert integrate_all(session, signer) is not None
        session.commit()
        assert AuditLogRepository(session).size() == 4
        report = verify(session, signer)
        assert report.ok, report.problems

    def test_a_backlog_of_several_batches_verifies(
        self, session: Session, signer: LogSigner, clock: list[datetime]
    ) -> None:
        """The first batch after the outage is signed now, yet the next batch still holds
        events from hours ago: a full batch does not bound the times of what follows it."""
        an_event(session, T0)
        integrate_all(session, signer)
        session.commit()
        for minutes in range(10, 130, 20):  # six events, three batches of two
            clock[0] = T0 + timedelta(minutes=minutes)
            an_event(session, clock[0])
        clock[0] = T0 + timedelta(hours=3)
        while integrate(session, signer, batch_size=2) is not None:
            session.commit()
            clock[0] += timedelta(seconds=1)
        report = verify(session, signer, batch_size=2)
        assert report.ok, report.problems
        # A back-dated event after the backlog is still caught: that batch did not fill.
        an_event(session, T0 - timedelta(days=1))
        integrate(session, signer, batch_size=2)
        session.commit()
        assert verify(session, signer, batch_size=2).first_bad_position == 7


class TestDeletedCheckpoints:
    @pytest.fixture
    def log(self, session: Session, signer: LogSigner) -> int:
        for minute in range(8):
            an_event(session, utcnow() - timedelta(minutes=8 - minute))
        each_in_its_own_checkpoint(session, signer)
        return AuditLogRepository(session).size()

    def test_deleting_the_checkpoints_after_a_position_is_caught(
        self, session: Session, signer: LogSigner, log: int
    ) -> None:
        drop_triggers(session)
        session.execute(text("DELETE FROM audit_checkpoint WHERE size > 3"))
        session.commit()
        report = verify(session, signer)
        assert not report.ok
        assert report.first_bad_position == 3
        assert "checkpoints end at size 3" in str(report.problems[0])

    def test_deleting_checkpoints_in_the_middle_is_caught(
        self, session: Session, signer: LogSigner, log: int
    ) -> None:
        drop_triggers(session)
        session.execute(text("DELETE FROM audit_checkpoint WHERE size IN (3, 4, 5)"))
        session.commit()
        report = verify(session, signer)
        assert report.first_bad_position == 5
        assert "checkpoint at size 5, named as the previous one" in str(report.problems[0])

    def test_deleting_every_checkpoint_is_caught(
        self, session: Session, signer: LogSigner, log: int
    ) -> None:
        drop_triggers(session)
        session.execute(text("DELETE FROM audit_checkpoint"))
        session.commit()
        assert any("checkpoints end at size 0" in str(p) for p in verify(session, signer).problems)


class TestExportConsistency:
    def test_a_truncated_log_restarted_on_the_same_export_is_refused(
        self,
        session: Session,
        keys: KeySet,
        signer: LogSigner,
        engine: object,
        tmp_path: Path,
        sequencers: list[Sequencer],
    ) -> None:
        sequencer = Sequencer(engine, signer, export_dir=tmp_path)  # type: ignore[arg-type]
        sequencers.append(sequencer)
        some_events(session, keys, signer, cases=1)  # integrated, not exported yet
        make_case(session, make_actor(session), keys)
        session.commit()
        assert sequencer.run_once() is not None
        exported = (tmp_path / LATEST_NOTE).read_text(encoding="utf-8")
        exported_size = parse_note(exported).checkpoint.size
        # Truncate: remove everything, then one new event arrives.
        drop_triggers(session)
        for table in ("audit_pending", "audit_leaf", "audit_node", "audit_checkpoint"):
            session.execute(text(f"DELETE FROM {table}"))
        session.execute(text("DELETE FROM audit_event"))
        session.commit()
        with capture_logs() as logs:
            assert sequencer.run_once() is None  # refused at once, even before a new event
            assert sequencer.status.state == "refusing"
            an_event(session, utcnow())
            assert sequencer.run_once() is None
        assert sequencer.status.state == "refusing"
        levels = [e["log_level"] for e in logs if e["event"] == "audit_export_inconsistent"]
        assert levels  # logged when it starts refusing (and again if the reason changes)
        assert set(levels) == {"error"}
        assert (tmp_path / LATEST_NOTE).read_text(encoding="utf-8") == exported  # not overwritten
        assert AuditLogRepository(session).size() == 0  # nothing signed on the fork
        health = audit_health(
            session,
            status=sequencer.status,
            signer=signer,
            export_dir=tmp_path,
            stall_after=timedelta(seconds=60),
        )
        assert not health.ok
        assert "export_inconsistent" in health.problems
        assert health.exported_size == exported_size

    def test_a_rewritten_log_of_the_same_size_is_refused(
        self, session: Session, keys: KeySet, signer: LogSigner, tmp_path: Path
    ) -> None:
        some_events(session, keys, signer, cases=1)
        latest = AuditLogRepository(session).latest_checkpoint()
        assert latest is not None
        forged = sign_checkpoint(
            Checkpoint(signer.origin, latest.size, bytes(32), time=1), signer.key, signer.key_name
        )
        (tmp_path / LATEST_NOTE).write_text(forged.to_note(), encoding="utf-8")
        anchor = read_export(tmp_path, signer)
        make_case(session, make_actor(session), keys)
        session.commit()
        with pytest.raises(ExportMismatch):
            integrate(session, signer, anchor=anchor)


class TestSignedTimes:
    def test_moving_created_at_back_does_not_let_a_backdated_event_through(
        self, session: Session, signer: LogSigner, clock: list[datetime], tmp_path: Path
    ) -> None:
        for minutes in range(5):
            clock[0] = T0 + timedelta(minutes=minutes)
            an_event(session, clock[0])
        each_in_its_own_checkpoint(session, signer)
        older_export = parse_note(AuditLogRepository(session).latest_checkpoint().note)  # type: ignore[union-attr]
        clock[0] = T0 + timedelta(hours=2)
        forged = an_event(session, T0 - timedelta(days=1))  # dated the day before
        integrate_all(session, signer)
        session.commit()
        drop_triggers(session)
        session.execute(
            text("UPDATE audit_checkpoint SET created_at = :t"), {"t": T0 - timedelta(days=2)}
        )
        session.commit()
        report = verify(session, signer, external=[older_export])
        assert report.first_bad_position == 5, report.problems
        assert "dated before an earlier checkpoint was signed" in str(report.problems[0])
        # Deleting the checkpoints signed after the forged date does not hide it either.
        session.execute(text("DELETE FROM audit_checkpoint WHERE size < 6"))
        session.commit()
        report = verify(session, signer)
        assert report.first_bad_position == 5, report.problems
        assert "checkpoints were deleted" in str(report.problems[0])
        assert AuditLogRepository(session).leaf_of_event(forged.id) is not None

    def test_signed_times_are_in_the_notes_and_never_go_backwards(
        self, session: Session, signer: LogSigner, clock: list[datetime]
    ) -> None:
        an_event(session, T0)
        integrate_all(session, signer)
        session.commit()
        clock[0] = T0 - timedelta(hours=1)  # the clock jumps back
        an_event(session, clock[0])
        integrate_all(session, signer)
        session.commit()
        times = [
            parse_note(row.note).checkpoint.time
            for row in AuditLogRepository(session).checkpoints()
        ]
        assert times == [int(T0.timestamp())] * 2

    def test_a_log_signed_before_times_were_signed_still_verifies(
        self, session: Session, keys: KeySet, signer: LogSigner
    ) -> None:
        some_events(session, keys, signer, cases=1)
        drop_triggers(session)
        for row in AuditLogRepository(session).checkpoints():  # as the old sequencer wrote them
            old = sign_checkpoint(
                Checkpoint(signer.origin, row.size, row.root), signer.key, signer.key_name
            )
            session.execute(
                text("UPDATE audit_checkpoint SET note = :n WHERE size = :s"),
                {"n": old.to_note(), "s": row.size},
            )
        session.commit()
        report = verify(session, signer)
        assert report.ok, report.problems


class TestStoredForm:
    """SQLite only: PostgreSQL stores a uuid in one form, so there is nothing to re-spell."""

    @pytest.fixture
    def database_url(self, sqlite_template: Path, tmp_path: Path) -> str:
        path = tmp_path / "samsyn.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"

    def test_a_case_id_respelled_in_uppercase_is_caught(
        self, session: Session, keys: KeySet, signer: LogSigner
    ) -> None:
        some_events(session, keys, signer, cases=1)
        position, event_id, case_id = session.execute(
            text(
                "SELECT l.position, e.id, e.case_id FROM audit_leaf l JOIN audit_event e"
                " ON e.id = l.event_id WHERE e.case_id IS NOT NULL ORDER BY l.position LIMIT 1"
            )
        ).one()
        repository = AuditLogRepository(session)
        case = uuid.UUID(hex=case_id)
        found_before = repository.search(EventFilter(case_id=case), offset=0, limit=1000)[1]
        drop_triggers(session)
        session.execute(
            text("UPDATE audit_event SET case_id = upper(case_id) WHERE id = :id"),
            {"id": event_id},
        )
        session.commit()
        assert repository.search(EventFilter(case_id=case), offset=0, limit=1000)[1] == (
            found_before - 1
        )  # gone from the auditor's search …
        report = verify(session, signer)
        assert report.first_bad_position == position  # … and caught at its position
        assert "stored case_id is not in the form" in str(report.problems[0])

    def test_an_event_id_respelled_with_dashes_everywhere_is_caught(
        self, session: Session, keys: KeySet, signer: LogSigner
    ) -> None:
        some_events(session, keys, signer, cases=1)
        event_id = session.execute(
            text("SELECT event_id FROM audit_leaf WHERE position = 2")
        ).scalar_one()
        dashed = str(uuid.UUID(hex=event_id))
        drop_triggers(session)
        for statement in (
            "UPDATE audit_event SET id = :new WHERE id = :old",
            "UPDATE audit_leaf SET event_id = :new WHERE event_id = :old",
        ):
            session.execute(text(statement), {"new": dashed, "old": event_id})
        session.commit()
        report = verify(session, signer)
        assert report.first_bad_position == 2, report.problems


class TestJunkCheckpointRows:
    @pytest.mark.parametrize(
        "note", ["garbage", "copy of the latest note"], ids=["garbage", "wrong size"]
    )
    def test_a_junk_row_at_the_next_size_is_skipped_and_reported(
        self,
        session: Session,
        keys: KeySet,
        signer: LogSigner,
        engine: object,
        note: str,
        sequencers: list[Sequencer],
    ) -> None:
        some_events(session, keys, signer, cases=1)
        repository = AuditLogRepository(session)
        latest = repository.latest_checkpoint()
        assert latest is not None
        # The application role may insert: a row at the size the next batch will reach.
        make_case(session, make_actor(session), keys)
        session.commit()
        pending = session.execute(text("SELECT count(*) FROM audit_pending")).scalar_one()
        junk_size = latest.size + pending
        session.execute(
            INSERT_CHECKPOINT,
            {
                "s": junk_size,
                "r": bytes(32),
                "n": latest.note if note.startswith("copy") else note,
                "t": utcnow(),
            },
        )
        session.commit()
        sequencer = Sequencer(engine, signer)  # type: ignore[arg-type]
        sequencers.append(sequencer)
        with capture_logs() as logs:
            batch = sequencer.run_once()
        assert {
            "event": "audit_checkpoint_row_skipped",
            "log_level": "error",
            "size": junk_size,
        } in logs
        assert batch is not None
        assert not batch.stored
        assert repository.size() == junk_size  # integrated all the same
        assert sequencer.status.skipped_checkpoint_rows == 1
        assert sequencer.status.state == "leading"
        health = audit_health(
            session,
            status=sequencer.status,
            signer=signer,
            export_dir=None,
            stall_after=timedelta(seconds=60),
        )
        assert "checkpoint_rows_skipped" in health.problems
        # The next batch gets its checkpoint stored again; verify names the junk.
        make_case(session, make_actor(session), keys)
        session.commit()
        assert sequencer.run_once() is not None
        report = verify(session, signer)
        assert any(f"checkpoint at size {junk_size}" in str(p) for p in report.problems)

    def test_a_row_beyond_the_tree_is_not_served_as_the_latest(
        self, session: Session, keys: KeySet, signer: LogSigner
    ) -> None:
        from audit.proofs import latest_checkpoint

        some_events(session, keys, signer, cases=1)
        good = AuditLogRepository(session).latest_checkpoint()
        assert good is not None
        session.execute(
            INSERT_CHECKPOINT,
            {"s": 10**9, "r": bytes(32), "n": good.note, "t": utcnow()},
        )
        session.commit()
        served = latest_checkpoint(session)
        assert served is not None
        assert served.size == good.size


class TestStalledQueue:
    def test_an_event_waiting_longer_than_the_limit_degrades_health(
        self, session: Session, signer: LogSigner, clock: list[datetime]
    ) -> None:
        an_event(session, T0)
        clock[0] = T0 + timedelta(seconds=30)
        healthy = audit_health(
            session, status=None, signer=signer, export_dir=None, stall_after=timedelta(minutes=2)
        )
        assert healthy.ok
        assert healthy.oldest_pending_seconds == 30
        clock[0] = T0 + timedelta(minutes=5)
        stalled = audit_health(
            session, status=None, signer=signer, export_dir=None, stall_after=timedelta(minutes=2)
        )
        assert "sequencer_stalled" in stalled.problems
