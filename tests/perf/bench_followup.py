"""The agreement follow-up report on a synthetic city (issue 14, "Performance"). Not a test: it
prints figures.

Builds a city of `--cases` cases (tests/perf/city.py) on a fresh migrated database, computes
three earlier releases, then times one full follow-up report of the whole agreement: every
indicator, every breakdown (programme, area, school, gender, age band), k=5, tertial
2026-T2, audited against the three. The earlier releases overlap the report, as a real
agreement's do: the previous tertial of the whole agreement, and the same tertial of two
activities ("SSPF på" the first school, "SIG i" the first area), whose cells are sums of the
same microcells as the report's. Phases: load (time inside the repository's reads: the database,
the driver, the columns decrypted as read), count (the rest of the service: microcells,
cells, tables, and the home areas opened as people are placed), protect
(suppression and the LP audit, `disclosure.protect`), and total. Each report runs in a fresh
process: a first (cold) run, a second (warm) run, a plain run without the phase clocks (their
two clock reads a fact row cost ~0.15 s at 50,000 cases, so this is the report's own time),
then one under tracemalloc for the memory per phase (tracemalloc slows Python down, so its
times are not reported).

    .venv/bin/python -m tests.perf.bench_followup --cases 5000
    .venv/bin/python -m tests.perf.bench_followup --cases 50000 --postgres URL
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.sql.base import Executable

from common.crypto import install_field_keyring
from common.db import make_engine, new_session, refresh_planner_statistics
from common.keys import load_keys
from domain.statistics import service
from domain.statistics.disclosure import Protected, Release
from domain.statistics.periods import PeriodKind, parse, periods
from domain.statistics.repository import StatisticsFacts
from domain.statistics.spec import Breakdown, Coverage, Grid, StatisticsRequest
from tests.perf import city
from tests.perf.support import Workspace, peak_rss_mib, require_loopback, run_isolated, say, table

AGREEMENT = uuid.UUID("5a3d0c1e-7b1f-4c55-9d0e-2f4f1b3a9e01")
TARGET = "2026-T2"
# (tertial, programmes, first school only, first area only) of each earlier release
EARLIER = (
    ("2026-T1", (), False, False),
    ("2026-T2", ("SSPF",), True, False),
    ("2026-T2", ("SIG",), False, True),
)
AGREEMENT_PERIODS = tuple(periods(PeriodKind.TERTIAL, date(2025, 1, 1), date(2027, 1, 1)))
K = 5
MIB = 1024 * 1024


WHOLE = Coverage()  # the whole agreement

BREAKDOWNS: list[Breakdown] = list(Breakdown)  # --breakdowns narrows it (in each process)


def _request(
    code: str,
    schools: Sequence[tuple[str, str]],
    earlier: Sequence[Release],
    coverage: Coverage = WHOLE,
) -> Any:
    return StatisticsRequest(
        agreement_id=AGREEMENT,
        coverage=coverage,
        period=parse(code),
        agreement_periods=AGREEMENT_PERIODS,
        grid=Grid(
            breakdowns=tuple(BREAKDOWNS),
            areas=city.AREAS,
            schools=tuple((uuid.UUID(school_id), name) for school_id, name in schools),
        ),
        k=K,
        earlier=tuple(earlier),
        proof_budget_s=None,  # the benchmark measures the proof, however long it takes
    )


# --- phase clocks, by wrapping the service's reads and its calls of `protect` ---------------


@dataclass
class _Clock:
    load_s: float = 0.0
    protect_s: float = 0.0
    protect_calls: int = 0
    rows: int = 0
    peak_before_protect: int = 0  # tracemalloc, bytes
    rss_before_protect: float = 0.0


_clock = _Clock()


class _TimedFacts(StatisticsFacts):
    """The service's repository, counting the time spent inside its reads."""

    def _stream(self, statement: Executable, because: str) -> Iterator[Any]:
        rows = super()._stream(statement, because)
        while True:
            began = time.perf_counter()
            try:
                row = next(rows)
            except StopIteration:
                _clock.load_s += time.perf_counter() - began
                return
            _clock.load_s += time.perf_counter() - began
            _clock.rows += 1
            yield row


