"""Shared test plumbing: keys, databases (SQLite and PostgreSQL), the app and builders.

PostgreSQL tests need `SAMSYN_TEST_POSTGRES_URL` (an admin URL such as
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Without it they skip, unless
`SAMSYN_REQUIRE_ALL_TESTS=1` (set by CI), which turns every skip into a failure.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
import shutil
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Engine
from sqlmodel import Session

from common.crypto import BlindIndex, FieldKeyRing, Pseudonymiser, install_field_keyring
from common.db import make_engine, new_session
from common.keys import KeySet
from deploy import migrate
from domain.auth import passwords

pytest_plugins = ["tests.openid_provider"]  # the OpenID provider fixtures

REQUIRE_ALL = os.environ.get("SAMSYN_REQUIRE_ALL_TESTS") == "1"
POSTGRES_URL = os.environ.get("SAMSYN_TEST_POSTGRES_URL")


def _forbid_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped, but SAMSYN_REQUIRE_ALL_TESTS=1 forbids skips: {report.longrepr}"
        )


# In CI a skipped test is a failed test: nothing may quietly not run. The reports are changed
# where they are made, so that under pytest-xdist the worker already sends a failure (a hook
# on the report's way out runs after xdist has sent the skip to the controller).
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _forbid_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _forbid_skip(report)
    return report


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Cheap scrypt in tests; the stored parameters make verification follow along."""
    original = passwords.DEFAULT_PARAMS
    passwords.DEFAULT_PARAMS = passwords.ScryptParams(n=2**10, r=8, p=1)
    yield
    passwords.DEFAULT_PARAMS = original


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """A test that configures logging (the CLI does) must not leave the next test writing to
    its closed, captured stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def make_keys() -> KeySet:
    return KeySet(
        field=FieldKeyRing(keys={"test1": secrets.token_bytes(32)}, active_id="test1"),
        blind_index=BlindIndex(secrets.token_bytes(32)),
        session=secrets.token_bytes(32),
        audit_signing=Ed25519PrivateKey.generate(),
        statistics=Pseudonymiser(secrets.token_bytes(32)),
    )


@pytest.fixture
def keys() -> KeySet:
    key_set = make_keys()
    install_field_keyring(key_set.field)
    return key_set


# --- databases -------------------------------------------------------------------------


def postgres_admin_url() -> str:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set SAMSYN_TEST_POSTGRES_URL")
    return POSTGRES_URL


def _pg_admin_engine(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", hide_parameters=True)


class PostgresDatabases:
    """A migrated template database, and a fresh copy of it for each test."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.admin = _pg_admin_engine(admin_url)
        self.template = f"samsyn_tpl_{os.getpid()}_{secrets.token_hex(3)}"
        self._create(self.template)
        migrate.upgrade(self.url_for(self.template))

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> None:
        with self.admin.connect() as connection:
            suffix = f" TEMPLATE {template}" if template else ""
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{suffix}')

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def fresh(self) -> str:
        name = f"samsyn_t_{uuid.uuid4().hex[:12]}"
        self._create(name, template=self.template)
        return name

    def close(self) -> None:
        self.drop(self.template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_admin_url())
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind; the test may do anything to it."""
    if request.param == "sqlite":
        path = tmp_path / "samsyn.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    name = databases.fresh()
    try:
        yield databases.url_for(name)
    finally:
        databases.drop(name)


@pytest.fixture
def engine(database_url: str, keys: KeySet) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    # The test's app, clients and sessions are garbage by now: collect them while the pool
    # still exists, so a connection they held goes back to it and `dispose` closes it, rather
    # than psycopg finding it open at some later test's collection (a ResourceWarning there).
    gc.collect()
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with new_session(engine) as db:
        yield db


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many PostgreSQL and browser tests ran, so a log shows they were not skipped.

    Under pytest-xdist the controller holds the workers' reports, with their keywords, so the
    same count holds with and without `-n`. A test that failed in setup or teardown (an error,
    e.g. a skip that CI turns into a failure) counts as failed, once."""
    for marker, label in (("postgres", "PostgreSQL"), ("browser", "Browser")):
        outcomes: dict[str, str] = {}
        for category in ("passed", "failed", "error", "skipped"):
            for report in terminalreporter.stats.get(category, []):
                if not isinstance(report, pytest.TestReport) or marker not in report.keywords:
                    continue
                if category == "passed" and report.when != "call":
                    continue
                seen = outcomes.get(report.nodeid)
                if seen in ("failed", "error"):
                    continue  # a failure stands, whatever the other phases did
                outcomes[report.nodeid] = category
        counts = {
            outcome: sum(1 for o in outcomes.values() if o == outcome)
            for outcome in ("passed", "failed", "error", "skipped")
        }
        failed = counts["failed"] + counts["error"]
        terminalreporter.write_line(
            f"{label} tests run: {counts['passed'] + failed} "
            f"(passed {counts['passed']}, failed {failed}, skipped {counts['skipped']})"
        )
