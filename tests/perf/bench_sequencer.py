"""Sequencer lag under concurrent writers (issue 16, item 4). Not a test: it prints figures.

`--writers` processes (default 16) each commit one audit event per transaction through
`audit.log.record`, as a request does, back to back for `--seconds`, while the benchmark's main
process runs the app's `Sequencer` thread (the app's default interval) on the same database. A
sampler process reads the backlog every `--sample-ms` (default 100): how many events wait in
`audit_pending`, and how old the oldest of them is (from its `occurred_at`, which is taken just
before the event's insert, so a little before its commit).

Commit-to-position lag, per event: each writer notes the moment (`time.monotonic`, one clock
for all processes on Linux) right after its commit returned; the sequencer, wrapped in the
benchmark only, notes the moment right after each integration committed and the log size it
reached. An event's position is visible from the first integration whose size exceeds its
position, so its lag is that moment minus its commit. p50/p99/max over every event.

After the writers stop, it waits until everything is integrated, stops the sequencer, and checks
the log: positions gap-free (0..n-1, one per event) and `verify_log` clean.

    .venv/bin/python -m tests.perf.bench_sequencer                    # PostgreSQL, 16 writers
    .venv/bin/python -m tests.perf.bench_sequencer --writers 4 --seconds 10 --sqlite
"""

from __future__ import annotations

import argparse
import bisect
import os
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.main import freeze_startup_heap
from api.settings import Settings
from audit.sequencer import Integration, LogSigner, Sequencer
from common.db import make_engine
from tests.perf.append import append_one, check_log, wait_for_start, writer_setup
from tests.perf.support import (
    CORES,
    ORIGIN,
    CpuWatch,
    Workspace,
    latency_ms,
    machine_cpu,
    require_loopback,
    say,
    spawn_context,
    table,
)

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
APP_INTERVAL_MS = int(Settings.model_fields["audit_sequencer_interval_ms"].default)


@dataclass(frozen=True)
class WriterPlan:
    url: str
    duration_s: float


def writer(plan: WriterPlan, channel: Connection) -> None:
    """One writer process: report ready, wait for the start, commit events until the deadline,
    send back (event id, commit moment) for each."""
    try:
        engine, actor, cases = writer_setup(plan.url)
        start_at = wait_for_start(channel)
        if start_at is None:
            return
        deadline = start_at + plan.duration_s
        committed: list[tuple[str, float]] = []
        errors: dict[str, int] = {}
        while time.monotonic() < deadline:
            event_id = append_one(engine, actor, cases[len(committed) % len(cases)], errors)
            if event_id is not None:
                committed.append((str(event_id), time.monotonic()))
        engine.dispose()
        channel.send({"committed": committed, "errors": errors})
    except BaseException:
        channel.send({"failed": traceback.format_exc()})
    finally:
        channel.close()


class TimedSequencer(Sequencer):
    """The app's sequencer, noting when each integration committed and the size it reached."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.integrations: list[tuple[float, int]] = []
        self.rounds: list[tuple[float, float]] = []
        self.busy_s = 0.0  # wall time inside rounds that integrated something
        self.cpu_s = 0.0  # this thread's CPU time in them
        self.queued_s = 0.0  # and its time runnable but waiting for a CPU

    def run_once(self) -> Integration | None:
        began, (cpu, queued) = time.monotonic(), _schedstat()
        batch = super().run_once()
        if batch is not None:
            done, (cpu_after, queued_after) = time.monotonic(), _schedstat()
            self.integrations.append((done, batch.size))
            self.rounds.append((began, done))
            self.busy_s += done - began
            self.cpu_s += cpu_after - cpu
            self.queued_s += queued_after - queued
        return batch


def _schedstat() -> tuple[float, float]:
    """This thread's seconds on a CPU and runnable waiting for one (Linux schedstat)."""
    running, waiting, _ = Path("/proc/thread-self/schedstat").read_text().split()
    return int(running) / 1e9, int(waiting) / 1e9


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the start
    pending: int
    oldest_s: float  # age of the oldest waiting event, 0 if none waits
    size: int


def sampler(url: str, period: float, channel: Connection) -> None:
    """A process of its own (so that it shares no interpreter lock with the sequencer): from
    the common start, reads the backlog every `period` seconds until told to stop, then sends
    its samples back."""
    samples: list[Sample] = []
    try:
        engine = make_engine(url)
        with engine.connect() as connection:
            channel.send("ready")
            if not channel.poll(180):
                return
            start_at: float = channel.recv()
            time.sleep(max(0.0, start_at - time.monotonic()))
            next_at = time.monotonic()
            while not channel.poll(max(0.0, next_at - time.monotonic())):
                pending, oldest = connection.execute(
                    text("SELECT count(*), min(occurred_at) FROM audit_pending")
                ).one()
                size = connection.execute(
                    text("SELECT coalesce(max(position) + 1, 0) FROM audit_leaf")
                ).scalar_one()
                connection.commit()
                now = time.monotonic()
                age = 0.0
                if oldest is not None:
                    if isinstance(oldest, str):  # SQLite hands the stored text back
                        oldest = datetime.fromisoformat(oldest)
                    if oldest.tzinfo is None:
                        oldest = oldest.replace(tzinfo=UTC)
                    age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
                samples.append(Sample(now - start_at, int(pending), age, int(size)))
                next_at += period
        engine.dispose()
        channel.send(samples)
    except BaseException:
        channel.send({"failed": traceback.format_exc()})
    finally:
        channel.close()


