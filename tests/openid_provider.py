"""A real OpenID provider for the federation tests: `tests/oidc_provider/provider.mjs`
(panva/oidc-provider 9) under node, on a free loopback port, with three issuers mounted at
`/skola`, `/soc` and `/okand` (the last one Samsyn never trusts).

Without node or the provider's `node_modules` (`npm ci --prefix tests/oidc_provider`) the
tests that need it skip, and `SAMSYN_REQUIRE_ALL_TESTS=1` (CI) turns those skips into
failures. The client secrets are made up here, at run time, and never written to the repo.

The provider's pages are plain HTML forms; `OpenIdProvider.sign_in` fills them with httpx,
as a browser would, and stops at the redirect back to the relying party. By default every
call is a fresh browser; pass `browser` (an httpx client, which keeps the provider's cookies)
to be the same browser again, e.g. to see whether the provider still knows who it is.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2
import pytest

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
ACCOUNTS = PROVIDER_DIR / "accounts.json"
IDP_PASSWORD = "idp-losenord-2026"
CLIENT_ID = "samsyn"
ISSUER_NAMES = ("skola", "soc", "okand")
# Once, in a CI run, the provider had not answered after 30 s (from a start that takes under
# a second here), and every OIDC test failed; the cause was not found. A slow start now gets
# more time, and a start that fails is tried once more on a new port, each failure reported.
STARTUP_TIMEOUT_S = 60.0
STARTUP_ATTEMPTS = 2
STOP_TIMEOUT_S = 10.0
MAX_HOPS = 20


# Choosing a free port and binding it are two steps: between them another pytest-xdist worker
# (or another test run on this machine) could be handed the same port by the kernel, and two
# servers would race for it, a health check answered by the wrong one. Every test server is
# therefore chosen and started while holding one machine-wide lock, released once it listens.
PORT_LOCK = Path(tempfile.gettempdir()) / "samsyn-test-ports.lock"
_held = threading.local()


@contextmanager
def ports_held() -> Iterator[None]:
    """Hold the port lock (reentrant within a thread) while choosing ports and starting servers."""
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth = depth
        return
    with PORT_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


def free_port() -> int:
    """A loopback port free right now; bind it before leaving `ports_held()`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require_provider() -> str:
    """The node executable, or a skip saying what is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is missing (apt-get install nodejs npm): no OpenID provider to test with")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("oidc-provider is not installed: run npm ci --prefix tests/oidc_provider")
    return node


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of a verifier (RFC 7636 §4.2)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass
class OpenIdProvider:
    base_url: str
    accounts_file: Path
    redirect_uris: dict[str, list[str]]
    client_secrets: dict[str, str] = field(repr=False)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def issuer(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def secret_env(self) -> dict[str, str]:
        """The SAMSYN_OIDC_CLIENT_SECRET_<NAME> variables for Samsyn."""
        return {
            f"SAMSYN_OIDC_CLIENT_SECRET_{name.upper()}": secret
            for name, secret in self.client_secrets.items()
        }

    def output(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-10_000:]

    # --- accounts ---------------------------------------------------------------------------

    def accounts(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.accounts_file.read_text(encoding="utf-8"))
        return data

    def sub(self, login: str) -> str:
        return str(self.accounts()[login]["sub"])

    def set_groups(self, login: str, groups: list[str] | str) -> None:
        """Change what the provider says about a user from the next login on."""
        data = self.accounts()
        data[login]["claims"]["groups"] = groups
        staging = self.accounts_file.with_suffix(".tmp")
        staging.write_text(json.dumps(data), encoding="utf-8")
        staging.replace(self.accounts_file)  # the provider never reads half a file

    def reset_accounts(self) -> None:
        shutil.copyfile(ACCOUNTS, self.accounts_file)

    # --- a browser at the provider ----------------------------------------------------------

    def sign_in(
        self,
        url: str,
        login: str,
        *,
        until: str,
        password: str = IDP_PASSWORD,
        abort: bool = False,
        browser: httpx2.Client | None = None,
        pages: list[str] | None = None,
    ) -> str:
        """Follow `url` through the provider's login and consent pages, as a fresh browser or
        as `browser`, and return the first redirect that leads to `until` (the relying party).
        The kind of each page filled in ("login", "consent", "abort") is added to `pages`."""
        if browser is None:
            with new_browser() as fresh:
                return self.sign_in(
                    url,
                    login,
                    until=until,
                    password=password,
                    abort=abort,
                    browser=fresh,
                    pages=pages,
                )
        seen = pages if pages is not None else []
        for _ in range(MAX_HOPS):
            if url.startswith(until):
                return url
            response = browser.get(url)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                continue
            assert response.status_code == 200, (url, response.status_code, response.text)
            page = response.text
            if abort:
                action, data = _form_action(page, "abort"), {}
                seen.append("abort")
            elif 'name="password"' in page:
                action = _form_action(page, "login")
                data = {"login": login, "password": password}
                seen.append("login")
            else:
                action, data = _form_action(page, "confirm"), {}
                seen.append("consent")
            response = browser.post(urljoin(url, action), data=data)
            assert response.is_redirect, (action, response.status_code, response.text)
            url = urljoin(url, response.headers["location"])
        raise AssertionError(f"no redirect to {until} after {MAX_HOPS} steps")

    def sign_out(self, url: str, *, until: str, browser: httpx2.Client) -> str:
        """Follow `url` (an end-session request) as `browser`, confirm the provider's logout
        form, and return the redirect that leads to `until` (the relying party)."""
        response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code, response.text)
        action = _form_action(response.text, "session/end/confirm")
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', response.text)
        assert xsrf is not None, response.text
        response = browser.post(urljoin(url, action), data={"xsrf": xsrf.group(1), "logout": "yes"})
        for _ in range(MAX_HOPS):
            assert response.is_redirect, (response.status_code, response.text)
            target = urljoin(url, response.headers["location"])
            if target.startswith(until):
                return target
            response = browser.get(target)
        raise AssertionError(f"no redirect to {until} after {MAX_HOPS} steps")

    def rotate_keys(self, name: str) -> None:
        """A new signing key for issuer `name`; the old one is no longer published."""
        response = httpx2.post(f"{self.issuer(name)}/_rotate-keys", timeout=15)
        assert response.status_code == 200, response.text

    def access_token(
        self,
        name: str,
        login: str,
        *,
        resource: str | None = None,
        nonce: bool = True,
        offline: bool = False,
    ) -> dict[str, Any]:
        """Tokens for `login` from issuer `name`, fetched the way an API client would: the
        authorization code flow with PKCE and a resource indicator, so the access token is a
        JWT for that resource (RFC 8707, RFC 9068). Without `nonce` the request has none (it
        is optional in the code flow); `offline` asks for a refresh token too."""
        issuer = self.issuer(name)
        redirect_uri = self.redirect_uris[name][0]
        verifier = secrets.token_urlsafe(48)
        query = {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "openid api:read" + (" offline_access" if offline else ""),
            "redirect_uri": redirect_uri,
            "state": secrets.token_urlsafe(16),
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
            "resource": resource or f"urn:samsyn:{name}:api",
        }
        if nonce:
            query["nonce"] = secrets.token_urlsafe(16)
        if offline:
            query["prompt"] = "consent"  # offline_access is granted only with consent
        back = self.sign_in(f"{issuer}/auth?{urlencode(query)}", login, until=redirect_uri)
        code = parse_qs(urlsplit(back).query)["code"][0]
        response = httpx2.post(
            f"{issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
                "resource": query["resource"],
            },
            auth=(CLIENT_ID, self.client_secrets[name]),
            timeout=15,
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    def refresh(self, name: str, refresh_token: str, *, resource: str) -> dict[str, Any]:
        """The refresh grant: new tokens, among them a new ID token (which has no nonce)."""
        response = httpx2.post(
            f"{self.issuer(name)}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "resource": resource,
            },
            auth=(CLIENT_ID, self.client_secrets[name]),
            timeout=15,
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    # --- the process ------------------------------------------------------------------------

    def start(self, node: str, work_dir: Path) -> str | None:
        """Start the process: None once it answers, else why not (and it is stopped)."""
        port = int(urlsplit(self.base_url).port or 0)
        issuers = [
            {
                "name": name,
                "client_id": CLIENT_ID,
                "client_secret": self.client_secrets[name],
                "redirect_uris": self.redirect_uris[name],
                "post_logout_redirect_uris": [
                    uri.removesuffix("/callback") + "/logged-out"
                    for uri in self.redirect_uris[name]
                ],
            }
            for name in ISSUER_NAMES
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMSYN_", "OIDC_"))}
        env.update(
            OIDC_HOST=str(urlsplit(self.base_url).hostname),
            OIDC_PORT=str(port),
            OIDC_ISSUERS=json.dumps(issuers),
            OIDC_ACCOUNTS_FILE=str(self.accounts_file),
            NODE_ENV="test",
        )
        self.log_path = work_dir / "provider.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - node and our own script
                [node, str(PROVIDER_DIR / "provider.mjs")],
                cwd=PROVIDER_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        discovery = f"{self.issuer(ISSUER_NAMES[0])}/.well-known/openid-configuration"
        why = f"{discovery} did not answer within {STARTUP_TIMEOUT_S:.0f} s"
        while time.monotonic() < deadline:
            if (code := self.process.poll()) is not None:
                why = f"node exited with status {code}"
                break
            try:
                if httpx2.get(discovery, timeout=1).status_code == 200:
                    return None
            except httpx2.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        return why

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


def new_browser() -> httpx2.Client:
    """A browser at the provider: it keeps the provider's cookies, follows no redirect."""
    return httpx2.Client(follow_redirects=False, timeout=15)


