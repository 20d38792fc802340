"""Plumbing shared by the benchmarks: a workspace (temp dir, keys, databases), child processes,
a uvicorn server, CPU accounting from /proc, percentiles and tables.

Everything the benchmarks create is created here and removed by `Workspace.close` and
`Server.stop`, which the caller runs in a ``finally``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import httpx
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Engine

from common.crypto import install_field_keyring
from common.keys import KeySet, load_keys
from deploy import migrate

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "samsyn.bench/audit"  # the log origin the benchmarks sign and verify under
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
CORES = os.cpu_count() or 1

T = TypeVar("T")


# --- numbers and tables --------------------------------------------------------------------


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0.0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_ms(samples: Iterable[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds of latencies given in seconds."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p95_ms": round(percentile(ordered, 0.95) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 2),
    }


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table; numbers right-aligned."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text_rows)]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) and bool(rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [title, line(list(headers)), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in text_rows)
    return "\n".join(out)


def say(text: str = "") -> None:
    """Progress goes to stderr; the report alone goes to stdout."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# --- CPU accounting (Linux /proc) ----------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores together."""
    fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()[1:]
    values = [int(v) for v in fields[:8]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / _TICKS, sum(values) / _TICKS


@dataclass(frozen=True)
class ProcessCpu:
    ppid: int
    name: str
    cpu_s: float
    foreign_backend: bool = False  # a PostgreSQL client backend on a database not ours


def _foreign_backend(pid: str) -> bool:
    """Client backends are titled ``postgres: 15/main: user database host(port) state``;
    background processes (checkpointer, walwriter, autovacuum …) have no client part."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
    except OSError:
        return False
    is_client = "(" in title or "[local]" in title
    return is_client and " bench_" not in title


def snapshot() -> dict[int, ProcessCpu]:
    """Every process now: parent, name and CPU seconds so far (user + system)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        head, tail = stat.rsplit(")", 1)
        fields = tail.split()
        name = head.split("(", 1)[1]
        found[int(entry.name)] = ProcessCpu(
            ppid=int(fields[1]),
            name=name,
            cpu_s=(int(fields[11]) + int(fields[12])) / _TICKS,
            foreign_backend=name == "postgres" and _foreign_backend(entry.name),
        )
    return found


def process_tree(root: int, processes: dict[int, ProcessCpu] | None = None) -> list[int]:
    """`root` and all its descendants that exist now."""
    children: dict[int, list[int]] = {}
    for pid, process in (processes if processes is not None else snapshot()).items():
        children.setdefault(process.ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_split(
    before: dict[int, ProcessCpu], after: dict[int, ProcessCpu], root: int, wall_s: float
) -> dict[str, float]:
    """Busy cores between two snapshots: the benchmark's own process tree; PostgreSQL (the
    backends on our `bench_…` databases and the shared background processes); and "other":
    everything else, including backends on other databases, that is, load we did not make.
    Processes that ended in between are missed, so "other" is a lower bound."""
    ours = set(process_tree(root, after)) | set(process_tree(root, before))
    split = {"ours": 0.0, "postgres": 0.0, "other": 0.0}
    for pid, process in after.items():
        used = process.cpu_s - (before[pid].cpu_s if pid in before else 0.0)
        if pid in ours:
            kind = "ours"
        elif process.name == "postgres" and not process.foreign_backend:
            kind = "postgres"
        else:
            kind = "other"
        split[kind] += max(0.0, used)
    return {kind: round(used / wall_s, 2) for kind, used in split.items()}


class CpuWatch:
    """Busy cores of ours / postgres / other over a stretch of time."""

    def __init__(self, root: int | None = None) -> None:
        self.root = root if root is not None else os.getpid()
        self.started = time.monotonic()
        self.before = snapshot()

    def stop(self) -> dict[str, float]:
        wall = max(time.monotonic() - self.started, 1e-6)
        return cpu_split(self.before, snapshot(), self.root, wall)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0.0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def own_cpu() -> float:
    """User + system CPU seconds of this process, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    """This process's peak resident set (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speed_probe(rounds: int = 15, pause_s: float = 0.3) -> dict[str, float]:
    """Milliseconds a fixed pure-Python loop takes, `rounds` times: on a shared virtual machine
    the CPU's own speed varies, and this shows by how much (max / min) during the run."""
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        total = 0
        for number in range(300_000):
            total += number * number % 7
        samples.append((time.perf_counter() - began) * 1000)
        time.sleep(pause_s)
    samples.sort()
    return {
        "min_ms": round(samples[0], 1),
        "median_ms": round(percentile(samples, 0.5), 1),
        "max_ms": round(samples[-1], 1),
    }


def wait_for_quiet(max_wait_s: float, threshold: float = 0.25) -> dict[str, float]:
    """Wait (at most `max_wait_s`) until processes that are not ours use < `threshold` cores
    over a 2 s sample. Returns the seconds waited and the last sample's foreign load."""
    started = time.monotonic()
    while True:
        watch = CpuWatch()
        time.sleep(2.0)
        split = watch.stop()
        foreign = split["other"] + split["postgres"]  # nothing of ours runs now
        waited = time.monotonic() - started
        if foreign < threshold or waited >= max_wait_s:
            return {"waited_s": round(waited, 1), "foreign_cores": round(foreign, 2)}


# --- child processes -----------------------------------------------------------------------


def spawn_context() -> multiprocessing.context.SpawnContext:
    return multiprocessing.get_context("spawn")


def _trampoline(
    connection: multiprocessing.connection.Connection,
    target: Callable[..., object],
    args: tuple[object, ...],
) -> None:
    try:
        result = target(*args)
    except BaseException:
        connection.send((False, traceback.format_exc()))
    else:
        connection.send((True, result))
    finally:
        connection.close()


def run_isolated(target: Callable[..., T], *args: object, timeout: float) -> T:
    """Run `target(*args)` in a fresh spawned process and return its result.

    A fresh process gives a phase its own peak memory (ru_maxrss) and its own interpreter.
    The process is killed if it has not answered within `timeout` seconds.
    """
    context = spawn_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_trampoline, args=(sender, target, args), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise TimeoutError(f"{target.__name__} did not finish within {timeout:.0f} s")
        ok, value = receiver.recv()
    finally:
        receiver.close()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    if not ok:
        raise RuntimeError(f"{target.__name__} failed in its process:\n{value}")
    return value  # type: ignore[no-any-return]


# --- the workspace: temp dir, keys, databases ----------------------------------------------


def require_loopback(url: str) -> None:
    host = make_url(url).host
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"refusing {host!r}: the benchmarks talk to 127.0.0.1 only")


class Workspace:
    """A temp dir with key files, a migrated SQLite template and PostgreSQL databases.

    Keys are generated once with `load_keys(..., generate=True)` and reused by every database
    and every server. `close()` drops every PostgreSQL database made here and removes the dir.
    """

    def __init__(self, postgres_admin_url: str | None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="samsyn-bench-"))
        self.key_dir = self.dir / "keys"
        self.keys: KeySet = load_keys(self.key_dir, {}, generate=True)
        install_field_keyring(self.keys.field)
        self.postgres_admin_url = postgres_admin_url
        self._tag = f"{os.getpid()}_{secrets.token_hex(3)}"
        self._sqlite_template: Path | None = None
        self._admin: Engine | None = None
        self._pg_template: str | None = None
        self._pg_databases: list[str] = []
        self._serial = 0

    # SQLite ------------------------------------------------------------------------------

    def sqlite_url(self, name: str) -> str:
        """A migrated SQLite file of its own."""
        if self._sqlite_template is None:
            self._sqlite_template = self.dir / "template.db"
            migrate.upgrade(f"sqlite:///{self._sqlite_template}")
        path = self.dir / f"{name}.db"
        shutil.copyfile(self._sqlite_template, path)
        return f"sqlite:///{path}"

    def sqlite_copy(self, source_url: str, name: str) -> str:
        """A consistent copy of another SQLite database (the backup API, WAL included)."""
        path = self.dir / f"{name}.db"
        source = sqlite3.connect(make_url(source_url).database or "")
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return f"sqlite:///{path}"

    # PostgreSQL --------------------------------------------------------------------------

    @property
    def has_postgres(self) -> bool:
        return self.postgres_admin_url is not None

    def _admin_engine(self) -> Engine:
        if self.postgres_admin_url is None:
            raise RuntimeError("no PostgreSQL configured")
        if self._admin is None:
            self._admin = create_engine(
                self.postgres_admin_url, isolation_level="AUTOCOMMIT", hide_parameters=True
            )
        return self._admin

    def _url_for(self, database: str) -> str:
        assert self.postgres_admin_url is not None
        url = make_url(self.postgres_admin_url).set(database=database)
        return url.render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> None:
        suffix = f' TEMPLATE "{template}"' if template else ""
        with self._admin_engine().connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{suffix}')

    def postgres_url(self, name: str) -> str:
        """A migrated PostgreSQL database of its own, `bench_…`, dropped by close()."""
        if self._pg_template is None:
            template = f"bench_{self._tag}_template"
            self._create(template)
            self._pg_template = template
            migrate.upgrade(self._url_for(template))
        self._serial += 1
        database = f"bench_{self._tag}_{self._serial}_{name}"[:63]
        self._create(database, template=self._pg_template)
        self._pg_databases.append(database)
        return self._url_for(database)

    def postgres_copy(self, source_url: str, name: str) -> str:
        """A copy of another benchmark database (nobody may be connected to the source)."""
        source = make_url(source_url).database
        self._serial += 1
        database = f"bench_{self._tag}_{self._serial}_{name}"[:63]
        self._create(database, template=source)
        self._pg_databases.append(database)
        return self._url_for(database)

    def server_version(self) -> str | None:
        if not self.has_postgres:
            return None
        with self._admin_engine().connect() as connection:
            return str(connection.exec_driver_sql("SHOW server_version").scalar())

    def close(self) -> None:
        errors: list[str] = []
        if self._admin is not None:
            names = [*self._pg_databases]
            if self._pg_template is not None:
                names.append(self._pg_template)
            for name in names:
                try:
                    with self._admin.connect() as connection:
                        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except Exception as exc:  # keep dropping the others
                    errors.append(f"{name}: {type(exc).__name__}: {exc}")
            self._admin.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)
        for error in errors:
            say(f"could not drop database {error}")


