"""The audit log benchmark: ``.venv/bin/python -m tests.perf.bench_audit [--quick] [--json F]``.

Prints a report (tables) on stdout, progress on stderr, and writes the same figures as JSON
with ``--json``. Asserts nothing about timings. See tests/perf/README.md for what each figure
means. Every database, temp dir and server it makes is removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import create_engine, make_url

from api.logging import configure_logging
from audit.sequencer import LogSigner
from common.clock import utcnow
from domain.auth import passwords
from tests.perf import append, reads, scale
from tests.perf.support import (
    CORES,
    ORIGIN,
    CpuWatch,
    Workspace,
    machine_cpu,
    require_loopback,
    run_isolated,
    say,
    speed_probe,
    table,
    wait_for_quiet,
)

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIGURES = ("append", "reads", "tail", "verify", "proofs")
PROOF_SIZES = [1_000, 10_000, 100_000, 1_000_000]
AUDIT_COST_TARGET_PCT = 20.0
TAIL_TARGET_MS = 1000.0  # "no multi-second tail", judged strictly: no read took a second


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf.bench_audit",
        description="Benchmark the audit log: appends, audited reads, verification, proofs.",
    )
    parser.add_argument("--quick", action="store_true", help="small numbers, to check it works")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--only", default=",".join(FIGURES), help=f"comma-separated subset of {FIGURES}"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("SAMSYN_TEST_POSTGRES_URL", DEFAULT_PG_URL),
        help="admin URL of a PostgreSQL on 127.0.0.1 where the user may create databases",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite figures only")
    parser.add_argument("--writers", type=_ints, default=[1, 4, 16], help="figure 1 (1,4,16)")
    parser.add_argument("--append-seconds", type=float, help="figure 1 run length (10; quick 2)")
    parser.add_argument(
        "--append-max-events", type=int, default=200_000, help="figure 1 cap per writer"
    )
    parser.add_argument("--clients", type=int, default=16, help="figures 2-3 concurrent clients")
    parser.add_argument("--read-workers", type=_ints, default=[1, 2], help="figure 2 (1,2)")
    parser.add_argument("--slices", type=int, help="figure 2 slices per variant (4; quick 1)")
    parser.add_argument("--window", type=float, help="figure 2 seconds per slice (5; quick 3)")
    parser.add_argument("--tail-window", type=float, help="figure 3 seconds per slice (10; 3)")
    parser.add_argument("--tail-slices", type=int, help="figure 3 slices per variant (2; 1)")
    parser.add_argument("--warmup", type=float, help="seconds before each window (2; quick 1)")
    parser.add_argument("--events", type=int, help="figure 4 SQLite events (1000000; quick 20000)")
    parser.add_argument(
        "--pg-events", type=int, help="figure 4 PostgreSQL events, 0 skips (200000; quick 10000)"
    )
    parser.add_argument("--batch-size", type=int, default=20_000, help="figure 4 integrate batch")
    parser.add_argument(
        "--phase-limit", type=float, default=900.0, help="seconds a figure-4 phase may take"
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        help="before each figure, wait up to this many seconds for other load to go away",
    )
    parser.add_argument(
        "--redo-disturbed",
        type=int,
        default=0,
        help="redo a figure-1 run or a figure-2/3 slice during which other processes used "
        "more than --max-other cores, at most this many times (0: never)",
    )
    parser.add_argument("--max-other", type=float, default=0.15, help="see --redo-disturbed")
    parser.add_argument("--proof-samples", type=int, default=20, help="figure 5 proofs per size")
    args = parser.parse_args(argv)
    quick = args.quick

    def default(name: str, full: float, small: float) -> None:
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)

    default("append_seconds", 10.0, 2.0)
    default("slices", 4, 1)
    default("window", 5.0, 3.0)
    default("tail_window", 10.0, 3.0)
    default("tail_slices", 2, 1)
    default("warmup", 2.0, 1.0)
    default("events", 1_000_000, 20_000)
    default("pg_events", 200_000, 10_000)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures {sorted(unknown)}; choose from {FIGURES}")
    return args


def _postgres(args: argparse.Namespace) -> str | None:
    if args.no_postgres:
        return None
    url: str = args.pg_url
    require_loopback(url)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as exc:
        say(f"PostgreSQL not reachable ({type(exc).__name__}); its figures are skipped")
        return None
    finally:
        engine.dispose()
    return url


# --- the figures ---------------------------------------------------------------------------


def figure_append(args: argparse.Namespace, ws: Workspace, signer: LogSigner) -> Any:
    backends = ["sqlite"] + (["postgresql"] if ws.has_postgres else [])
    rows = []
    for backend in backends:
        for writers in args.writers:
            name = f"append_{writers}"
            url = ws.sqlite_url(name) if backend == "sqlite" else ws.postgres_url(name)
            for attempt in range(args.redo_disturbed + 1):
                if attempt:
                    wait_for_quiet(max(args.wait_idle, 60.0))
                    url = ws.sqlite_url(name) if backend == "sqlite" else ws.postgres_url(name)
                row = append.run_append(
                    url,
                    backend,
                    writers,
                    duration_s=args.append_seconds,
                    max_events=args.append_max_events,
                    signer=signer,
                )
                row["redone"] = attempt
                if row["cpu_other_cores"] <= args.max_other:
                    break
            rows.append(row)
    return rows


def _read_settings(args: argparse.Namespace, window: float, slices: int) -> reads.ReadSettings:
    return reads.ReadSettings(
        clients=args.clients,
        cases_per_client=3,
        slices=slices,
        warmup_s=args.warmup,
        window_s=window,
        redo_disturbed=args.redo_disturbed,
        max_other_cores=args.max_other,
        quiet_wait_s=max(args.wait_idle, 60.0),
    )


def figure_reads(args: argparse.Namespace, ws: Workspace, signer: LogSigner) -> Any:
    if not ws.has_postgres:
        return {"skipped": "needs PostgreSQL"}
    settings = _read_settings(args, args.window, args.slices)
    return reads.figure_postgres(ws, signer, settings, args.read_workers)


def figure_tail(args: argparse.Namespace, ws: Workspace, signer: LogSigner) -> Any:
    settings = _read_settings(args, args.tail_window, args.tail_slices)
    return reads.figure_sqlite(ws, signer, settings)


def _scale_one(args: argparse.Namespace, url: str, backend: str, ws: Workspace, n: int) -> Any:
    limit = args.phase_limit

    def phase(target: Callable[..., dict[str, Any]], *phase_args: object) -> dict[str, Any]:
        watch = CpuWatch()
        result = run_isolated(target, *phase_args, timeout=limit + 120)
        result["cpu_split"] = watch.stop()
        return result

    say(f"  {backend}: inserting {n:,} events")
    inserted = phase(scale.bulk_insert, url, n, limit)
    say(f"  {backend}: integrating ({inserted['events_per_s']:,} inserted/s)")
    integrated = phase(scale.integrate_phase, url, str(ws.key_dir), args.batch_size, limit)
    say(f"  {backend}: verifying ({integrated['events_per_s']:,} integrated/s)")
    verified = phase(scale.verify_phase, url, str(ws.key_dir), args.batch_size)
    say(f"  {backend}: verified {verified['events_per_s']:,}/s, ok {verified['ok']}")
    return {
        "backend": backend,
        "url": url,
        "insert": inserted,
        "integrate": integrated,
        "verify": verified,
    }


def figure_verify(args: argparse.Namespace, ws: Workspace, _signer: LogSigner) -> Any:
    rows = []
    if args.events > 0:
        rows.append(_scale_one(args, ws.sqlite_url("scale"), "sqlite", ws, args.events))
    if ws.has_postgres and args.pg_events > 0:
        rows.append(_scale_one(args, ws.postgres_url("scale"), "postgresql", ws, args.pg_events))
    return rows


def figure_proofs(
    args: argparse.Namespace, ws: Workspace, _signer: LogSigner, verify_rows: Any
) -> Any:
    """On the largest log figure 4 built (else a small one made here)."""
    if isinstance(verify_rows, list) and verify_rows:
        largest = max(verify_rows, key=lambda r: r["integrate"]["events"])
        url, backend = largest["url"], largest["backend"]
    else:
        url, backend = ws.sqlite_url("proofs"), "sqlite"
        count = min(args.events, 20_000)
        run_isolated(scale.bulk_insert, url, count, args.phase_limit, timeout=600)
        run_isolated(
            scale.integrate_phase, url, str(ws.key_dir), args.batch_size, 600.0, timeout=700
        )
    rows = run_isolated(scale.proofs_phase, url, PROOF_SIZES, args.proof_samples, timeout=600)
    return {"backend": backend, "rows": rows}


# --- the report ----------------------------------------------------------------------------


def _yes(value: object) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def render(report: dict[str, Any]) -> str:
    meta = report["meta"]
    out = [
        "=" * 100,
        "Samsyn audit log benchmark",
        f"{meta['started']}  {meta['cores']} cores ({meta['cpu']}), Python {meta['python']}, "
        f"SQLite {meta['sqlite']}, PostgreSQL {meta['postgresql'] or 'not used'}",
        f"mode: {'quick' if meta['quick'] else 'full'}; took {meta['elapsed_s']:.0f} s; "
        f"machine busy before the start: {meta['busy_cores_before_start']} cores",
        "CPU speed probe (ms for a fixed pure-Python loop, min/median/max): "
        + "; ".join(
            f"{when} {p['min_ms']}/{p['median_ms']}/{p['max_ms']}"
            for when, p in (
                ("at start", meta["speed_probe_start"]),
                ("at end", meta["speed_probe_end"]),
            )
            if p
        )
        + " — a max/min well above 1 means the machine's speed itself varied",
        f"NOTE: {meta['cores']} cores are shared by everything in a figure (writers or load "
        "generator, server, sequencer, PostgreSQL): throughput here is CPU-bound and says "
        "little about a bigger server.",
        "=" * 100,
    ]
    figures = report["figures"]
    for name in FIGURES:
        if name not in figures:
            continue
        value = figures[name]
        out.append("")
        if isinstance(value, dict) and "error" in value:
            out.append(f"[{name}] FAILED: {value['error']}")
            continue
        out.append(RENDERERS[name](value))
    out.append("")
    return "\n".join(out)


def render_append(rows: list[dict[str, Any]]) -> str:
    lines = table(
        "1. Append throughput: N writer processes, one audit.log.record per transaction, "
        "sequencer running",
        [
            "db",
            "writers",
            "events",
            "s",
            "events/s",
            "commit p50 ms",
            "p99 ms",
            "max ms",
            "backlog max",
            "lag s",
            "cpu all",
            "writers",
            "seq",
            "other",
            "gap-free",
            "verify",
            "errors",
        ],
        [
            [
                r["backend"],
                r["writers"],
                r["events"],
                r["seconds"],
                r["events_per_s"],
                r["commit_latency"]["p50_ms"],
                r["commit_latency"]["p99_ms"],
                r["commit_latency"]["max_ms"],
                r["backlog_max"],
                "-" if r["lag_s"] is None else r["lag_s"],
                r["cpu_busy_cores"],
                r["cpu_writer_cores"],
                r["cpu_sequencer_cores"],
                r["cpu_other_cores"],
                _yes(r["gap_free"] and r["all_integrated"]),
                _yes(r["verify_ok"]),
                sum(r["errors"].values()),
            ]
            for r in rows
        ],
    )
    redone = [f"{r['backend']} x{r['writers']}" for r in rows if r.get("redone")]
    if redone:
        lines += "\n  run again because of other load: " + ", ".join(redone)
    return (
        lines + "\n  lag: from the last writer's last commit until every event had a position "
        f"(includes up to one {append.SEQUENCER_INTERVAL_S:g} s sequencer interval)."
        + "\n  cpu: busy cores during the run (of "
        f"{CORES}): whole machine, all writer processes, the main process (the sequencer "
        "thread and a 2 Hz backlog sample), and 'other': processes that are neither ours nor "
        "PostgreSQL (load we did not make; it disturbs the figures)."
    )


def _read_row(label: str, workers: int, m: dict[str, Any]) -> list[object]:
    return [
        workers,
        label,
        m["req_per_s"],
        f"{min(m['slice_req_per_s']):.0f}-{max(m['slice_req_per_s']):.0f}",
        m["latency"]["p50_ms"],
        m["latency"]["p95_ms"],
        m["latency"]["p99_ms"],
        m["latency"]["max_ms"],
        m["slow_1s"],
        m["errors"],
        m["cpu_machine_cores"],
        m["cpu_loadgen_cores"],
        " + ".join(f"{c:.2f}" for c in m["cpu_server_split"]) or "-",
        m["cpu_postgres_cores"],
        m["cpu_other_cores"],
    ]


READ_HEADERS = [
    "workers",
    "variant",
    "req/s",
    "slices",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    ">= 1 s",
    "errors",
    "cpu all",
    "cpu loadgen",
    "cpu server processes",
    "cpu pg",
    "cpu other",
]


def render_reads(value: dict[str, Any]) -> str:
    if "skipped" in value:
        return f"2. Audited vs unaudited case reads on PostgreSQL: skipped ({value['skipped']})"
    rows = value["rows"]
    body = [
        _read_row(variant, r["workers"], r[variant])
        for r in rows
        for variant in ("unaudited", "audited")
    ]
    clients = rows[0]["clients"] if rows else 0
    out = [
        table(
            f"2. GET /api/v1/cases/{{id}} on PostgreSQL, {clients} clients, audit on vs off "
            "(alternating slices)",
            READ_HEADERS,
            body,
        )
    ]
    for r in rows:
        cost = r["audit_cost_pct"]
        verdict = "-" if cost is None else ("met" if cost <= AUDIT_COST_TARGET_PCT else "NOT met")
        out.append(
            f"  {r['workers']} worker(s): auditing costs {cost} % of read throughput "
            f"(target <= {AUDIT_COST_TARGET_PCT:.0f} %: {verdict})"
        )
    by_workers = {r["workers"]: r["audited"]["req_per_s"] for r in rows}
    if 1 in by_workers and 2 in by_workers and by_workers[1]:
        gain = by_workers[2] / by_workers[1]
        out.append(
            f"  audited throughput 2 workers / 1 worker: x{gain:.2f} "
            f"(target: grows: {'met' if gain > 1.05 else 'NOT met'}; "
            f"on {CORES} cores shared with the load generator and PostgreSQL)"
        )
    redone = sum(r[v]["redone_slices"] for r in rows for v in ("audited", "unaudited"))
    if redone:
        out.append(f"  slices measured again because of other load: {redone}")
    log = value["audited_log"]
    out.append(
        f"  audited database afterwards: {log['events']:,} events, gap-free "
        f"{_yes(log['gap_free'] and log['all_integrated'])}, verify_log {_yes(log['verify_ok'])}"
    )
    out.append(
        "  cpu: busy cores over the window: machine, load generator, each server process, "
        "PostgreSQL (all backends), other (load we did not make; it disturbs the figures)."
    )
    return "\n".join(out)


def render_tail(value: dict[str, Any]) -> str:
    labels = {
        "audited": "audited",
        reads.NO_SEQUENCER: "audited, no sequencer",
        "unaudited": "unaudited",
    }
    shown = [v for v in labels if v in value]
    body = [_read_row(labels[v], value["workers"], value[v]) for v in shown]
    audited = value["audited"]["latency"]
    tail_ok = audited["max_ms"] < TAIL_TARGET_MS
    redone = sum(value[v]["redone_slices"] for v in shown)
    log = value["audited_log"]
    return "\n".join(
        [
            table(
                f"3. Audited case reads on SQLite, 1 uvicorn worker, sequencer running, "
                f"{value['clients']} clients (controls: no sequencer thread; no auditing)",
                READ_HEADERS,
                body,
            ),
            f"  audited tail: p99 {audited['p99_ms']} ms, max {audited['max_ms']} ms "
            f"(target no multi-second tail, judged as max < {TAIL_TARGET_MS:.0f} ms: "
            f"{'met' if tail_ok else 'NOT met'})",
            *([f"  measured again because of other load: {redone}"] if redone else []),
            f"  audited database afterwards: {log['events']:,} events, gap-free "
            f"{_yes(log['gap_free'] and log['all_integrated'])}, "
            f"verify_log {_yes(log['verify_ok'])}",
        ]
    )


def render_verify(rows: list[dict[str, Any]]) -> str:
    body = [
        [
            r["backend"],
            r["verify"]["events"],
            r["insert"]["events_per_s"],
            r["integrate"]["events_per_s"],
            r["integrate"]["seconds"],
            f"{r['integrate']['first_batch_s']} / {r['integrate']['last_batch_s']}",
            r["integrate"]["peak_rss_mib"],
            r["integrate"]["idle_pass_ms"],
            r["verify"]["events_per_s"],
            r["verify"]["seconds"],
            r["verify"]["peak_rss_mib"],
            _yes(r["verify"]["ok"]),
            max(r[p]["cpu_split"]["other"] for p in ("insert", "integrate", "verify")),
        ]
        for r in rows
    ]
    notes = []
    for r in rows:
        if r["integrate"]["hit_time_limit"] or not r["insert"]["complete"]:
            notes.append(f"  {r['backend']}: a phase hit --phase-limit; figures are partial")
        for problem in r["verify"]["problems"]:
            notes.append(f"  {r['backend']} problem: {problem}")
    return "\n".join(
        [
            table(
                "4. Integration and full verification (synthetic events, integrate batch "
                f"{rows[0]['integrate']['batch_size'] if rows else '-'})",
                [
                    "db",
                    "events",
                    "insert ev/s",
                    "integrate ev/s",
                    "integrate s",
                    "batch first/last s",
                    "integrate peak MiB",
                    "idle pass ms",
                    "verify ev/s",
                    "verify s",
                    "verify peak MiB",
                    "ok",
                    "other cpu",
                ],
                body,
            ),
            "  peak MiB: ru_maxrss of the phase's own process; a bare process with the "
            f"imports is ~{rows[0]['verify']['rss_before_mib'] if rows else '-'} MiB.",
            "  idle pass: one integrate() that finds nothing to do while all these events are "
            "inside the sequencer's one-hour look-back (paid every "
            f"{append.SEQUENCER_INTERVAL_S:g} s by an idle sequencer).",
            *notes,
        ]
    )


def render_proofs(value: dict[str, Any]) -> str:
    body = [
        [
            r["size"],
            r["source"],
            f"{r['inclusion_hashes_min']}-{r['inclusion_hashes_max']}",
            r["inclusion_bytes_max"],
            r["inclusion_ms_p50"] if r["source"] == "database" else "-",
            f"{r['consistency_hashes_min']}-{r['consistency_hashes_max']}",
            r["consistency_bytes_max"],
            r["consistency_ms_p50"] if r["source"] == "database" else "-",
            _yes(r["all_verify"]),
            _yes(r["root_matches_checkpoint"]),
        ]
        for r in value["rows"]
    ]
    return "\n".join(
        [
            table(
                f"5. Proof sizes ({value['backend']} log; 'computed' = beyond the stored log, "
                "shape only)",
                [
                    "tree size",
                    "source",
                    "inclusion hashes",
                    "max bytes",
                    "build ms p50",
                    "consistency hashes",
                    "max bytes",
                    "build ms p50",
                    "verify",
                    "root = checkpoint",
                ],
                body,
            ),
            "  hashes: min-max over sampled leaves (inclusion) and old sizes (consistency); "
            "32 bytes each. build ms: one proof from the database, one query per node.",
        ]
    )


RENDERERS: dict[str, Callable[[Any], str]] = {
    "append": render_append,
    "reads": render_reads,
    "tail": render_tail,
    "verify": render_verify,
    "proofs": render_proofs,
}


# --- main ----------------------------------------------------------------------------------


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwind through the finally blocks that clean up


def _strip(value: Any) -> Any:
    """The JSON report without raw latency lists and database URLs."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in {"latencies_s", "url"}}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(json=False, level="WARNING")
    signal.signal(signal.SIGTERM, _terminate)
    # Cheap scrypt for the benchmark users, as tests/conftest.py does for tests.
    passwords.DEFAULT_PARAMS = passwords.ScryptParams(n=2**10, r=8, p=1)
    started = time.monotonic()
    busy_before, _ = machine_cpu()
    time.sleep(1.0)
    other_load = machine_cpu()[0] - busy_before  # busy cores before we start anything
    speed = speed_probe(rounds=5 if args.quick else 15)
    pg_url = _postgres(args)
    workspace = Workspace(pg_url)
    signer = LogSigner(origin=ORIGIN, key=workspace.keys.audit_signing)
    figures: dict[str, Any] = {}
    report: dict[str, Any] = {
        "meta": {
            "started": utcnow().isoformat(timespec="seconds"),
            "quick": args.quick,
            "cores": CORES,
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "postgresql": None,
            "busy_cores_before_start": round(other_load, 2),
            "speed_probe_start": speed,
            "speed_probe_end": None,
            "elapsed_s": 0.0,
            "args": {
                k: make_url(v).render_as_string(hide_password=True) if k == "pg_url" else str(v)
                for k, v in vars(args).items()
            },
        },
        "figures": figures,
    }
    try:
        report["meta"]["postgresql"] = workspace.server_version()
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("append", lambda: figure_append(args, workspace, signer)),
            ("reads", lambda: figure_reads(args, workspace, signer)),
            ("tail", lambda: figure_tail(args, workspace, signer)),
            ("verify", lambda: figure_verify(args, workspace, signer)),
            ("proofs", lambda: figure_proofs(args, workspace, signer, figures.get("verify"))),
        ]
        for name, step in steps:
            if name not in args.only:
                continue
            if args.wait_idle > 0:
                quiet = wait_for_quiet(args.wait_idle)
                report["meta"].setdefault("waited_for_quiet", {})[name] = quiet
                if quiet["foreign_cores"] >= 0.25:
                    say(f"  still {quiet['foreign_cores']} cores of other load; going on")
            say(f"[{name}] ({time.monotonic() - started:.0f} s in)")
            try:
                figures[name] = step()
            except Exception as exc:
                say(traceback.format_exc())
                figures[name] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    finally:
        workspace.close()
    report["meta"]["speed_probe_end"] = speed_probe(rounds=5 if args.quick else 15)
    report["meta"]["elapsed_s"] = round(time.monotonic() - started, 1)
    sys.stdout.write(render(report))
    sys.stdout.flush()
    if args.json is not None:
        args.json.write_text(json.dumps(_strip(report), indent=2) + "\n", encoding="utf-8")
        say(f"JSON written to {args.json}")
    failed = [
        name for name, value in figures.items() if isinstance(value, dict) and "error" in value
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
