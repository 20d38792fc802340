"""Browser tests: the real server (`samsyn run --demo`) in a subprocess, driven by
Debian's Chromium through sync Playwright, with axe-core checking every page.

No browser is ever downloaded: without /usr/bin/chromium the tests skip, and CI
(`SAMSYN_REQUIRE_ALL_TESTS=1`) turns those skips into failures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.openid_provider import (
    CLIENT_ID,
    ISSUER_NAMES,
    OpenIdProvider,
    free_port,
    ports_held,
    start_provider,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "demo-losenord-2026"
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
ACTION_TIMEOUT_MS = 15_000
START_ATTEMPTS = 3  # a free port can be taken between choosing it and the server binding it
LOG_TAIL_CHARS = 20_000
# A personnummer (with or without its separator) stands alone; the same digits inside a UUID,
# an id in a link or a calendar UID, are not one.
PERSONNUMMER = re.compile(r"(?<![0-9A-Za-z-])\d{6}(?:\d{2})?[-+]?\d{4}(?![0-9A-Za-z-])")

_log_offset = pytest.StashKey[int]()


class Server:
    """One `samsyn run --demo` process with its own data directory and port."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, port: int | None = None
    ) -> None:
        self.data_dir = data_dir
        self.env = env or {}
        self.fixed_port = port  # when something else must know the address in advance
        self.log_path = data_dir / "server.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def output(self, since: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode("utf-8", errors="replace")
        return text[-LOG_TAIL_CHARS:]

    def start(self) -> None:
        failures = []
        for _ in range(START_ATTEMPTS):
            with ports_held():  # no other worker gets this port before the server binds it
                self.port = self.fixed_port or free_port()
                problem = self._try_start()
            if problem is None:
                return
            failures.append(f"port {self.port}: {problem}")
            self.stop()
        pytest.fail(
            "the Samsyn server did not start:\n"
            + "\n".join(failures)
            + f"\n--- server output ---\n{self.output()}",
            pytrace=False,
        )

    def _try_start(self) -> str | None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAMSYN_")}
        env.update(
            SAMSYN_ENV="development",
            SAMSYN_DATA_DIR=str(self.data_dir),
            SAMSYN_PORT=str(self.port),
            SAMSYN_HOST="127.0.0.1",
            SAMSYN_LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        command = [str(Path(sys.executable).with_name("samsyn")), "run", "--demo"]
        with self.log_path.open("ab") as log:
            log.write(f"\n$ {' '.join(command)}  (port {self.port})\n".encode())
            log.flush()
            self.process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                return f"exited with status {code}"
            if self._healthy():
                return None
            time.sleep(0.1)
        return f"/healthz did not answer within {STARTUP_TIMEOUT_S:.0f} s"

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:  # noqa: S310
                body = response.read()
        except (urllib.error.URLError, OSError):
            return False
        return response.status == 200 and b'"ok"' in body

    def stop(self) -> int | None:
        """Stop the process; return the status it had already exited with, if it had."""
        process, self.process = self.process, None
        if process is None:
            return None
        early = process.poll()
        if early is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        return early


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `-n … --dist loadgroup` (make test) every browser test runs on one xdist worker:
    one set of demo servers and one Chromium for the run, not one per worker."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); no browser is downloaded")


