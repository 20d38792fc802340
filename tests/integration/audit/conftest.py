from __future__ import annotations

import pytest
from sqlmodel import Session

from audit.repository import AuditLogRepository
from audit.sequencer import LogSigner, integrate, integrate_all
from audit.verify import VerifyReport, verify_log
from common.keys import KeySet
from domain.cases import service as cases
from tests.builders import make_actor, make_case

ORIGIN = "samsyn.test/audit"


@pytest.fixture
def signer(keys: KeySet) -> LogSigner:
    return LogSigner(origin=ORIGIN, key=keys.audit_signing)


def verify(session: Session, signer: LogSigner, **kwargs: object) -> VerifyReport:
    return verify_log(session, public_key=signer.key.public_key(), origin=ORIGIN, **kwargs)  # type: ignore[arg-type]


def some_events(session: Session, keys: KeySet, signer: LogSigner, cases: int = 3) -> None:
    """A few dozen real events (creations, reads, lists), integrated and committed."""
    actor = make_actor(session)
    for _ in range(cases):
        make_case(session, actor, keys)
    session.commit()
    integrate_all(session, signer)
    session.commit()


@pytest.fixture
def log(session: Session, keys: KeySet, signer: LogSigner) -> int:
    """About a dozen events (creations and reads), each in its own checkpoint, so there are
    subtrees on several levels; returns the log size (at least 8)."""
    actor = make_actor(session)
    for _ in range(4):
        cases.get_case(session, actor, case_id=make_case(session, actor, keys).id)
    session.commit()
    while integrate(session, signer, batch_size=1) is not None:
        session.commit()
    size = AuditLogRepository(session).size()
    assert size >= 8
    return size
