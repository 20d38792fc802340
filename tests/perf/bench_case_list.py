"""The case list against a single case read, in one run (issue 16, item 2).

A social worker owns `--cases` cases (default 60); with `--city N` the worker's unit also holds
a synthetic city of N cases (tests/perf/city.py), all within the worker's scope, as in a large
municipality's social services. In alternating rounds the benchmark times,
in process through the ASGI app (no network, no server, no sequencer), the single case read
`GET /api/v1/cases/{id}` and the list `GET /api/v1/cases?page_size=50`, and prints the median
and p90 of each and the list's ratio to the case read (the target: at most 2x). Then it counts
the statements one list request sends to the database, and profiles a few lists.

It is not a test: it asserts nothing about time. Run from the repository root:

    .venv/bin/python -m tests.perf.bench_case_list [--rounds 200] [--city 50000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import select

from api.logging import configure_logging
from api.main import create_app
from api.schemas.cases import CaseListOut
from api.settings import Settings
from common.db import make_engine, new_session
from common.roles import Role
from domain.agencies.models import Agency
from domain.auth.service import actor_for
from domain.cases import service as cases
from tests.builders import PASSWORD, make_agency, make_case, make_user
from tests.perf import city
from tests.perf.bench_followup import build_phase
from tests.perf.support import Workspace, require_loopback, run_isolated

PAGE_SIZE = 50


def emit(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(url: str, workspace: Workspace, args: argparse.Namespace) -> None:
    if args.city:  # in a process of its own: the build's heap stays out of the timings
        built = run_isolated(build_phase, url, str(workspace.key_dir), args.city, timeout=3600)
        emit(f"a city of {args.city} cases built in {built['seconds']:.0f} s")
    engine = make_engine(url)
    with new_session(engine) as session:
        unit = (
            session.exec(select(Agency).where(Agency.name == city.SOCIAL_UNIT)).one()
            if args.city
            else make_agency(session, name="Socialtjänsten Bench, Barn och unga")
        )
        user = make_user(session, unit, Role.SOCIAL_WORKER, username="bench-handlaggare")
        actor = actor_for(session, user)
        case_ids = [make_case(session, actor, workspace.keys).id for _ in range(args.cases)]
        session.commit()
    app = create_app(
        Settings(data_dir=workspace.dir, database_url=url),
        keys=workspace.keys,
        engine=engine,
        run_sequencer=False,
        run_consent_sweep=False,
        second_factor_required=False,
    )
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": user.username, "password": PASSWORD}
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        reads: dict[str, Callable[[int], Any]] = {
            "case read": lambda n: client.get(
                f"/api/v1/cases/{case_ids[n % len(case_ids)]}", headers=bearer
            ),
            f"case list, {PAGE_SIZE} a page": lambda _n: client.get(
                f"/api/v1/cases?page_size={PAGE_SIZE}", headers=bearer
            ),
        }
        for name, read in reads.items():
            answer = read(0)
            if answer.status_code != 200:
                raise SystemExit(f"{name} answered {answer.status_code}")
        listed = len(reads[f"case list, {PAGE_SIZE} a page"](0).json()["items"])
        times: dict[str, list[float]] = {name: [] for name in reads}
        for number in range(args.rounds):
            for name, read in reads.items():
                started = time.perf_counter()
                read(number)
                times[name].append((time.perf_counter() - started) * 1000)
        behind = f" in a unit of {args.city + args.cases}" if args.city else ""
        emit(f"{args.cases} cases of one social worker{behind}, {listed} listed")
        emit(f"{args.rounds} rounds")
        base = statistics.median(times["case read"])
        emit(f"{'read':<24}{'median ms':>11}{'p90 ms':>9}{'x case read':>13}")
        for name, values in times.items():
            median = statistics.median(values)
            emit(f"{name:<24}{median:>11.2f}{percentile(values, 0.9):>9.2f}{median / base:>13.2f}")

        for name, read in reads.items():
            statements: list[str] = []

            def count(*event_args: Any, _into: list[str] = statements) -> None:
                _into.append(event_args[2])

            event.listen(engine, "before_cursor_execute", count)
            try:
                read(1)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            kinds: dict[str, int] = {}
            for statement in statements:
                kind = statement.split(None, 1)[0].upper()
                kinds[kind] = kinds.get(kind, 0) + 1
            emit(f"  {name}: {len(statements)} statements ({kinds})")

        if args.profile:  # the endpoint's own work, in this thread, without the framework
            profile = cProfile.Profile()
            with new_session(engine) as session:
                reader = actor_for(session, user)
                for _ in range(args.profile):
                    profile.enable()
                    CaseListOut.of(cases.list_cases(session, reader, page_size=PAGE_SIZE))
                    session.commit()
                    profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(40)
            emit(out.getvalue())
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--city", type=int, default=0, help="cases of a city in the same unit")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0, help="profile this many lists")
    parser.add_argument("--postgres", default=None, help="an admin URL on 127.0.0.1")
    args = parser.parse_args(argv)
    configure_logging(json=False, level="WARNING")
    if args.postgres:
        require_loopback(args.postgres)
    workspace = Workspace(args.postgres)
    try:
        url = workspace.postgres_url("case_list") if args.postgres else workspace.sqlite_url("list")
        run(url, workspace, args)
    finally:
        workspace.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
