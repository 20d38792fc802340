"""Figures 2 and 3: audited case reads over HTTP against uvicorn subprocesses.

Figure 2 (PostgreSQL): the audited and the unaudited app run side by side, each on its own
copy of the same seeded database, and the load generator alternates between them in slices
(A B, B A, …), so drift on the machine falls on both alike. After each audited slice the
benchmark waits until the sequencer has integrated everything, so no audit work spills into
the next slice. Done for 1 and 2 uvicorn workers.

Figure 3 (SQLite): one worker, sequencer running, 16 clients; the latency tail of audited
reads, with the unaudited app as a control.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from audit.sequencer import LogSigner, integrate_all
from common.db import make_engine, new_session
from common.keys import KeySet
from common.roles import Role
from domain.auth.service import actor_for
from tests.builders import PASSWORD, make_agency, make_case, make_user
from tests.perf.append import check_log, event_count, log_size
from tests.perf.loadgen import ClientSpec, LoadPlan, generate_load
from tests.perf.support import (
    Server,
    Workspace,
    latency_ms,
    run_isolated,
    say,
    server_env,
    wait_for_quiet,
)

VARIANTS = ("unaudited", "audited")
NO_SEQUENCER = "audited_without_sequencer"  # figure 3's diagnostic variant
MAX_REQUESTS = 2_000_000  # a safety bound; the time window ends every run long before


@dataclass(frozen=True)
class ReadSettings:
    clients: int
    cases_per_client: int
    slices: int
    warmup_s: float
    window_s: float
    redo_disturbed: int = 0  # redo a slice at most this often if others loaded the machine
    max_other_cores: float = 0.15  # ... by more than this many cores
    quiet_wait_s: float = 60.0  # and wait this long at most for them to stop first


def seed(url: str, keys: KeySet, signer: LogSigner, settings: ReadSettings) -> list[ClientSpec]:
    """One social-services unit; a social worker per client, each owning a few cases."""
    engine = make_engine(url)
    specs = []
    with new_session(engine) as session:
        agency = make_agency(session, name="Socialtjänsten Bench, Barn och unga")
        for number in range(settings.clients):
            user = make_user(session, agency, Role.SOCIAL_WORKER, username=f"bench-{number}")
            actor = actor_for(session, user)
            paths = tuple(
                f"/api/v1/cases/{make_case(session, actor, keys).id}"
                for _ in range(settings.cases_per_client)
            )
            specs.append(ClientSpec(username=user.username, password=PASSWORD, paths=paths))
        session.commit()
        integrate_all(session, signer)  # the seeding's own events, before any timing
        session.commit()
    engine.dispose()
    return specs


def drain(engine: Engine, limit_s: float = 120.0) -> float:
    """Seconds until every committed audit event is integrated (bounded)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if log_size(engine) >= event_count(engine):
            break
        time.sleep(0.02)
    return time.monotonic() - started


def _aggregate(runs: list[dict[str, Any]], drains: list[float]) -> dict[str, Any]:
    window = sum(float(r["window_s"]) for r in runs)
    ok = sum(int(r["ok"]) for r in runs)
    latencies = [lat for r in runs for lat in r["latencies_s"]]
    statuses: dict[str, int] = {}
    for r in runs:
        for status, count in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count

    def mean(key: str) -> float:
        return round(sum(float(r[key]) for r in runs) / len(runs), 2)

    def mean_split(kind: str) -> float:
        return round(sum(float(r["cpu_split"][kind]) for r in runs) / len(runs), 2)

    per_process = [sorted(r["cpu_server_cores"], reverse=True) for r in runs]
    width = max(len(p) for p in per_process)
    server_split = [
        round(sum(p[i] if i < len(p) else 0.0 for p in per_process) / len(runs), 2)
        for i in range(width)
    ]
    return {
        "slices": len(runs),
        "window_s": round(window, 1),
        "requests_ok": ok,
        "errors": sum(int(r["errors"]) for r in runs),
        "statuses": statuses,
        "req_per_s": round(ok / window, 1) if window else 0.0,
        "slice_req_per_s": [round(int(r["ok"]) / float(r["window_s"]), 1) for r in runs],
        "latency": latency_ms(latencies),
        "slow_1s": sum(1 for lat in latencies if lat >= 1.0),
        "cpu_machine_cores": mean("cpu_machine_cores"),
        "cpu_loadgen_cores": mean("cpu_loadgen_cores"),
        "cpu_server_cores": round(sum(server_split), 2),
        "cpu_postgres_cores": mean_split("postgres"),
        "cpu_other_cores": mean_split("other"),
        "cpu_server_split": [c for c in server_split if c >= 0.01],
        "drain_after_slice_s": [round(d, 2) for d in drains],
    }