def _timed_protect(original: Callable[..., Protected]) -> Callable[..., Protected]:
    def wrapper(*args: Any, **kwargs: Any) -> Protected:
        if _clock.protect_calls == 0:  # load and count are over: close their memory figures
            _clock.rss_before_protect = peak_rss_mib()
            if tracemalloc.is_tracing():
                _clock.peak_before_protect = tracemalloc.get_traced_memory()[1]
                tracemalloc.reset_peak()
        _clock.protect_calls += 1
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            _clock.protect_s += time.perf_counter() - began

    return wrapper


def _install_clocks() -> Callable[[], None]:
    """Wrap the service's reads and `protect`; returns what takes the wrappers off again."""
    facts: type[StatisticsFacts] = getattr(service, "StatisticsFacts")  # noqa: B009
    original: Callable[..., Protected] = getattr(service, "protect")  # noqa: B009
    setattr(service, "StatisticsFacts", _TimedFacts)  # noqa: B010 - wrapped for the measurement
    setattr(service, "protect", _timed_protect(original))  # noqa: B010

    def uninstall() -> None:
        setattr(service, "StatisticsFacts", facts)  # noqa: B010
        setattr(service, "protect", original)  # noqa: B010

    return uninstall


# --- the phases, each in a fresh process ----------------------------------------------------


def build_phase(url: str, key_dir: str, cases: int) -> dict[str, Any]:
    keys = load_keys(Path(key_dir), {}, generate=False)
    install_field_keyring(keys.field)
    built = city.build(url, cases)
    _gather_planner_statistics(url)
    built["peak_rss_mib"] = round(peak_rss_mib())
    return built


