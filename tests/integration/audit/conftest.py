from __future__ import annotations

import pytest
from sqlmodel import Session

from audit.sequencer import LogSigner, integrate_all
from audit.verify import VerifyReport, verify_log
from common.keys import KeySet
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
