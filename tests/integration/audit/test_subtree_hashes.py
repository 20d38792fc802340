"""The stored subtree hashes, tampered with: verify compares every one the recomputed tree
completes and counts each level's rows, however the level was changed."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import text
from sqlmodel import Session

from audit.repository import AuditLogRepository
from audit.sequencer import LogSigner
from tests.integration.audit.conftest import verify
from tests.integration.audit.test_tamper import drop_triggers


def problems(session: Session, signer: LogSigner) -> list[str]:
    return [str(problem) for problem in verify(session, signer).problems]


def test_a_rewritten_subtree_hash_is_named(session: Session, signer: LogSigner, log: int) -> None:
    drop_triggers(session)
    session.execute(
        text("UPDATE audit_node SET hash = :h WHERE level = 2 AND idx = 1"),
        {"h": secrets.token_bytes(32)},
    )
    session.commit()
    assert problems(session, signer) == [
        "position 4 or later: stored subtree hash at level 2 (leaves from 4) is wrong"
    ]


@pytest.mark.parametrize("index", [0, 2, "last"])
def test_a_deleted_subtree_hash_is_counted(
    session: Session, signer: LogSigner, log: int, index: int | str
) -> None:
    expected = log // 2
    drop_triggers(session)
    session.execute(
        text("DELETE FROM audit_node WHERE level = 1 AND idx = :i"),
        {"i": expected - 1 if index == "last" else index},
    )
    session.commit()
    assert problems(session, signer) == [
        f"log: level 1 has {expected - 1} stored subtree hashes, expected {expected}"
    ]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_a_subtree_hash_added_past_the_end_is_counted(
    session: Session, signer: LogSigner, log: int, level: int
) -> None:
    expected = log >> level
    drop_triggers(session)
    session.execute(
        text("INSERT INTO audit_node (level, idx, hash) VALUES (:level, :i, :h)"),
        {"level": level, "i": expected + 3, "h": secrets.token_bytes(32)},
    )
    session.commit()
    assert problems(session, signer) == [
        f"log: level {level} has {expected + 1} stored subtree hashes, expected {expected}"
    ]


def test_a_subtree_hash_moved_to_another_index_is_counted(
    session: Session, signer: LogSigner, log: int
) -> None:
    expected = log // 2
    drop_triggers(session)
    session.execute(
        text("UPDATE audit_node SET idx = :to WHERE level = 1 AND idx = 1"), {"to": expected + 7}
    )
    session.commit()
    assert problems(session, signer) == [
        f"log: level 1 has {expected} stored subtree hashes, expected {expected}"
    ]


def test_an_untouched_log_has_every_level_right(
    session: Session, signer: LogSigner, log: int
) -> None:
    repository = AuditLogRepository(session)
    assert repository.max_node_level() == (log.bit_length() - 1)
    assert problems(session, signer) == []
