"""The server's resident size over many audited case reads (issue 16, item 5). Not a test: it
prints figures.

Starts `samsyn run --demo` (SQLite, one worker, the sequencer running) in a temp dir, logs in
as the demo social worker, and reads the demo's cases with `wrk` (16 connections) in windows
until `--reads` reads are done. After each window it prints the reads so far and the server
process's resident size (VmRSS) and its peak (VmHWM), from /proc. Needs `wrk`.

    .venv/bin/python -m tests.perf.bench_memory --reads 100000
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.perf.support import say, table

PORT = 18_731
USER, PASSWORD = "handlaggare", "demo-losenord-2026"

# Each request reads the next case, with the bearer token; wrk's JSON summary at the end.
_LUA = """
local ids, n = {}, 0
for id in string.gmatch(os.getenv("CASE_IDS"), "[^,]+") do ids[#ids + 1] = id end
request = function()
  n = n % #ids + 1
  local headers = {Authorization = "Bearer " .. os.getenv("TOKEN")}
  return wrk.format("GET", "/api/v1/cases/" .. ids[n], headers)
end
done = function(summary, latency, requests)
  io.write(string.format("READS %d ERRORS %d\\n", summary.requests,
    summary.errors.status + summary.errors.timeout))
end
"""


def _kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no {field} for process {pid}")
    return int(found.group(1))


def _wait(client: httpx.Client, seconds: float = 600) -> None:
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        try:
            client.get("/healthz")
            return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise RuntimeError("the server did not start")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reads", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=30, help="seconds per wrk window")
    args = parser.parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="samsyn-memory-"))
    script = work / "read.lua"
    script.write_text(_LUA)
    env = dict(
        os.environ,
        SAMSYN_DATA_DIR=str(work / "data"),
        SAMSYN_PORT=str(PORT),
        SAMSYN_LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(
        [".venv/bin/samsyn", "run", "--demo"],
        env=env,
        stdout=(work / "server.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{PORT}"
    rows: list[list[object]] = []
    try:
        with httpx.Client(base_url=base, timeout=30.0) as client:
            _wait(client)
            login = {"username": USER, "password": PASSWORD}
            token = client.post("/api/v1/auth/token", data=login).json()["access_token"]
            listing = client.get(
                "/api/v1/cases",
                params={"page_size": 50},
                headers={"Authorization": f"Bearer {token}"},
            )
            ids = [case["id"] for case in listing.json()["items"]]
        wrk_env = dict(os.environ, CASE_IDS=",".join(ids), TOKEN=token)
        done = errors = 0
        began = time.monotonic()
        rows.append([0, 0, round(_kib(server.pid, "VmRSS") / 1024), ""])
        say(f"server up, {len(ids)} cases; RSS {rows[0][2]} MiB")
        while done < args.reads:
            out = subprocess.run(  # noqa: S603 - wrk, found on the path above
                [wrk, "-t1", "-c16", f"-d{args.window}s", "-s", str(script), base],
                env=wrk_env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            found = re.search(r"READS (\d+) ERRORS (\d+)", out)
            if found is None:
                raise RuntimeError(out)
            done += int(found.group(1))
            errors += int(found.group(2))
            rss = round(_kib(server.pid, "VmRSS") / 1024)
            peak = round(_kib(server.pid, "VmHWM") / 1024)
            rows.append([done, round(time.monotonic() - began), rss, peak])
            say(f"  {done:,} reads, RSS {rss} MiB (peak {peak}), {errors} errors")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(  # noqa: T201
        table(
            f"Server resident size over audited case reads (SQLite, one worker; {errors} errors)",
            ["reads", "seconds", "RSS MiB", "peak MiB"],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