def _gather_planner_statistics(url: str) -> None:
    """What a running database has and a bulk load's does not yet: the planner's statistics
    (and on PostgreSQL the visibility map). `samsyn run` gathers SQLite's at start and every
    few hours (`common.db.refresh_planner_statistics`); PostgreSQL's autovacuum does both
    within a minute or so of a bulk load. Without them the report ran ~0.2 s slower on
    PostgreSQL, measuring a state no server stays in."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            refresh_planner_statistics(engine)
        else:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        engine.dispose()


def earlier_phase(
    url: str, key_dir: str, schools: list[tuple[str, str]], breakdowns: list[Breakdown]
) -> list[Release]:
    """The three earlier releases (`EARLIER`), as the release ledger would hold them."""
    BREAKDOWNS[:] = breakdowns
    keys = load_keys(Path(key_dir), {}, generate=False)
    install_field_keyring(keys.field)
    engine = make_engine(url)
    releases: list[Release] = []
    with new_session(engine) as session:
        for code, programmes, one_school, one_area in EARLIER:
            coverage = Coverage(
                programmes=frozenset(programmes),
                school_agency_ids=frozenset({uuid.UUID(schools[0][0])} if one_school else ()),
                areas=frozenset({city.AREAS[0]} if one_area else ()),
            )
            result = service.compute(
                session,
                _request(code, schools, releases, coverage),
                keys.statistics,
                as_of=city.AS_OF,
            )
            releases.append(result.release)
    engine.dispose()
    return releases


def report_phase(
    url: str,
    key_dir: str,
    schools: list[tuple[str, str]],
    earlier: list[Release],
    breakdowns: list[Breakdown],
) -> dict[str, Any]:
    """A cold and a warm run timed per phase, a plain run (no clocks: the report's own time),
    then one under tracemalloc for memory per phase."""
    global _clock
    BREAKDOWNS[:] = breakdowns
    keys = load_keys(Path(key_dir), {}, generate=False)
    install_field_keyring(keys.field)
    engine = make_engine(url)
    request = _request(TARGET, schools, earlier)
    runs: list[dict[str, Any]] = []
    for label, traced in (("cold", False), ("warm", False), ("plain", False), ("traced", True)):
        _clock = _Clock()
        uninstall = _install_clocks() if label != "plain" else None
        if traced:
            tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0] if traced else 0
        began = time.perf_counter()
        with new_session(engine) as session:
            result = service.compute(session, request, keys.statistics, as_of=city.AS_OF)
        total = time.perf_counter() - began
        if uninstall is not None:
            uninstall()
        run: dict[str, Any] = {
            "run": label,
            "load_s": _clock.load_s,
            "count_s": total - _clock.load_s - _clock.protect_s,
            "protect_s": _clock.protect_s,
            "total_s": total,
            "fact_rows": _clock.rows,
            "rss_before_protect_mib": _clock.rss_before_protect,
            "rss_after_mib": peak_rss_mib(),
            "cells": len(result.release.cells),
            "suppressed": len(result.release.suppressed),
            "tables": len(result.tables),
            "figures": len(result.figures),
        }
        if traced:
            run["traced_load_count_mib"] = (_clock.peak_before_protect - baseline) / MIB
            run["traced_protect_mib"] = (tracemalloc.get_traced_memory()[1] - baseline) / MIB
            tracemalloc.stop()
        runs.append(run)
    engine.dispose()
    return {"runs": runs}


# --- the command ----------------------------------------------------------------------------


def run(url: str, ws: Workspace, cases: int, limit: float) -> list[list[object]]:
    key_dir = str(ws.key_dir)
    database = url.split(":")[0].split("+")[0]
    say(f"{database}: building a city of {cases:,} cases")
    built = run_isolated(build_phase, url, key_dir, cases, timeout=limit)
    rows = built["rows"]
    say(
        f"  built in {built['seconds']} s: "
        + ", ".join(f"{name} {count:,}" for name, count in sorted(rows.items()))
    )
    say(f"  computing the earlier releases {', '.join(code for code, *_ in EARLIER)}")
    earlier = run_isolated(earlier_phase, url, key_dir, built["schools"], BREAKDOWNS, timeout=limit)
    say(f"  timing the follow-up report {TARGET}")
    report = run_isolated(
        report_phase, url, key_dir, built["schools"], earlier, BREAKDOWNS, timeout=limit
    )
    cold, warm, plain, traced = report["runs"]
    say(
        f"  {warm['cells']:,} cells, {warm['suppressed']:,} suppressed, {warm['tables']} tables, "
        f"{warm['figures']} figures; {warm['fact_rows']:,} fact rows read"
    )
    out: list[list[object]] = []
    label = f"{database} {cases:,}"
    for timed in (cold, warm):
        out.append(
            [
                f"{label} {timed['run']}",
                round(timed["load_s"], 2),
                round(timed["count_s"], 2),
                round(timed["protect_s"], 2),
                round(timed["total_s"], 2),
                round(timed["rss_before_protect_mib"]),
                round(timed["rss_after_mib"]),
                "",
                "",
            ]
        )
    out.append([f"{label} plain", "", "", "", round(plain["total_s"], 2), "", "", "", ""])
    out.append(
        [
            f"{label} traced",
            "",
            "",
            "",
            "",
            "",
            "",
            round(traced["traced_load_count_mib"]),
            round(traced["traced_protect_mib"]),
        ]
    )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--cases", type=int, action="append", help="city size; repeat for several (5000)"
    )
    parser.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL (127.0.0.1)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--breakdowns",
        default=",".join(Breakdown),
        help="comma-separated grid (default: all five)",
    )
    parser.add_argument("--phase-limit", type=float, default=1800.0, help="seconds per phase")
    args = parser.parse_args(argv)
    sizes = args.cases or [5000]
    BREAKDOWNS[:] = [Breakdown(name) for name in args.breakdowns.split(",") if name]
    if args.postgres:
        require_loopback(args.postgres)
    ws = Workspace(args.postgres)
    rows: list[list[object]] = []
    try:
        for cases in sizes:
            if not args.no_sqlite:
                rows += run(ws.sqlite_url(f"city{cases}"), ws, cases, args.phase_limit)
            if args.postgres:
                rows += run(ws.postgres_url(f"city{cases}"), ws, cases, args.phase_limit)
    finally:
        ws.close()
    print(  # noqa: T201
        table(
            f"Follow-up report {TARGET}, all indicators, grid {','.join(BREAKDOWNS)}, k={K}, "
            f"audited against {len(EARLIER)} earlier releases (seconds; MiB)",
            [
                "database, cases, run",
                "load s",
                "count s",
                "protect s",
                "total s",
                "rss before protect",
                "rss peak",
                "traced load+count",
                "traced protect",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