def lags(
    engine: Engine,
    committed: Sequence[tuple[str, float]],
    integrations: Sequence[tuple[float, int]],
) -> list[float]:
    """Seconds from each event's commit to the commit of the integration that placed it."""
    with engine.connect() as connection:
        positions = {
            uuid.UUID(str(event_id)): int(position)  # psycopg gives UUIDs, SQLite hex text
            for event_id, position in connection.execute(
                text("SELECT event_id, position FROM audit_leaf")
            )
        }
    ends = [size for _, size in integrations]
    found: list[float] = []
    for event_id, commit_at in committed:
        position = positions[uuid.UUID(event_id)]
        batch = bisect.bisect_right(ends, position)  # the first integration with size > position
        found.append(integrations[batch][0] - commit_at)
    return found


def run(url: str, backend: str, args: argparse.Namespace, signer: LogSigner) -> dict[str, Any]:
    engine = make_engine(url)
    sequencer = TimedSequencer(engine, signer, interval=args.interval_ms / 1000)
    context = spawn_context()
    channels: list[Connection] = []
    processes = []
    results: list[dict[str, Any]] = []
    sampling: Connection | None = None
    samples: list[Sample] = []
    try:
        freeze_startup_heap()  # as `samsyn run` does before its sequencer starts
        sequencer.start()
        plan = WriterPlan(url=url, duration_s=args.seconds)
        for number in range(args.writers):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=writer, args=(plan, theirs), name=f"writer-{number}", daemon=True
            )
            process.start()
            theirs.close()
            channels.append(mine)
            processes.append(process)
        sampling, theirs = context.Pipe()
        process = context.Process(
            target=sampler, args=(url, args.sample_ms / 1000, theirs), name="sampler", daemon=True
        )
        process.start()
        theirs.close()
        processes.append(process)
        for channel in [*channels, sampling]:
            if not channel.poll(180) or channel.recv() != "ready":
                raise RuntimeError("a writer or the sampler did not get ready within 180 s")
        start_at = time.monotonic() + 0.5
        for channel in [*channels, sampling]:
            channel.send(start_at)
        time.sleep(max(0.0, start_at - time.monotonic()))
        busy_before, _ = machine_cpu()
        watch = CpuWatch()
        for channel in channels:
            if not channel.poll(args.seconds + 180):
                raise TimeoutError("a writer did not report back")
            results.append(channel.recv())
        failures = [r["failed"] for r in results if "failed" in r]
        if failures:
            raise RuntimeError(f"a writer failed:\n{failures[0]}")
        busy_after, _ = machine_cpu()
        cpu = watch.stop()
        wall = time.monotonic() - start_at
        committed = [item for r in results for item in r["committed"]]
        give_up = time.monotonic() + 300
        while time.monotonic() < give_up:
            if sequencer.integrations and sequencer.integrations[-1][1] >= len(committed):
                break
            time.sleep(0.05)
        else:
            raise TimeoutError("the sequencer did not catch up within 300 s")
        time.sleep(3 * args.sample_ms / 1000)  # a few samples of the empty queue
    finally:
        if sampling is not None:
            sampling.send("stop")
            if sampling.poll(30):
                samples = sampling.recv()
            sampling.close()
        sequencer.stop()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        for channel in channels:
            channel.close()

    try:
        waited = lags(engine, committed, sequencer.integrations)
        checked = check_log(engine, signer)
    finally:
        engine.dispose()
    errors: dict[str, int] = {}
    for r in results:
        for kind, count in r["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    batches = [
        b - a
        for (_, a), (_, b) in zip(
            [(0.0, 0), *sequencer.integrations], sequencer.integrations, strict=False
        )
    ]
    if not isinstance(samples, list):
        raise RuntimeError(f"the sampler failed:\n{samples}")
    return {
        "backend": backend,
        "writers": args.writers,
        "events": len(committed),
        "events_per_s": round(len(committed) / args.seconds, 1),
        "errors": errors,
        "lag": latency_ms(waited),
        "over_1s": sum(1 for lag in waited if lag > 1.0),
        "integrations": len(sequencer.integrations),
        "batch_mean": round(sum(batches) / len(batches), 1) if batches else 0,
        "batch_max": max(batches, default=0),
        "round_ms": round(1000 * sequencer.busy_s / max(1, len(batches)), 1),
        "round_max_ms": round(1000 * max((b - a for a, b in sequencer.rounds), default=0.0)),
        "cpu_us_per_event": round(1e6 * sequencer.cpu_s / max(1, sum(batches)), 1),
        "round_split": [
            round(100 * part / max(sequencer.busy_s, 1e-9))
            for part in (sequencer.cpu_s, sequencer.queued_s)
        ],
        "samples": samples,
        "cpu_busy_cores": round((busy_after - busy_before) / wall, 2),
        "cpu": cpu,
        **checked,
    }