def _form_action(page: str, ending: str) -> str:
    match = re.search(rf'action="([^"]*/{ending})"', page)
    assert match is not None, f"no {ending} form on the provider's page:\n{page}"
    return match.group(1)


def start_provider(
    work_dir: Path, redirect_uris: Mapping[str, list[str]], *, host: str = "127.0.0.1"
) -> OpenIdProvider:
    """The provider, listening on 127.0.0.1; `host` is the name in its issuer URLs."""
    node = require_provider()
    work_dir.mkdir(parents=True, exist_ok=True)
    accounts_file = work_dir / "accounts.json"
    shutil.copyfile(ACCOUNTS, accounts_file)
    failures = []
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        with ports_held():
            provider = OpenIdProvider(
                base_url=f"http://{host}:{free_port()}",
                accounts_file=accounts_file,
                redirect_uris={name: list(redirect_uris[name]) for name in ISSUER_NAMES},
                client_secrets={name: secrets.token_urlsafe(32) for name in ISSUER_NAMES},
            )
            why = provider.start(node, work_dir)
        if why is None:
            return provider
        failures.append(f"attempt {attempt}: {why}")
    pytest.fail(
        "the test OpenID provider did not start:\n"
        + "\n".join(failures)
        + f"\nits output (all attempts):\n{provider.output()}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def openid_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    """The provider for in-process tests: it redirects back to Starlette's TestClient."""
    provider = start_provider(
        tmp_path_factory.mktemp("openid-provider"),
        {name: [f"http://testserver/oidc/{name}/callback"] for name in ISSUER_NAMES},
    )
    yield provider
    provider.stop()


@pytest.fixture
def idp(openid_provider: OpenIdProvider) -> Iterator[OpenIdProvider]:
    """The shared provider, with its accounts as in accounts.json again after the test."""
    yield openid_provider
    openid_provider.reset_accounts()