def compare(
    urls: dict[str, str],
    specs: list[ClientSpec],
    *,
    workers: int,
    settings: ReadSettings,
    workspace: Workspace,
    variants: tuple[str, ...] = VARIANTS,
) -> dict[str, dict[str, Any]]:
    """Start one server per variant, alternate load slices between them, aggregate."""
    engines = {v: make_engine(urls[v]) for v in variants}
    servers = {
        v: Server(
            factory=v,
            workers=workers,
            env=server_env(urls[v], workspace.key_dir, workspace.dir / "data"),
            log_path=workspace.dir / f"uvicorn-{v}-{workers}w.log",
        )
        for v in variants
    }
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    drains: dict[str, list[float]] = {v: [] for v in variants}
    redone = dict.fromkeys(variants, 0)
    try:
        for server in servers.values():
            server.start()
        for number in range(settings.slices):
            order = variants if number % 2 == 0 else variants[::-1]
            for variant in order:
                server = servers[variant]
                plan = LoadPlan(
                    base_url=server.base_url,
                    clients=tuple(specs),
                    warmup_s=settings.warmup_s,
                    duration_s=settings.window_s,
                    max_requests=MAX_REQUESTS,
                    watch_pids=tuple(server.pids()),
                    root_pid=os.getpid(),
                )
                for attempt in range(settings.redo_disturbed + 1):
                    result = run_isolated(
                        generate_load, plan, timeout=settings.warmup_s + settings.window_s + 180
                    )
                    drained = drain(engines[variant]) if variant == "audited" else 0.0
                    other = float(result["cpu_split"]["other"])
                    say(
                        f"  {variant} {workers}w slice {number + 1}: "
                        f"{result['ok'] / settings.window_s:.0f} req/s, "
                        f"errors {result['errors']}, other load {other} cores"
                    )
                    if other <= settings.max_other_cores or attempt == settings.redo_disturbed:
                        break
                    redone[variant] += 1
                    wait_for_quiet(settings.quiet_wait_s)
                runs[variant].append(result)
                drains[variant].append(drained)
    finally:
        for server in servers.values():
            server.stop()
        for engine in engines.values():
            engine.dispose()
    return {v: {**_aggregate(runs[v], drains[v]), "redone_slices": redone[v]} for v in variants}


def figure_postgres(
    workspace: Workspace,
    signer: LogSigner,
    settings: ReadSettings,
    worker_counts: list[int],
) -> dict[str, Any]:
    seeded = workspace.postgres_url("reads_seed")
    specs = seed(seeded, workspace.keys, signer, settings)
    urls = {v: workspace.postgres_copy(seeded, f"reads_{v}") for v in VARIANTS}
    rows = []
    for workers in worker_counts:
        measured = compare(urls, specs, workers=workers, settings=settings, workspace=workspace)
        audited, unaudited = measured["audited"], measured["unaudited"]
        cost = 1 - audited["req_per_s"] / unaudited["req_per_s"] if unaudited["req_per_s"] else None
        rows.append(
            {
                "workers": workers,
                "clients": settings.clients,
                "audited": audited,
                "unaudited": unaudited,
                "audit_cost_pct": None if cost is None else round(cost * 100, 1),
            }
        )
    engine = make_engine(urls["audited"])
    checked = check_log(engine, signer)
    engine.dispose()
    return {"rows": rows, "audited_log": checked}


def figure_sqlite(
    workspace: Workspace, signer: LogSigner, settings: ReadSettings
) -> dict[str, Any]:
    seeded = workspace.sqlite_url("tail_seed")
    specs = seed(seeded, workspace.keys, signer, settings)
    variants = ("audited", NO_SEQUENCER, "unaudited")
    urls = {v: workspace.sqlite_copy(seeded, f"tail_{v}") for v in variants}
    measured = compare(
        urls, specs, workers=1, settings=settings, workspace=workspace, variants=variants
    )
    engine = make_engine(urls["audited"])
    checked = check_log(engine, signer)
    engine.dispose()
    return {
        "workers": 1,
        "clients": settings.clients,
        "audited": measured["audited"],
        NO_SEQUENCER: measured[NO_SEQUENCER],
        "unaudited": measured["unaudited"],
        "audited_log": checked,
    }
