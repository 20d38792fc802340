"""Run in a child process by the concurrency test: append events while a sequencer runs."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import log as audit
from audit.sequencer import LogSigner, Sequencer
from common.db import make_engine, new_session


def append_events(url: str, seed: bytes, origin: str, count: int, worker: int) -> None:
    engine = make_engine(url)
    signer = LogSigner(origin=origin, key=Ed25519PrivateKey.from_private_bytes(seed))
    sequencer = Sequencer(engine, signer, interval=0.05)
    sequencer.start()
    try:
        for number in range(count):
            with new_session(engine) as session:
                audit.record(
                    session,
                    None,
                    action="test.append",
                    resource_type="test",
                    resource_id=f"{worker}-{number}",
                )
                session.commit()
        time.sleep(0.2)  # let this process's sequencer take part in the race a little longer
    finally:
        sequencer.stop()
        engine.dispose()
