"""Minutes reads against a plain case read, in one run (issue 12's performance figure).

A case with 60 meetings and 600 minute items (10 per meeting, in every category, some kept
within an agency) is read by a police contact whose consent covers basic, police and plan
only. In alternating rounds the benchmark times, in process through the ASGI app (no network,
no server), the plain case read `GET /api/v1/cases/{id}` and the minutes reads: the meeting
list (API and page), one meeting's minutes (API and page) and the print view. It reports the
median and p90 of each and its ratio to the case read of the same rounds (the target: the
minutes page at most 3x the case read), and then profiles the minutes page to say where the
time goes (SQL, decryption, templates, audit).

It is not a test: it asserts nothing about time. Run from the repository root:

    .venv/bin/python -m tests.perf.bench_minutes [--rounds 200] [--postgres URL]

SQLite by default (a temp file); `--postgres` takes an admin URL on 127.0.0.1 and makes (and
drops) a database of its own.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from jinja2 import Template
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.orm import Session as OrmSession

from api.logging import configure_logging
from api.main import create_app
from api.settings import Settings
from audit import log as audit_log
from common.crypto import FieldKeyRing, install_field_keyring
from common.db import make_engine, new_session
from common.keys import load_keys
from common.roles import AgencyKind, Role
from consent.rules import Category
from deploy import migrate
from domain import access
from domain.auth.service import actor_for
from domain.cases import service as cases
from domain.meetings import service as meetings
from domain.meetings.service import AttendeeInput, ItemInput, MeetingInput
from domain.teams import service as teams
from tests.builders import PASSWORD, give_consent, make_agency, make_case, make_user

MEETINGS = 60
ITEMS_PER_MEETING = 10
CATEGORIES = [c.value for c in Category]
POLICE_SEES = [Category.BASIC, Category.POLICE, Category.PLAN]


@dataclass(frozen=True)
class Seeded:
    case_id: uuid.UUID
    meeting_id: uuid.UUID  # a meeting in the middle of the history
    police_username: str


def seed(engine: Engine, keys_dir: Path) -> Seeded:
    keys = load_keys(keys_dir, {}, generate=True)
    install_field_keyring(keys.field)
    with new_session(engine) as session:
        unit = make_agency(session, name="Socialtjänsten Bench, Barn och unga")
        police = make_agency(session, AgencyKind.POLICE, name="Lokalpolisområde Bench")
        school = make_agency(session, AgencyKind.SCHOOL, name="Benchskolan")
        owner = actor_for(session, make_user(session, unit, Role.SOCIAL_WORKER))
        police_user = make_user(session, police, Role.CONTACT_PERSON, username="bench-polis")
        school_user = make_user(session, school, Role.CONTACT_PERSON)
        police_actor = actor_for(session, police_user)
        case = make_case(session, owner, keys)
        case = cases.change_state(
            session, owner, case_id=case.id, target="consent_pending", expected_version=case.version
        )
        for user in (police_user, school_user):
            teams.add_member(session, owner, case_id=case.id, user_id=user.id)
        give_consent(
            session, owner, case, agencies=[police.id, school.id], categories=list(Category)
        )
        session.commit()
        start = datetime.now(UTC) - timedelta(days=7 * MEETINGS)
        meeting_ids = []
        for number in range(MEETINGS):
            at = start + timedelta(days=7 * number)
            meeting = meetings.schedule_meeting(
                session,
                owner,
                case_id=case.id,
                data=MeetingInput(
                    kind="team",
                    starts_at=at,
                    ends_at=at + timedelta(hours=1),
                    place=f"Rum {number} (bench)",
                    attendees=[
                        AttendeeInput(kind="user", user_id=police_user.id, status="came"),
                        AttendeeInput(kind="young_person", status="came"),
                    ],
                ),
            )
            for item in range(ITEMS_PER_MEETING):
                author = police_actor if item == 9 else owner
                category = "police" if author is police_actor else CATEGORIES[item % 8]
                meetings.add_item(
                    session,
                    author,
                    case_id=case.id,
                    meeting_id=meeting.id,
                    data=ItemInput(
                        heading=f"Punkt {item} (bench)",
                        text="Syntetisk text för mätning. " * 8,
                        category=category,
                        visibility="own_agency" if item == 3 else "team",
                        decision=item == 5,
                    ),
                )
            meeting_ids.append(meeting.id)
            session.commit()
        # The consent the police read under: basic, police and plan only (the latest records
        # supersede the first ones).
        give_consent(session, owner, case, agencies=[police.id, school.id], categories=POLICE_SEES)
        session.commit()
        return Seeded(case.id, meeting_ids[MEETINGS // 2], police_user.username)


@contextmanager
def database(postgres: str | None, workdir: Path) -> Iterator[str]:
    if postgres is None:
        url = f"sqlite:///{workdir / 'bench.db'}"
        migrate.upgrade(url)
        yield url
        return
    admin = make_url(postgres)
    if admin.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("--postgres must point at this machine")
    name = f"bench_minutes_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin_engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_engine.dispose()


def log_in(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    page = client.get("/logga-in")
    marker = 'name="csrf_token" value="'
    csrf = page.text.split(marker, 1)[1].split('"', 1)[0]
    client.post(
        "/logga-in",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf, "nasta": "/"},
        follow_redirects=False,
    )
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def emit(line: str = "") -> None:
    """The report goes to stdout (this is a command, not a test)."""
    sys.stdout.write(line + "\n")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--postgres", default=None, help="an admin URL on 127.0.0.1")
    parser.add_argument("--profile-rounds", type=int, default=50)
    args = parser.parse_args()
    configure_logging(json=False, level="WARNING")  # no request lines in the report

    with tempfile.TemporaryDirectory(prefix="samsyn-bench-minutes-") as tmp:
        workdir = Path(tmp)
        with database(args.postgres, workdir) as url:
            engine = make_engine(url)
            seeded = seed(engine, workdir / "keys")
            keys = load_keys(workdir / "keys", {}, generate=False)
            app = create_app(
                Settings(data_dir=workdir, database_url=url),
                keys=keys,
                engine=engine,
                run_sequencer=False,
                run_consent_sweep=False,
                second_factor_required=False,
            )
            with TestClient(app) as client:
                report(client, seeded, args.rounds, args.profile_rounds)
            engine.dispose()


def report(client: TestClient, seeded: Seeded, rounds: int, profile_rounds: int) -> None:
    bearer = log_in(client, seeded.police_username)
    case, meeting = seeded.case_id, seeded.meeting_id
    reads: dict[str, Callable[[], object]] = {
        "case read (API)": lambda: client.get(f"/api/v1/cases/{case}", headers=bearer),
        "meeting list (API)": lambda: client.get(f"/api/v1/cases/{case}/meetings", headers=bearer),
        "minutes (API)": lambda: client.get(
            f"/api/v1/cases/{case}/meetings/{meeting}", headers=bearer
        ),
        "meeting list (page)": lambda: client.get(f"/arenden/{case}/moten"),
        "minutes (page)": lambda: client.get(f"/arenden/{case}/moten/{meeting}"),
        "print view (page)": lambda: client.get(f"/arenden/{case}/moten/{meeting}/utskrift"),
    }
    for name, read in reads.items():  # warm up, and check that every read is let through
        status = read().status_code  # type: ignore[attr-defined]
        if status != 200:
            sys.exit(f"{name} answered {status}")
    times: dict[str, list[float]] = {name: [] for name in reads}
    for _ in range(rounds):
        for name, read in reads.items():
            started = time.perf_counter()
            read()
            times[name].append((time.perf_counter() - started) * 1000)

    api = client.get(f"/api/v1/cases/{case}/meetings/{meeting}", headers=bearer).json()
    listed = client.get(f"/api/v1/cases/{case}/meetings", headers=bearer).json()
    emit(
        f"\nA case with {MEETINGS} meetings and {MEETINGS * ITEMS_PER_MEETING} items, read by "
        f"a police contact whose consent covers {', '.join(c.value for c in POLICE_SEES)}: "
        f"{len(api.get('items', []))} of {ITEMS_PER_MEETING} items of the meeting shown, "
        f"{len(listed['items'] if isinstance(listed, dict) else listed)} meetings listed. "
        f"{rounds} alternating rounds.\n"
    )
    base = statistics.median(times["case read (API)"])
    emit(f"{'read':<22}{'median ms':>11}{'p90 ms':>9}{'x case read':>13}")
    for name, values in times.items():
        median = statistics.median(values)
        emit(f"{name:<22}{median:>11.2f}{percentile(values, 0.9):>9.2f}{median / base:>13.2f}")

    spent = time_parts(reads["minutes (page)"], profile_rounds)
    emit(
        f"\nWhere the minutes page's time goes ({profile_rounds} reads, ms per read; parts nest:"
        " the scope and the audit event run queries too, so they do not add up):"
    )
    whole = spent["whole request"]
    for label, ms in spent.items():
        emit(f"  {label:<40}{ms:>8.2f}  ({ms / whole:.0%})")


def time_parts(read: Callable[[], object], rounds: int) -> dict[str, float]:
    """Time spent in the parts of a request, from every thread the app runs it on: each part
    is wrapped for the measurement and restored afterwards. Parts may nest (a template that
    decrypts), so they are read one by one, not summed to the whole."""
    totals: dict[str, float] = {}

    def timed(label: str, function: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[label] = totals.get(label, 0.0) + time.perf_counter() - started

        return wrapper

    parts: list[tuple[object, str, str]] = [
        (OrmSession, "execute", "queries (compile, execute, load rows)"),
        (DefaultDialect, "do_execute", "  of which the database itself"),
        (OrmSession, "commit", "commit (flush and write to disk)"),
        (FieldKeyRing, "decrypt", "decrypting fields"),
        (audit_log, "record", "writing the audit event"),
        (access, "_decide", "the scope (consent decision)"),
        (Template, "render", "rendering the template"),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in parts]
    for owner, name, label in parts:
        setattr(owner, name, timed(label, getattr(owner, name)))
    try:
        started = time.perf_counter()
        for _ in range(rounds):
            read()
        totals["whole request"] = time.perf_counter() - started
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
    order = ["whole request", *(label for _, _, label in parts)]
    return {label: totals.get(label, 0.0) / rounds * 1000 for label in order}


if __name__ == "__main__":
    main()
