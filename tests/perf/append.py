"""Figure 1: append throughput with N concurrent writer processes, the sequencer running.

Each writer is a spawned process with its own engine that commits single-event transactions
through `audit.log.record` (as a request does) until its count or the shared deadline is
reached. The sequencer runs as the app runs it: a `Sequencer` thread (default batch size and
interval) in the benchmark's main process, which otherwise only waits and samples.
"""

from __future__ import annotations

import time
import traceback
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from api.settings import Settings
from audit import log as audit_log
from audit.sequencer import LogSigner, Sequencer
from audit.verify import verify_log
from common.actor import Actor
from common.context import request_id_var
from common.db import make_engine, new_session
from common.roles import AgencyKind, Role
from tests.perf.support import (
    CpuWatch,
    latency_ms,
    machine_cpu,
    own_cpu,
    say,
    spawn_context,
)

# The app's default (SAMSYN_AUDIT_SEQUENCER_INTERVAL_MS).
SEQUENCER_INTERVAL_S = Settings.model_fields["audit_sequencer_interval_ms"].default / 1000


@dataclass(frozen=True)
class WriterPlan:
    url: str
    max_events: int
    duration_s: float


def writer_setup(url: str) -> tuple[Engine, Actor, list[uuid.UUID]]:
    """A writer process's engine (first connection made, outside any timing), its actor and
    the cases its events name in turn."""
    engine = make_engine(url)
    actor = Actor(
        user_id=uuid.uuid4(),
        agency_id=uuid.uuid4(),
        agency_kind=AgencyKind.SOCIAL_SERVICES,
        roles=frozenset({Role.SOCIAL_WORKER}),
    )
    with engine.connect():
        pass  # the first connection (and SQLite's pragmas) outside the timing
    return engine, actor, [uuid.uuid4() for _ in range(50)]


def wait_for_start(channel: Connection) -> float | None:
    """Report ready, then sleep until the start the benchmark sends (None: it sent none)."""
    channel.send("ready")
    if not channel.poll(180):
        return None
    start_at: float = channel.recv()
    time.sleep(max(0.0, start_at - time.monotonic()))
    return start_at


def append_one(
    engine: Engine, actor: Actor, case_id: uuid.UUID, errors: dict[str, int]
) -> uuid.UUID | None:
    """One audited case read's event in a transaction of its own, as a request writes it: its
    id, or None (counted in `errors` by kind) when the database refused it."""
    token = request_id_var.set(uuid.uuid4().hex)
    try:
        with new_session(engine) as session:
            event_id = audit_log.record(
                session,
                actor,
                action="case.read",
                resource_type="case",
                resource_id=case_id,
                case_id=case_id,
                basis={"via": "owner_agency"},
            )
            session.commit()
            return event_id
    except DBAPIError as exc:  # e.g. SQLite's "database is locked" after busy_timeout
        kind = type(exc.orig).__name__
        errors[kind] = errors.get(kind, 0) + 1
        return None
    finally:
        request_id_var.reset(token)


def writer(plan: WriterPlan, channel: Connection) -> None:
    """One writer process: report ready, wait for the start time, commit events, report."""
    try:
        engine, actor, cases = writer_setup(plan.url)
        start_at = wait_for_start(channel)
        if start_at is None:
            return
        deadline = start_at + plan.duration_s
        cpu_before = own_cpu()
        latencies: list[float] = []
        errors: dict[str, int] = {}
        last_commit = start_at
        while len(latencies) < plan.max_events:
            began = time.monotonic()
            if began >= deadline:
                break
            if append_one(engine, actor, cases[len(latencies) % len(cases)], errors) is None:
                continue
            last_commit = time.monotonic()
            latencies.append(last_commit - began)
        cpu = own_cpu() - cpu_before
        engine.dispose()
        channel.send(
            {
                "events": len(latencies),
                "errors": errors,
                "last": last_commit,
                "lat": latencies,
                "cpu": cpu,
            }
        )
    except BaseException:
        channel.send({"failed": traceback.format_exc()})
    finally:
        channel.close()


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        value = connection.execute(text(sql)).scalar()
        return int(value) if value is not None else 0


def event_count(engine: Engine) -> int:
    return _scalar(engine, "SELECT count(*) FROM audit_event")


def log_size(engine: Engine) -> int:
    return _scalar(engine, "SELECT coalesce(max(position) + 1, 0) FROM audit_leaf")


