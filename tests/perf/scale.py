"""Figures 4 and 5: integration and full verification over a large log, and proof sizes.

Each phase runs in a fresh spawned process (`support.run_isolated`) so that its peak resident
memory (ru_maxrss) is its own: bulk insert, integration, verification, proofs.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine

from audit.merkle import (
    HASH_SIZE,
    consistency_proof,
    inclusion_proof,
    range_root,
    verify_consistency,
    verify_inclusion,
)
from audit.models import AuditEvent
from audit.repository import AuditLogRepository
from audit.sequencer import LogSigner, integrate
from audit.verify import verify_log
from common.clock import utcnow
from common.db import make_engine, new_session
from common.keys import load_keys
from tests.perf.support import ORIGIN, peak_rss_mib, percentile

INSERT_CHUNK = 10_000
SPREAD = timedelta(seconds=60)  # synthetic events span at most this, ending shortly before now


def _bulk_engine(url: str) -> Engine:
    """The production engine, plus a larger SQLite page cache for the bulk load only."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":

        def larger_cache(dbapi_connection: Any, _record: object) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
            cursor.close()

        event.listen(engine, "connect", larger_cache)
    return engine


def bulk_insert(
    url: str, count: int, time_limit_s: float, ends_ago_s: float = 15.0
) -> dict[str, Any]:
    """`count` synthetic audit_event rows in chunked executemany: uuid4 ids, increasing times.

    The times span at most a minute and end `ends_ago_s` (~15 s) before now, so verify's
    back-dating check (15 min tolerance) holds however long integration takes within the time
    limits used here. Older events (`ends_ago_s` of a day) are fine in a log's first batches:
    only a batch that emptied the queue bounds the times of the events after it.
    """
    engine = _bulk_engine(url)
    rng = random.Random(4711)
    users = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(500)]
    agencies = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(20)]
    cases = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(20_000)]
    step = max(timedelta(microseconds=1), SPREAD / max(count, 1))
    first = utcnow() - timedelta(seconds=ends_ago_s) - step * count
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    statement = insert(table)
    started = time.perf_counter()
    done = 0
    while done < count and time.perf_counter() - started < time_limit_s:
        rows = []
        for n in range(done, min(count, done + INSERT_CHUNK)):
            case_id = cases[n % len(cases)]
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "occurred_at": first + step * n,
                    "request_id": uuid.uuid4().hex,
                    "user_id": users[n % len(users)],
                    "agency_id": agencies[n % len(agencies)],
                    "role": "social_worker",
                    "action": "case.read",
                    "resource_type": "case",
                    "resource_id": str(case_id),
                    "case_id": case_id,
                    "outcome": "allowed",
                    "basis": {"via": "owner_agency"},
                }
            )
        with engine.begin() as connection:
            connection.execute(statement, rows)
        done += len(rows)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "events": done,
        "seconds": round(seconds, 1),
        "events_per_s": round(done / seconds) if seconds else 0,
        "complete": done == count,
        "peak_rss_mib": round(peak_rss_mib()),
    }


def integrate_phase(url: str, key_dir: str, batch_size: int, time_limit_s: float) -> dict[str, Any]:
    """`integrate(batch_size=…)` in a loop, one commit per batch, as the sequencer does."""
    keys = load_keys(Path(key_dir), {}, generate=False)
    signer = LogSigner(origin=ORIGIN, key=keys.audit_signing)
    engine = make_engine(url)
    rss_before = peak_rss_mib()
    batches: list[tuple[int, float]] = []
    started = time.perf_counter()
    while time.perf_counter() - started < time_limit_s:
        began = time.perf_counter()
        with new_session(engine) as session:
            checkpoint = integrate(session, signer, batch_size=batch_size)
            session.commit()
        if checkpoint is None:
            break
        batches.append((checkpoint.size, time.perf_counter() - began))
    seconds = time.perf_counter() - started
    idle = []  # a sequencer pass that finds nothing, with every event still in the look-back
    for _ in range(3):
        began = time.perf_counter()
        with new_session(engine) as session:
            integrate(session, signer, batch_size=batch_size)
            session.rollback()
        idle.append(time.perf_counter() - began)
    engine.dispose()
    size = batches[-1][0] if batches else 0
    per_batch = [s for _, s in batches]
    return {
        "events": size,
        "batches": len(batches),
        "batch_size": batch_size,
        "seconds": round(seconds, 1),
        "events_per_s": round(size / seconds) if seconds else 0,
        "first_batch_s": round(per_batch[0], 2) if per_batch else None,
        "last_batch_s": round(per_batch[-1], 2) if per_batch else None,
        "slowest_batch_s": round(max(per_batch), 2) if per_batch else None,
        "idle_pass_ms": round(sorted(idle)[1] * 1000, 1),
        "hit_time_limit": seconds >= time_limit_s,
        "rss_before_mib": round(rss_before),
        "peak_rss_mib": round(peak_rss_mib()),
    }