def _serve(
    data_dir: Path, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[Server]:
    _require_chromium()
    running = Server(data_dir, env, port)
    running.start()
    yield running
    died = running.stop()
    if died is not None:
        pytest.fail(
            f"the Samsyn server exited early with status {died}:\n{running.output()}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo server, started once per session (per xdist worker)."""
    yield from _serve(tmp_path_factory.mktemp("samsyn-browser"))


@pytest.fixture(scope="session")
def totp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo with the production rule on: roles that read case data must use TOTP."""
    yield from _serve(tmp_path_factory.mktemp("samsyn-totp"), {"SAMSYN_TOTP_REQUIRED": "true"})


@dataclass(frozen=True)
class FederatedSetup:
    server: Server
    provider: OpenIdProvider


SCHOOL_LOGIN_LABEL = "Logga in med Skolans inloggning"


@pytest.fixture(scope="session")
def federated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FederatedSetup]:
    """The demo with TOTP required and the school's OpenID provider trusted. The provider is
    named "localhost" and Samsyn "127.0.0.1", so the two are different sites, as in real life:
    SameSite cookies behave as they will in production."""
    _require_chromium()
    work = tmp_path_factory.mktemp("samsyn-oidc")
    (work / "samsyn").mkdir()
    with ports_held():  # Samsyn's port is chosen first: the provider must know it
        port = free_port()
        provider = start_provider(
            work / "provider",
            {name: [f"http://127.0.0.1:{port}/oidc/{name}/callback"] for name in ISSUER_NAMES},
            host="localhost",
        )
        setup = _federated_setup(work, provider, port)
    try:
        yield setup
    finally:
        died = setup.server.stop()
        provider.stop()
    if died is not None:
        pytest.fail(
            f"the Samsyn server exited early with status {died}:\n{setup.server.output()}",
            pytrace=False,
        )


def _federated_setup(work: Path, provider: OpenIdProvider, port: int) -> FederatedSetup:
    issuers = [
        {
            "name": "skola",
            "label": SCHOOL_LOGIN_LABEL,
            "issuer": provider.issuer("skola"),
            "client_id": CLIENT_ID,
            "agency": "Ekbackens skola (demo)",
            "role_claim": "groups",
            "role_map": {"sspf-kontakt": "contact_person"},
            "scopes": "openid profile groups",
        }
    ]
    env = {
        "SAMSYN_TOTP_REQUIRED": "true",
        "SAMSYN_OIDC_ISSUERS": json.dumps(issuers),
        **provider.secret_env(),
    }
    running = Server(work / "samsyn", env, port)
    try:
        running.start()
    except BaseException:
        provider.stop()
        raise
    return FederatedSetup(server=running, provider=provider)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    _require_chromium()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    """A fresh browser profile for each test: no cookies carry over."""
    fresh = browser.new_context(
        base_url=server.url, locale="sv-SE", viewport={"width": 1280, "height": 900}
    )
    fresh.set_default_timeout(ACTION_TIMEOUT_MS)
    fresh.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext, server: Server, request: pytest.FixtureRequest) -> Page:
    request.node.stash[_log_offset] = server.log_size()
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    return context.new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed browser test shows what the server logged while it ran."""
    report = yield
    running = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(running, Server):
        since = item.stash.get(_log_offset, 0)
        report.sections.append(("samsyn server output", running.output(since)))
    return report


# --- helpers -------------------------------------------------------------------------


def assert_accessible(page: Page) -> None:
    """Fail with every axe-core violation on the page as it is now."""
    results = Axe().run(page)
    if results.violations_count > 0:
        violations: list[dict[str, Any]] = results.response["violations"]
        lines = [f"axe found {len(violations)} kinds of violation on {page.url}:"]
        for violation in violations:
            lines.append(
                f"- {violation['id']} ({violation['impact']}): {violation['help']}"
                f" [{violation.get('helpUrl', '')}]"
            )
            lines.extend(
                f"    {', '.join(map(str, node['target']))}: {node.get('html', '')[:200]}"
                for node in violation["nodes"]
            )
        pytest.fail("\n".join(lines), pytrace=False)


def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form and wait until the browser has left the login page."""
    page.goto("/logga-in")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(lambda url: "/logga-in" not in url)


def save_screenshot(page: Page, name: str) -> None:
    """With SAMSYN_BROWSER_SHOTS=<dir>, keep a full-page screenshot for a human to look at."""
    target = os.environ.get("SAMSYN_BROWSER_SHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(target) / f"{name}.png", full_page=True)