def check_log(engine: Engine, signer: LogSigner) -> dict[str, Any]:
    """Positions gap-free and every event integrated; then verify_log over everything."""
    with engine.connect() as connection:
        leaves, low, high = connection.execute(
            text("SELECT count(*), min(position), max(position) FROM audit_leaf")
        ).one()
        events = connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    gap_free = leaves == 0 or (low == 0 and high == leaves - 1)
    started = time.perf_counter()
    with new_session(engine) as session:
        report = verify_log(session, public_key=signer.key.public_key(), origin=signer.origin)
    seconds = time.perf_counter() - started
    return {
        "events": int(events),
        "leaves": int(leaves),
        "gap_free": bool(gap_free),
        "all_integrated": int(events) == int(leaves),
        "verify_ok": report.ok,
        "verify_problems": [str(p) for p in report.problems[:5]],
        "verify_s": round(seconds, 2),
    }


def run_append(
    url: str, backend: str, writers: int, *, duration_s: float, max_events: int, signer: LogSigner
) -> dict[str, Any]:
    engine = make_engine(url)
    sequencer = Sequencer(engine, signer, interval=SEQUENCER_INTERVAL_S)
    context = spawn_context()
    channels: list[Connection] = []
    processes = []
    results: list[dict[str, Any]] = []
    backlog_max = 0
    finished = False
    try:
        sequencer.start()
        plan = WriterPlan(url=url, max_events=max_events, duration_s=duration_s)
        for number in range(writers):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=writer, args=(plan, theirs), name=f"writer-{number}", daemon=True
            )
            process.start()
            theirs.close()
            channels.append(mine)
            processes.append(process)
        for channel in channels:
            if not channel.poll(180) or channel.recv() != "ready":
                raise RuntimeError("a writer did not get ready within 180 s")
        start_at = time.monotonic() + 0.3
        for channel in channels:
            channel.send(start_at)

        time.sleep(max(0.0, start_at - time.monotonic()))
        busy_before, _ = machine_cpu()
        main_before = own_cpu()
        watch = CpuWatch()
        waiting = dict(enumerate(channels))
        give_up = start_at + duration_s + 120
        next_sample = 0.0
        while waiting and time.monotonic() < give_up:
            for number, channel in list(waiting.items()):
                if channel.poll(0):
                    results.append(channel.recv())
                    del waiting[number]
            if waiting and time.monotonic() >= next_sample:  # the backlog, twice a second
                backlog_max = max(backlog_max, event_count(engine) - log_size(engine))
                next_sample = time.monotonic() + 0.5
            time.sleep(0.02)  # results are picked up soon after, so the lag below is exact
        if waiting:
            raise TimeoutError(f"{len(waiting)} writers did not report back")
        failures = [r["failed"] for r in results if "failed" in r]
        if failures:
            raise RuntimeError(f"a writer failed:\n{failures[0]}")

        busy_after, _ = machine_cpu()
        main_cpu = own_cpu() - main_before
        split = watch.stop()
        committed = sum(int(r["events"]) for r in results)
        stopped_at = max(float(r["last"]) for r in results)
        wall = time.monotonic() - start_at
        elapsed = stopped_at - start_at
        integrated_at = None
        give_up = time.monotonic() + 300
        while time.monotonic() < give_up:
            if log_size(engine) >= committed:
                integrated_at = time.monotonic()
                break
            time.sleep(0.01)
        finished = True
    finally:
        sequencer.stop()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        for channel in channels:
            channel.close()
        if not finished:
            engine.dispose()

    latencies = [lat for r in results for lat in r["lat"]]
    errors: dict[str, int] = {}
    for r in results:
        for kind, count in r["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    try:
        checked = check_log(engine, signer)
    finally:
        engine.dispose()
    result = {
        "backend": backend,
        "writers": writers,
        "events": committed,
        "seconds": round(elapsed, 2),
        "events_per_s": round(committed / elapsed, 1) if elapsed > 0 else 0.0,
        "commit_latency": latency_ms(latencies),
        "errors": errors,
        "backlog_max": backlog_max,
        "cpu_busy_cores": round((busy_after - busy_before) / wall, 2),
        "cpu_writer_cores": round(sum(float(r["cpu"]) for r in results) / wall, 2),
        "cpu_sequencer_cores": round(main_cpu / wall, 2),
        "cpu_postgres_cores": split["postgres"],
        "cpu_other_cores": split["other"],
        "lag_s": None if integrated_at is None else round(max(0.0, integrated_at - stopped_at), 3),
        **checked,
    }
    say(
        f"  append {backend} x{writers}: {result['events_per_s']} events/s, "
        f"lag {result['lag_s']} s, gap-free {checked['gap_free']}, verify {checked['verify_ok']}"
    )
    return result