def verify_phase(url: str, key_dir: str, batch_size: int) -> dict[str, Any]:
    """`batch_size` is the integration's: verify tells full batches (a backlog) by it."""
    keys = load_keys(Path(key_dir), {}, generate=False)
    engine = make_engine(url)
    rss_before = peak_rss_mib()
    started = time.perf_counter()
    with new_session(engine) as session:
        report = verify_log(
            session,
            public_key=keys.audit_signing.public_key(),
            origin=ORIGIN,
            batch_size=batch_size,
        )
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "events": report.size,
        "checkpoints_checked": report.checkpoints_checked,
        "ok": report.ok,
        "problems": [str(p) for p in report.problems[:5]],
        "seconds": round(seconds, 1),
        "events_per_s": round(report.size / seconds) if seconds else 0,
        "rss_before_mib": round(rss_before),
        "peak_rss_mib": round(peak_rss_mib()),
    }


# --- proofs --------------------------------------------------------------------------------


def _computed_node(level: int, index: int) -> bytes:
    """A stand-in hash for the tree's shape alone (sizes beyond the stored log)."""
    return hashlib.sha256(f"{level}/{index}".encode()).digest()


class _Counting:
    def __init__(self, node: Callable[[int, int], bytes]) -> None:
        self.node = node
        self.calls = 0

    def __call__(self, level: int, index: int) -> bytes:
        self.calls += 1
        return self.node(level, index)


def proofs_phase(url: str, sizes: list[int], samples: int) -> list[dict[str, Any]]:
    """Inclusion and consistency proofs at each size: lengths, bytes, time to build from the
    database (each node one query), and whether they verify against the recomputed root."""
    engine = make_engine(url)
    rows = []
    with new_session(engine) as session:
        repository = AuditLogRepository(session)
        stored = repository.size()
        for size in sizes:
            from_db = size <= stored
            lookup = repository.node if from_db else _computed_node
            rng = random.Random(size)
            root = range_root(0, size, lookup)
            checkpoint = repository.checkpoint(size) if from_db else None
            indexes = sorted(
                {0, size // 2, size - 1} | {rng.randrange(size) for _ in range(samples)}
            )
            olds = sorted(
                {1, size // 2, size - 1}
                | {rng.randrange(1, size) for _ in range(samples)} - {0, size}
            )
            inclusion_lengths, inclusion_times, inclusion_lookups = [], [], []
            verified = True
            for index in indexes:
                counting = _Counting(lookup)
                began = time.perf_counter()
                proof = inclusion_proof(index, size, counting)
                inclusion_times.append(time.perf_counter() - began)
                inclusion_lengths.append(len(proof))
                inclusion_lookups.append(counting.calls)
                verified &= verify_inclusion(index, size, lookup(0, index), proof, root)
            consistency_lengths, consistency_times, consistency_lookups = [], [], []
            for old in olds:
                counting = _Counting(lookup)
                began = time.perf_counter()
                proof = consistency_proof(old, size, counting)
                consistency_times.append(time.perf_counter() - began)
                consistency_lengths.append(len(proof))
                consistency_lookups.append(counting.calls)
                old_root = range_root(0, old, lookup)
                verified &= verify_consistency(old, size, proof, old_root, root)
            inclusion_times.sort()
            consistency_times.sort()
            rows.append(
                {
                    "size": size,
                    "source": "database" if from_db else "computed",
                    "inclusion_proofs": len(indexes),
                    "inclusion_hashes_min": min(inclusion_lengths),
                    "inclusion_hashes_max": max(inclusion_lengths),
                    "inclusion_bytes_max": max(inclusion_lengths) * HASH_SIZE,
                    "inclusion_lookups_max": max(inclusion_lookups),
                    "inclusion_ms_p50": round(percentile(inclusion_times, 0.5) * 1000, 2),
                    "inclusion_ms_max": round(inclusion_times[-1] * 1000, 2),
                    "consistency_proofs": len(olds),
                    "consistency_hashes_min": min(consistency_lengths),
                    "consistency_hashes_max": max(consistency_lengths),
                    "consistency_bytes_max": max(consistency_lengths) * HASH_SIZE,
                    "consistency_lookups_max": max(consistency_lookups),
                    "consistency_ms_p50": round(percentile(consistency_times, 0.5) * 1000, 2),
                    "consistency_ms_max": round(consistency_times[-1] * 1000, 2),
                    "all_verify": verified if from_db else None,  # stand-ins do not verify
                    "root_matches_checkpoint": (
                        None if checkpoint is None else checkpoint.root == root
                    ),
                }
            )
    engine.dispose()
    return rows