def report(result: dict[str, Any], every_s: float) -> str:
    lag = result["lag"]
    samples: list[Sample] = result["samples"]
    head = table(
        f"Sequencer lag, {result['backend']}, {result['writers']} writers, "
        f"interval {APP_INTERVAL_MS if result.get('interval') is None else result['interval']} ms",
        [
            "events",
            "ev/s",
            "lag p50 ms",
            "p99 ms",
            "max ms",
            "> 1 s",
            "batches",
            "mean",
            "max",
            "round ms",
            "max",
            "cpu us/ev",
            "on cpu %",
            "cpu-queued %",
            "gap-free",
            "verify",
            "cpu all",
            "cpu other",
        ],
        [
            [
                result["events"],
                result["events_per_s"],
                lag["p50_ms"],
                lag["p99_ms"],
                lag["max_ms"],
                result["over_1s"],
                result["integrations"],
                result["batch_mean"],
                result["batch_max"],
                result["round_ms"],
                result["round_max_ms"],
                result["cpu_us_per_event"],
                result["round_split"][0],
                result["round_split"][1],
                "yes" if result["gap_free"] and result["all_integrated"] else "NO",
                "ok" if result["verify_ok"] else f"FAILED {result['verify_problems']}",
                result["cpu_busy_cores"],
                result["cpu"]["other"],
            ]
        ],
    )
    # The backlog over time: per window of `every_s`, the samples taken in it, the most
    # events seen waiting and the oldest waiting age seen, and the log's size at its end.
    windows: dict[int, list[Sample]] = {}
    for sample in samples:
        windows.setdefault(int(sample.at // every_s), []).append(sample)
    rows: list[list[object]] = []
    for number in range(max(windows, default=-1) + 1):
        taken = windows.get(number, [])
        rows.append(
            [
                f"{number * every_s:5.1f}-{(number + 1) * every_s:5.1f}",
                len(taken),
                max((s.pending for s in taken), default="-"),
                round(max(s.oldest_s for s in taken) * 1000) if taken else "-",
                taken[-1].size if taken else "-",
            ]
        )
    overall = (
        f"backlog over {len(samples)} samples: max {max((s.pending for s in samples), default=0)} "
        f"events waiting, oldest waiting event at most "
        f"{round(max((s.oldest_s for s in samples), default=0.0) * 1000)} ms old"
    )
    backlog = table(
        f"Backlog by {every_s:g} s window (sampled every {result['sample_ms']} ms): samples "
        "taken, most events waiting, oldest waiting age, log size at the window's end",
        ["seconds", "samples", "waiting", "oldest ms", "log size"],
        rows,
    )
    return "\n\n".join([head, overall, backlog])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the writers write")
    parser.add_argument("--sample-ms", type=int, default=100)
    parser.add_argument("--interval-ms", type=int, default=APP_INTERVAL_MS, help="the sequencer's")
    parser.add_argument("--window", type=float, default=1.0, help="rows of the backlog table")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SAMSYN_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="admin URL on 127.0.0.1; a database of its own is made and dropped",
    )
    parser.add_argument("--sqlite", action="store_true", help="run on SQLite instead")
    args = parser.parse_args(argv)
    if not args.sqlite:
        require_loopback(args.postgres)
    workspace = Workspace(None if args.sqlite else args.postgres)
    try:
        signer = LogSigner(origin=ORIGIN, key=workspace.keys.audit_signing)
        if args.sqlite:
            url, backend = workspace.sqlite_url("sequencer"), "SQLite"
        else:
            url = workspace.postgres_url("sequencer")
            backend = f"PostgreSQL {workspace.server_version()}"
        say(f"{args.writers} writers for {args.seconds:g} s on {backend} ({CORES} cores)")
        result = run(url, backend, args, signer)
        result["interval"] = args.interval_ms
        result["sample_ms"] = args.sample_ms
        print(report(result, args.window))  # noqa: T201
        ok = result["gap_free"] and result["all_integrated"] and result["verify_ok"]
        return 0 if ok else 1
    finally:
        workspace.close()


if __name__ == "__main__":
    raise SystemExit(main())
