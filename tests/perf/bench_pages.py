"""The everyday pages of each case-working role, with a synthetic city in the reader's unit.

Builds a city of `--city` cases (tests/perf/city.py) in its own process, gathers the planner
statistics as the running server does (`refresh_planner_statistics`), then, for a new social
worker and a new coordinator of the city's social unit, logs in through the login form and
times each page once, in process through the ASGI app (no network, no sequencer): the start
page, the case list, the consent tracker, the waiting list, the referrals, and one active
case's pages. A page that does not answer 200 is named. It asserts nothing about time.

    .venv/bin/python -m tests.perf.bench_pages [--city 50000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from fastapi.testclient import TestClient
from sqlmodel import col, select

from api.logging import configure_logging
from api.main import create_app
from api.settings import Settings
from common.db import make_engine, new_session, refresh_planner_statistics
from common.roles import Role
from consent.guard import unscoped
from domain.agencies.models import Agency
from domain.cases.models import Case
from tests.api.test_pages import log_in
from tests.builders import make_user
from tests.perf import city
from tests.perf.bench_followup import build_phase
from tests.perf.support import Workspace, require_loopback, run_isolated, say

ROLES = (Role.SOCIAL_WORKER, Role.COORDINATOR)
PAGES = (
    "/start",
    "/arenden",
    "/samtycken",
    "/vantelista",
    "/aktualiseringar",
    "/aktualiseringar/mina",
)
CASE_PAGES = ("", "/samtycken", "/plan", "/bedomningar", "/team")


def run(url: str, workspace: Workspace, cases: int) -> None:
    built = run_isolated(build_phase, url, str(workspace.key_dir), cases, timeout=3600)
    say(f"a city of {cases:,} cases built in {built['seconds']:.0f} s")
    engine = make_engine(url)
    started = time.perf_counter()
    refresh_planner_statistics(engine)
    say(f"planner statistics gathered in {time.perf_counter() - started:.1f} s")
    with new_session(engine) as session:
        unit = session.exec(select(Agency).where(Agency.name == city.SOCIAL_UNIT)).one()
        usernames = {
            role: make_user(session, unit, role, username=f"bench-{role.value}").username
            for role in ROLES
        }
        active = session.exec(
            unscoped(
                select(Case.id).where(Case.state == "active").order_by(col(Case.reference)),
                "the benchmark picks a case to open: an id only",
            )
        ).first()
        session.commit()
    app = create_app(
        Settings(data_dir=workspace.dir, database_url=url),
        keys=workspace.keys,
        engine=engine,
        run_sequencer=False,
        run_consent_sweep=False,
        second_factor_required=False,
    )
    paths = [*PAGES, *(f"/arenden/{active}{page}" for page in CASE_PAGES)]
    say(f"{'role':<16}{'page':<62}{'status':>7}{'ms':>9}")
    for role, username in usernames.items():
        with TestClient(app) as client:
            log_in(client, username)
            for path in paths:
                began = time.perf_counter()
                status = client.get(path).status_code
                elapsed = (time.perf_counter() - began) * 1000
                say(f"{role.value:<16}{path:<62}{status:>7}{elapsed:>9.0f}")
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--city", type=int, default=50_000, help="cases of the city")
    parser.add_argument("--postgres", default=None, help="an admin URL on 127.0.0.1")
    args = parser.parse_args(argv)
    configure_logging(json=False, level="WARNING")
    if args.postgres:
        require_loopback(args.postgres)
    workspace = Workspace(args.postgres)
    try:
        url = workspace.postgres_url("pages") if args.postgres else workspace.sqlite_url("pages")
        run(url, workspace, args.city)
    finally:
        workspace.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