# --- a uvicorn server as a subprocess ------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """`uvicorn --factory tests.perf.apps:<factory>` on 127.0.0.1, in its own process group."""

    factory: str
    workers: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    _log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"tests.perf.apps:{self.factory}",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches the workers
        )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        """Healthy when /healthz answered and, with several workers, all of them are up."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=5.0) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited early; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/healthz").status_code == 200 and (
                        self.workers == 1 or len(self.pids()) >= self.workers + 1
                    ):
                        return
                time.sleep(0.2)
        raise TimeoutError(f"server not ready within {timeout:.0f} s; see {self.log_path}")

    def pids(self) -> list[int]:
        """The uvicorn process and its workers (and the spawn helper processes, if any)."""
        if self.process is None or self.process.poll() is not None:
            return []
        return process_tree(self.process.pid)

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    say(f"server {self.process.pid} did not stop; killing its process group")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)  # the group we created, leftovers
            self.process.wait(timeout=10)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


def server_env(database_url: str, key_dir: Path, data_dir: Path) -> dict[str, str]:
    """The environment of a benchmark server: no inherited SAMSYN_ variable, ours only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMSYN_")}
    env.update(
        {
            "SAMSYN_PERF_BENCH": "1",
            "SAMSYN_ENV": "development",
            "SAMSYN_DATABASE_URL": database_url,
            "SAMSYN_KEY_DIR": str(key_dir),
            "SAMSYN_DATA_DIR": str(data_dir),
            "SAMSYN_LOG_LEVEL": "WARNING",
            "SAMSYN_AUDIT_ORIGIN": ORIGIN,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env
