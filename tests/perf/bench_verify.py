"""Full and incremental verification speed (issue 16, item 3). Not a test: it prints figures.

Builds `--events` synthetic events fast (bulk insert, then `integrate` in batches of
`--batch-size`, each batch a signed checkpoint), times `verify_log` over all of them, then adds
`--day-events` more (a day's worth), integrates them and times `verify_incremental` from the
checkpoint the full run verified. Each verification runs in a fresh process, so its peak
memory is its own.

The first events are dated `--history-gap-hours` (default 24) before the day's, as in a log
with a history: the incremental run's check for events that have neither a leaf nor a place in
the queue looks at the events dated from its remembered checkpoint's signing time (less the
15-minute tolerance) on, which is then the day's. With 0, every event lies within minutes and
that check covers the whole log.

    .venv/bin/python -m tests.perf.bench_verify --events 200000
    .venv/bin/python -m tests.perf.bench_verify --events 1000000 --postgres URL
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from audit.checkpoints import parse_note
from audit.sequencer import BATCH_SIZE
from audit.verify import verify_incremental, verify_log
from common.db import make_engine, new_session
from common.keys import load_keys
from tests.perf import scale
from tests.perf.support import ORIGIN, Workspace, peak_rss_mib, require_loopback, run_isolated


def incremental_phase(url: str, key_dir: str, since_note: str, batch_size: int) -> dict[str, Any]:
    keys = load_keys(Path(key_dir), {}, generate=False)
    since = parse_note(since_note)
    engine = make_engine(url)
    started, cpu = time.perf_counter(), time.process_time()
    with new_session(engine) as session:
        report = verify_incremental(
            session,
            since=since,
            public_key=keys.audit_signing.public_key(),
            origin=ORIGIN,
            batch_size=batch_size,
        )
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    engine.dispose()
    new = report.size - report.start
    return {
        "from": report.start,
        "to": report.size,
        "events": new,
        "ok": report.ok,
        "problems": [str(p) for p in report.problems[:5]],
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "events_per_s": round(new / seconds) if seconds else 0,
        "peak_rss_mib": round(peak_rss_mib()),
    }


def run(url: str, ws: Workspace, args: argparse.Namespace) -> None:
    key_dir = str(ws.key_dir)
    limit = args.phase_limit
    print(f"{url.split(':')[0]}: inserting {args.events:,} events", flush=True)  # noqa: T201
    history_ends_ago = args.history_gap_hours * 3600 + 15
    run_isolated(scale.bulk_insert, url, args.events, limit, history_ends_ago, timeout=limit + 120)
    integrated = run_isolated(
        scale.integrate_phase, url, key_dir, args.batch_size, limit, timeout=limit + 120
    )
    print(f"  integrated {integrated['events']:,} at {integrated['events_per_s']:,}/s")  # noqa: T201
    full = run_isolated(_timed_full, url, key_dir, args.batch_size, timeout=limit + 120)
    print(  # noqa: T201
        f"  full verify: {full['events']:,} events in {full['seconds']} s "
        f"(cpu {full['cpu_seconds']} s) = "
        f"{full['events_per_s']:,} events/s, ok {full['ok']}, peak {full['peak_rss_mib']} MiB"
        + (f", problems {full['problems']}" if full["problems"] else "")
    )
    run_isolated(scale.bulk_insert, url, args.day_events, limit, timeout=limit + 120)
    run_isolated(scale.integrate_phase, url, key_dir, args.batch_size, limit, timeout=limit + 120)
    incremental = run_isolated(
        incremental_phase, url, key_dir, full["note"], args.batch_size, timeout=limit + 120
    )
    print(  # noqa: T201
        f"  incremental verify: positions {incremental['from']:,}-{incremental['to']:,} "
        f"({incremental['events']:,} events) in {incremental['seconds']} s "
        f"(cpu {incremental['cpu_seconds']} s) = "
        f"{incremental['events_per_s']:,} events/s, ok {incremental['ok']}"
        + (f", problems {incremental['problems']}" if incremental["problems"] else "")
    )


def _timed_full(url: str, key_dir: str, batch_size: int) -> dict[str, Any]:
    keys = load_keys(Path(key_dir), {}, generate=False)
    engine = make_engine(url)
    started, cpu = time.perf_counter(), time.process_time()
    with new_session(engine) as session:
        report = verify_log(
            session,
            public_key=keys.audit_signing.public_key(),
            origin=ORIGIN,
            batch_size=batch_size,
        )
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    engine.dispose()
    return {
        "events": report.size,
        "ok": report.ok,
        "problems": [str(p) for p in report.problems[:5]],
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "events_per_s": round(report.size / seconds) if seconds else 0,
        "peak_rss_mib": round(peak_rss_mib()),
        "note": report.verified_note,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--day-events", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=20_000, help=f"sequencer: {BATCH_SIZE}")
    parser.add_argument("--phase-limit", type=float, default=900.0)
    parser.add_argument(
        "--history-gap-hours",
        type=float,
        default=24.0,
        help="the first --events end this long before the day's events (0: all within minutes)",
    )
    parser.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (127.0.0.1)")
    args = parser.parse_args(argv)
    if args.postgres:
        require_loopback(args.postgres)
    ws = Workspace(args.postgres)
    try:
        run(ws.sqlite_url("verify"), ws, args)
        if args.postgres:
            run(ws.postgres_url("verify"), ws, args)
    finally:
        ws.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
