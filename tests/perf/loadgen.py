"""A closed-loop HTTP load generator: N client threads, each with its own keep-alive httpx
client and bearer token, sending GETs back to back. Meant to run in its own process
(`support.run_isolated`), so the server's processes and this one share only the CPU.

Bounded twice: by time (warm-up + measured window) and by a total request count. Requests that
*start* inside the measured window are the sample: their latencies, and their number divided
by the window's length as the throughput. CPU use over the window is measured from /proc for
the whole machine, for this process and for the server processes named in the plan.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.perf.support import (
    ProcessCpu,
    cpu_split,
    machine_cpu,
    own_cpu,
    process_cpu,
    snapshot,
)


@dataclass(frozen=True)
class ClientSpec:
    username: str
    password: str
    paths: tuple[str, ...]  # requested in turn, round robin


@dataclass(frozen=True)
class LoadPlan:
    base_url: str
    clients: tuple[ClientSpec, ...]
    warmup_s: float
    duration_s: float
    max_requests: int
    watch_pids: tuple[int, ...] = ()
    root_pid: int = 0  # the benchmark's main process: its tree is "ours" in the CPU split
    timeout_s: float = 30.0


def _cpu_snapshot(
    pids: tuple[int, ...],
) -> tuple[float, float, float, list[float], dict[int, ProcessCpu]]:
    busy, _ = machine_cpu()
    processes = snapshot()
    return time.perf_counter(), busy, own_cpu(), [process_cpu(pid) for pid in pids], processes


def _token(base_url: str, spec: ClientSpec, timeout: float) -> str:
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        response = client.post(
            "/api/v1/auth/token", data={"username": spec.username, "password": spec.password}
        )
        if response.status_code != 200:
            raise RuntimeError(f"login of {spec.username} failed: {response.status_code}")
        token: str = response.json()["access_token"]
        return token


def generate_load(plan: LoadPlan) -> dict[str, Any]:
    tokens = [_token(plan.base_url, spec, plan.timeout_s) for spec in plan.clients]
    budget = itertools.count()  # next() on it is atomic under the GIL
    samples: list[list[tuple[float, float, int]]] = [[] for _ in plan.clients]
    barrier = threading.Barrier(len(plan.clients) + 1)
    times: dict[str, float] = {}

    def client_loop(number: int) -> None:
        spec = plan.clients[number]
        mine = samples[number]
        headers = {"Authorization": f"Bearer {tokens[number]}"}
        paths = itertools.cycle(spec.paths)
        with httpx.Client(base_url=plan.base_url, headers=headers, timeout=plan.timeout_s) as c:
            barrier.wait(timeout=60)
            stop = times["end"]
            while next(budget) < plan.max_requests:
                started = time.perf_counter()
                if started >= stop:
                    break
                try:
                    status = c.get(next(paths)).status_code
                except httpx.HTTPError:
                    status = -1
                mine.append((started, time.perf_counter() - started, status))

    threads = [
        threading.Thread(target=client_loop, args=(n,), name=f"client-{n}", daemon=True)
        for n in range(len(plan.clients))
    ]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    times["begin"] = now + plan.warmup_s
    times["end"] = times["begin"] + plan.duration_s
    barrier.wait(timeout=60)

    time.sleep(max(0.0, times["begin"] - time.perf_counter()))
    before = _cpu_snapshot(plan.watch_pids)
    time.sleep(max(0.0, times["end"] - time.perf_counter()))
    after = _cpu_snapshot(plan.watch_pids)
    for thread in threads:
        thread.join(timeout=plan.timeout_s + 30)

    window = [s for mine in samples for s in mine if times["begin"] <= s[0] < times["end"]]
    ok = [latency for _, latency, status in window if status == 200]
    statuses: dict[str, int] = {}
    for _, _, status in window:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    wall = after[0] - before[0]
    return {
        "window_s": round(plan.duration_s, 2),
        "requests": len(window),
        "ok": len(ok),
        "errors": len(window) - len(ok),
        "statuses": statuses,
        "budget_exhausted": next(budget) > plan.max_requests,
        "latencies_s": ok,
        "cpu_machine_cores": round((after[1] - before[1]) / wall, 2),
        "cpu_loadgen_cores": round((after[2] - before[2]) / wall, 2),
        "cpu_split": cpu_split(before[4], after[4], plan.root_pid or os.getppid(), wall),
        "cpu_server_cores": [
            round((a - b) / wall, 2) for a, b in zip(after[3], before[3], strict=True)
        ],
    }
