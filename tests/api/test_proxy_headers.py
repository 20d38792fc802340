"""Whose address a login attempt is counted against, with `samsyn run`'s server settings.

uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise, so a client on the
same machine (or anything a local proxy passes the header through for) could pick the address
its failed logins count against. Only proxies in SAMSYN_TRUSTED_PROXIES are believed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import select

from api.cli import server_config
from api.main import create_app
from api.settings import Settings
from common.db import new_session
from common.keys import KeySet
from domain.users.models import LoginAttempt
from tests.api.conftest import World
from tests.openid_provider import free_port

STARTUP_TIMEOUT_S = 30.0
FORGED = "203.0.113.9"


@contextmanager
def serving(settings: Settings, engine: Engine, keys: KeySet) -> Iterator[str]:
    """The app behind uvicorn, configured as `samsyn run` configures it, on a thread."""
    app = create_app(
        settings,
        keys=keys,
        engine=engine,
        run_sequencer=False,
        run_consent_sweep=False,
        second_factor_required=False,
    )
    server = uvicorn.Server(server_config(app, settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT_S)


def failed_login_addresses(base: str, engine: Engine, username: str) -> list[str]:
    response = httpx2.post(
        f"{base}/api/v1/auth/token",
        data={"username": username, "password": "fel-lösenord-123"},
        headers={"X-Forwarded-For": FORGED},
        timeout=30,
    )
    assert response.status_code == 401
    with new_session(engine) as session:
        return [a.client_address for a in session.exec(select(LoginAttempt)).all()]


def test_by_default_no_proxy_is_believed(
    engine: Engine, keys: KeySet, tmp_path: Path, world: World
) -> None:
    settings = Settings(data_dir=tmp_path, port=free_port())
    with serving(settings, engine, keys) as base:
        addresses = failed_login_addresses(base, engine, world.usernames["auditor"])
    assert addresses == ["127.0.0.1"]  # the connection's peer, not the header


def test_a_configured_proxy_is_believed(
    engine: Engine, keys: KeySet, tmp_path: Path, world: World
) -> None:
    settings = Settings(
        data_dir=tmp_path, port=free_port(), trusted_proxies="10.0.0.0/8, 127.0.0.1"
    )
    assert settings.trusted_proxy_list == ["10.0.0.0/8", "127.0.0.1"]
    with serving(settings, engine, keys) as base:
        addresses = failed_login_addresses(base, engine, world.usernames["auditor"])
    assert addresses == [FORGED]


@pytest.mark.parametrize("value", ["*", "proxy.kommun.se", "10.0.0.0/33"])
def test_trusted_proxies_are_addresses_or_networks(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        Settings(data_dir=tmp_path, trusted_proxies=value)
