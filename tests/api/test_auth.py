from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from common.clock import reset_clock, set_clock
from common.db import new_session
from domain.auth import passwords
from domain.users.models import User
from tests.api.conftest import World, token_for
from tests.builders import PASSWORD


def _login_events(engine: Engine) -> list[tuple[str, str]]:
    with new_session(engine) as session:
        rows = session.execute(
            text(
                "SELECT action, outcome FROM audit_event"
                " WHERE action LIKE 'auth.%' ORDER BY occurred_at"
            )
        )
        return [(row[0], row[1]) for row in rows]


class TestToken:
    def test_token_identifies_the_user(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        me = client.get("/api/v1/auth/me", headers=headers).json()
        assert (me["username"], me["roles"], me["agency_kind"]) == (
            "social-worker",
            ["social_worker"],
            "social_services",
        )

    def test_wrong_password_is_401_and_the_attempt_is_audited(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        response = client.post(
            "/api/v1/auth/token",
            data={"username": world.usernames["auditor"], "password": "fel-lösenord-123"},
        )
        assert response.status_code == 401
        assert response.json()["error"] == "unauthenticated"
        unknown = client.post(
            "/api/v1/auth/token", data={"username": "ingen-sadan", "password": "x"}
        )
        assert unknown.json() == response.json()
        assert _login_events(engine) == [("auth.login", "denied"), ("auth.login", "denied")]

    def test_logout_revokes_the_token(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401

    def test_token_expires_when_idle(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        later = datetime.now(UTC) + timedelta(minutes=16)
        set_clock(lambda: later)
        try:
            assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
        finally:
            reset_clock()

    def test_garbage_token_is_401(self, client: TestClient, world: World) -> None:
        response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"})
        assert response.status_code == 401


def _at(moment: datetime) -> None:
    set_clock(lambda: moment)


class TestLockout:
    def _try(self, client: TestClient, username: str, password: str) -> Any:
        return client.post("/api/v1/auth/token", data={"username": username, "password": password})

    def test_backoff_then_lockout_then_recovery(self, client: TestClient, world: World) -> None:
        name = world.usernames["social_worker"]
        start = datetime.now(UTC)
        try:
            for minute in range(5):  # spaced out: backoff never bites, the count still grows
                _at(start + timedelta(minutes=minute))
                assert self._try(client, name, "fel-lösenord").status_code == 401
            _at(start + timedelta(minutes=5))
            locked = self._try(client, name, PASSWORD)  # the right password does not help now
            assert locked.status_code == 429
            assert int(locked.headers["retry-after"]) > 60
            _at(start + timedelta(minutes=4 + 16))
            assert self._try(client, name, PASSWORD).status_code == 200
        finally:
            reset_clock()

    def test_quick_retries_are_slowed_down(self, client: TestClient, world: World) -> None:
        name = world.usernames["auditor"]
        for _ in range(3):
            self._try(client, name, "fel-lösenord")
        assert self._try(client, name, PASSWORD).status_code == 429

    def test_unknown_names_lock_like_real_ones(self, client: TestClient) -> None:
        for _ in range(3):
            assert self._try(client, "finns-inte", "x").status_code == 401
        assert self._try(client, "finns-inte", "x").status_code == 429

    def test_an_address_trying_many_names_is_locked(self, client: TestClient, world: World) -> None:
        start = datetime.now(UTC)
        try:
            for number in range(20):
                _at(start + timedelta(seconds=number))
                self._try(client, f"gissning{number}", "x")
            set_clock(lambda: start + timedelta(seconds=21))
            assert self._try(client, world.usernames["coordinator"], PASSWORD).status_code == 429
        finally:
            reset_clock()


class TestLogoutEverywhere:
    def test_ends_every_session_of_the_account(self, client: TestClient, world: World) -> None:
        first = token_for(client, world.usernames["social_worker"])
        second = token_for(client, world.usernames["social_worker"])
        other = token_for(client, world.usernames["coordinator"])
        assert client.post("/api/v1/auth/logout-everywhere", headers=first).status_code == 204
        assert client.get("/api/v1/auth/me", headers=first).status_code == 401
        assert client.get("/api/v1/auth/me", headers=second).status_code == 401
        assert client.get("/api/v1/auth/me", headers=other).status_code == 200


class TestRehashOnLogin:
    """A hash made with weaker parameters than today's default is replaced at login. The
    parameters are explicit here: the tests' default is cheap (tests/conftest.py)."""

    OLD = passwords.ScryptParams(n=2**10, r=8, p=1)
    NEW = passwords.ScryptParams(n=2**11, r=8, p=1)

    def _store(self, engine: Engine, username: str, params: passwords.ScryptParams) -> str:
        stored = passwords.hash_password(PASSWORD, params)
        with new_session(engine) as session:
            user = session.exec(select(User).where(User.username == username)).one()
            user.password_hash = stored
            session.add(user)
            session.commit()
        return stored

    def _stored(self, engine: Engine, username: str) -> str:
        with new_session(engine) as session:
            user = session.exec(select(User).where(User.username == username)).one()
            assert user.password_hash is not None
            return user.password_hash

    def test_a_weaker_hash_is_replaced(
        self, client: TestClient, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        name = world.usernames["social_worker"]
        old = self._store(engine, name, self.OLD)
        monkeypatch.setattr(passwords, "DEFAULT_PARAMS", self.NEW)
        token_for(client, name)
        new = self._stored(engine, name)
        assert new != old
        assert new.startswith("scrypt$2048$8$1$")
        assert passwords.verify_password(PASSWORD, new)
        token_for(client, name)  # the new hash logs in; it is not replaced again
        assert self._stored(engine, name) == new

    def test_a_wrong_password_changes_nothing(
        self, client: TestClient, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        name = world.usernames["social_worker"]
        old = self._store(engine, name, self.OLD)
        monkeypatch.setattr(passwords, "DEFAULT_PARAMS", self.NEW)
        response = client.post(
            "/api/v1/auth/token", data={"username": name, "password": "fel-lösenord-123"}
        )
        assert response.status_code == 401
        assert self._stored(engine, name) == old

    def test_a_stronger_hash_is_kept(
        self, client: TestClient, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        name = world.usernames["social_worker"]
        strong = self._store(engine, name, passwords.ScryptParams(n=2**12, r=8, p=1))
        monkeypatch.setattr(passwords, "DEFAULT_PARAMS", self.NEW)
        token_for(client, name)
        assert self._stored(engine, name) == strong
