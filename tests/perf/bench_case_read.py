"""The audited case read against the bare stack, side by side in one run (issue 16, item 1).

Starts the bare FastAPI + SQLModel one-row read (`tests/perf/bare_app.py`) and Samsyn's demo
(`samsyn run --demo`), one uvicorn worker each, on SQLite or, with `--postgres`, each on a
PostgreSQL database of its own; then alternates wrk windows (bare, Samsyn, bare, Samsyn, …)
at 16 connections: the bare side reads a random row by key, Samsyn's the demo social
worker's cases by id with a bearer token. Prints each window and the ratios Samsyn / bare of
throughput and p99 latency. Targets: throughput at least 0.3x, p99 at most 2x.

It is not a test: it asserts nothing about time. Needs `wrk`. Run from the repository root:

    .venv/bin/python -m tests.perf.bench_case_read [--reps 3] [--seconds 10] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.perf.support import Workspace, require_loopback

BARE_PORT, SAMSYN_PORT = 18611, 18612

# One wrk script for both sides: a random id from IDS under PREFIX, with TOKEN if set; the
# summary as one JSON line.
WRK_SCRIPT = """
local ids = {}
for id in string.gmatch(os.getenv("IDS") or "", "[^,]+") do table.insert(ids, id) end
local token = os.getenv("TOKEN") or ""
local prefix = os.getenv("PREFIX") or "/"
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
function init(args) math.randomseed(os.time() * 1000 + (tid or 0)) end
function request()
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", prefix .. ids[math.random(1, #ids)], headers)
end
function done(summary, latency, requests)
  io.write(string.format('JSON {"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,' ..
    '"p99_us":%d}\\n', summary.requests, summary.duration, summary.errors.status +
    summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def emit(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201


def wait_for(url: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our own http URL
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"no answer from {url}")


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command,
        env=os.environ | env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wrk(url: str, script: Path, seconds: int, conns: int, env: dict[str, str]) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    out = subprocess.run(  # noqa: S603 - wrk with our own arguments
        [*command, url], capture_output=True, text=True, env=os.environ | env, check=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("JSON "))
    result: dict[str, Any] = json.loads(line[5:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def samsyn_ids_and_token() -> tuple[list[str], str]:
    base = f"http://127.0.0.1:{SAMSYN_PORT}/api/v1"
    body = urllib.parse.urlencode({"username": "handlaggare", "password": "demo-losenord-2026"})
    with urllib.request.urlopen(f"{base}/auth/token", body.encode()) as answer:  # noqa: S310
        token = str(json.load(answer)["access_token"])
    request = urllib.request.Request(  # noqa: S310 - our own http URL
        f"{base}/cases?page_size=50", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        ids = [str(item["id"]) for item in json.load(answer)["items"]]
    return ids, token


def run(workspace: Workspace, args: argparse.Namespace) -> None:
    python = sys.executable
    bench = {"SAMSYN_PERF_BENCH": "1"}
    if workspace.has_postgres:
        bare_db, samsyn_db = workspace.postgres_url("bare"), workspace.postgres_url("samsyn")
    else:
        bare_db, samsyn_db = f"sqlite:///{workspace.dir / 'bare.db'}", ""
    bare_env = bench | {"BARE_DB": bare_db}
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [python, "-m", "tests.perf.bare_app", "seed"], env=os.environ | bare_env, check=True
    )
    samsyn_env = {
        "SAMSYN_DATA_DIR": str(workspace.dir / "samsyn"),
        "SAMSYN_PORT": str(SAMSYN_PORT),
        "SAMSYN_LOG_LEVEL": "WARNING",
    } | ({"SAMSYN_DATABASE_URL": samsyn_db} if samsyn_db else {})
    servers = [
        start(
            [
                python,
                "-m",
                "uvicorn",
                "tests.perf.bare_app:app",
                "--port",
                str(BARE_PORT),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            bare_env,
            workspace.dir / "bare.log",
        ),
        start(
            [str(Path(python).parent / "samsyn"), "run", "--demo"],
            samsyn_env,
            workspace.dir / "samsyn.log",
        ),
    ]
    try:
        wait_for(f"http://127.0.0.1:{BARE_PORT}/row/1")
        wait_for(f"http://127.0.0.1:{SAMSYN_PORT}/healthz")
        ids, token = samsyn_ids_and_token()
        script = workspace.dir / "read.lua"
        script.write_text(WRK_SCRIPT)
        sides = {
            "bare row read": (
                f"http://127.0.0.1:{BARE_PORT}/",
                {"IDS": ",".join(str(n) for n in range(1, 1001)), "PREFIX": "/row/"},
            ),
            "samsyn case read": (
                f"http://127.0.0.1:{SAMSYN_PORT}/",
                {"IDS": ",".join(ids), "PREFIX": "/api/v1/cases/", "TOKEN": token},
            ),
        }
        for url, env in sides.values():
            wrk(url, script, 3, args.conns, env)  # warm-up
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
        for rep in range(1, args.reps + 1):
            for name, (url, env) in sides.items():
                r = wrk(url, script, args.seconds, args.conns, env)
                results[name].append(r)
                emit(
                    f"rep {rep} {name:17s} {r['rps']:8.1f} req/s  p50 {r['p50_us'] / 1000:6.1f} ms"
                    f"  p99 {r['p99_us'] / 1000:6.1f} ms  errors {r['errors']}"
                )
        pairs = list(zip(results["bare row read"], results["samsyn case read"], strict=True))
        throughput = [s["rps"] / b["rps"] for b, s in pairs]
        p99 = [s["p99_us"] / b["p99_us"] for b, s in pairs]
        emit(f"throughput samsyn/bare: {' '.join(f'{x:.3f}' for x in throughput)} (target >= 0.3)")
        emit(f"p99 samsyn/bare:        {' '.join(f'{x:.2f}' for x in p99)} (target <= 2)")
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--conns", type=int, default=16)
    parser.add_argument("--postgres", metavar="URL", help="an admin URL of a local PostgreSQL")
    args = parser.parse_args()
    if args.postgres:
        require_loopback(args.postgres)
    workspace = Workspace(args.postgres)
    version = workspace.server_version()
    emit(f"database: {'PostgreSQL ' + version if version else 'SQLite'}")
    try:
        run(workspace, args)
    finally:
        workspace.close()


if __name__ == "__main__":
    main()
