from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import text

from audit.sequencer import LogSigner, integrate_all
from common.db import make_engine, new_session
from common.keys import KeySet
from tests.conftest import PostgresDatabases
from tests.integration.audit.appender import append_events
from tests.integration.audit.conftest import ORIGIN, verify

PROCESSES = 4
EVENTS_EACH = 150


@pytest.fixture
def postgres_url(postgres_databases: PostgresDatabases) -> Iterator[str]:
    name = postgres_databases.fresh()
    try:
        yield postgres_databases.url_for(name)
    finally:
        postgres_databases.drop(name)


@pytest.mark.postgres
def test_processes_appending_at_once_give_one_gap_free_verified_log(
    postgres_url: str, keys: KeySet, signer: LogSigner
) -> None:
    seed = keys.audit_signing.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=append_events, args=(postgres_url, seed, ORIGIN, EVENTS_EACH, n))
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES

    engine = make_engine(postgres_url)
    try:
        with new_session(engine) as session:
            integrate_all(session, signer)  # whatever the racing sequencers left
            session.commit()
            positions = [
                row[0]
                for row in session.execute(
                    text("SELECT position FROM audit_leaf ORDER BY position")
                )
            ]
            appended = session.execute(
                text("SELECT count(*) FROM audit_event WHERE action = 'test.append'")
            ).scalar_one()
            report = verify(session, signer)
    finally:
        engine.dispose()
    assert appended == PROCESSES * EVENTS_EACH
    assert positions == list(range(PROCESSES * EVENTS_EACH))
    assert report.ok, report.problems
    assert report.checkpoints_checked > 1
