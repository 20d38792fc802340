"""TOTP as a user meets it: enrolment during login, the second step, API tokens, lockout,
replay, the account page, reset. The app runs with the production rule: required."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.main import create_app
from api.settings import Settings
from common.clock import reset_clock, set_clock, utcnow
from common.db import new_session
from common.keys import KeySet
from domain.auth import service as auth
from domain.auth import totp
from domain.users.repository import UserRepository
from tests.api.conftest import World
from tests.api.test_pages import csrf_from
from tests.builders import PASSWORD

_SECRET = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')


@pytest.fixture
def app(engine: Engine, keys: KeySet, tmp_path: Path) -> FastAPI:
    return create_app(
        Settings(data_dir=tmp_path),
        keys=keys,
        engine=engine,
        run_sequencer=False,
        run_consent_sweep=False,
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def code_now(secret: str, steps_ahead: int = 0) -> str:
    return totp.code_at(secret, totp.step_at(utcnow()) + steps_ahead)


def enrol(engine: Engine, username: str) -> str:
    with new_session(engine) as session:
        user = UserRepository(session).by_username(username)
        assert user is not None
        secret = auth.begin_enrolment(session, user)
        # A step before now: the tests' own logins may then use the current step's code.
        assert auth.confirm_enrolment(session, user, code_now(secret, -1))
        session.commit()
    return secret


def password_step(client: TestClient, username: str, nasta: str = "/arenden") -> str:
    """Post the password; return where the login continues."""
    page = client.get("/logga-in")
    response = client.post(
        "/logga-in",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
            "nasta": nasta,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def post_code(client: TestClient, path: str, code: str, nasta: str = "/arenden") -> Response:
    page = client.get(path.split("?")[0] if path.startswith("/konto") else "/logga-in")
    return client.post(
        path,
        data={"code": code, "csrf_token": csrf_from(page.text), "nasta": nasta},
        follow_redirects=False,
    )


class TestEnrolmentDuringLogin:
    def test_a_contact_person_without_an_app_must_enrol_before_any_session(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        location = password_step(client, world.usernames["school_contact"])
        assert location.startswith("/logga-in/aktivera")
        assert "samsyn_session" not in client.cookies
        # The password alone opens nothing.
        assert client.get("/arenden", follow_redirects=False).status_code == 303

        intro = client.get(location)
        assert intro.status_code == 200
        assert "Visa QR-kod" in intro.text
        assert _SECRET.search(intro.text) is None

        shown = client.post(
            "/logga-in/aktivera/ny",
            data={"csrf_token": csrf_from(intro.text), "nasta": "/arenden"},
        )
        assert shown.status_code == 200
        assert 'src="data:image/svg+xml' in shown.text
        match = _SECRET.search(shown.text)
        assert match is not None
        secret = match.group(1).replace(" ", "")

        wrong = client.post(
            "/logga-in/aktivera",
            data={"code": "000000", "csrf_token": csrf_from(shown.text), "nasta": "/arenden"},
            follow_redirects=False,
        )
        if code_now(secret) != "000000":
            assert wrong.status_code == 400
            assert "Koden stämmer inte" in wrong.text
            assert _SECRET.search(wrong.text) is None  # shown once, not again

        done = client.post(
            "/logga-in/aktivera",
            data={"code": code_now(secret), "csrf_token": csrf_from(wrong.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert "samsyn_session" in client.cookies
        assert client.get("/arenden").status_code == 200

        with new_session(engine) as session:
            user = UserRepository(session).by_username(world.usernames["school_contact"])
            assert user is not None
            assert user.totp_enabled_at is not None
            stored = (
                session.execute(
                    text("SELECT totp_secret FROM app_user WHERE totp_secret IS NOT NULL")
                )
                .scalars()
                .all()
            )
        # Stored encrypted with the field key ring: the database never holds the secret.
        assert len(stored) == 1
        assert stored[0].startswith("v2.")
        assert secret not in stored[0]

    def test_roles_without_case_data_log_in_with_the_password(
        self, client: TestClient, world: World
    ) -> None:
        assert password_step(client, world.usernames["steering"], nasta="/start") == "/start"
        assert "samsyn_session" in client.cookies

    def test_the_pending_login_is_no_session(self, client: TestClient, world: World) -> None:
        password_step(client, world.usernames["social_worker"])
        pending = client.cookies.get("samsyn_pending")
        assert pending
        client.cookies.set("samsyn_session", pending)
        assert client.get("/arenden", follow_redirects=False).status_code == 303

    def test_the_pending_login_expires(self, client: TestClient, world: World) -> None:
        location = password_step(client, world.usernames["social_worker"])
        later = utcnow() + auth.PENDING_LIFETIME + timedelta(seconds=1)
        set_clock(lambda: later)
        try:
            response = client.get(location, follow_redirects=False)
        finally:
            reset_clock()
        assert response.status_code == 303
        assert response.headers["location"].startswith("/logga-in")


class TestSecondStep:
    def test_an_enrolled_user_needs_the_code(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        secret = enrol(engine, world.usernames["coordinator"])
        location = password_step(client, world.usernames["coordinator"])
        assert location.startswith("/logga-in/kod")
        assert "samsyn_session" not in client.cookies
        page = client.get(location)
        assert page.status_code == 200
        assert 'autocomplete="one-time-code"' in page.text

        response = post_code(client, "/logga-in/kod", code_now(secret))
        assert response.status_code == 303
        assert response.headers["location"] == "/arenden"
        assert client.get("/arenden").status_code == 200

    def test_a_code_works_once(self, client: TestClient, world: World, engine: Engine) -> None:
        secret = enrol(engine, world.usernames["coordinator"])
        code = code_now(secret)
        password_step(client, world.usernames["coordinator"])
        assert post_code(client, "/logga-in/kod", code).status_code == 303
        client.cookies.clear()
        password_step(client, world.usernames["coordinator"])
        replay = post_code(client, "/logga-in/kod", code)
        assert replay.status_code == 401
        assert "redan använd" in replay.text

    def test_guessing_codes_meets_the_lockout(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        secret = enrol(engine, world.usernames["coordinator"])
        wrong = next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in _window(secret))
        password_step(client, world.usernames["coordinator"])
        statuses = []
        for _ in range(6):
            statuses.append(post_code(client, "/logga-in/kod", wrong).status_code)
            if statuses[-1] == 429:
                break
        assert 429 in statuses
        # Locked: even the right code is refused now, and the half-done login is gone.
        assert "samsyn_pending" not in client.cookies
        response = post_code(client, "/logga-in/kod", code_now(secret))
        assert response.status_code == 303
        assert response.headers["location"].startswith("/logga-in")
        assert "samsyn_session" not in client.cookies


def _window(secret: str) -> set[str]:
    return {code_now(secret, offset) for offset in range(-2, 3)}


class TestApiTokens:
    def token(self, client: TestClient, username: str, code: str | None = None) -> Response:
        data = {"username": username, "password": PASSWORD}
        if code is not None:
            data["totp_code"] = code
        return client.post("/api/v1/auth/token", data=data)

    def test_an_account_that_must_enrol_gets_no_token(
        self, client: TestClient, world: World
    ) -> None:
        response = self.token(client, world.usernames["school_contact"])
        assert response.status_code == 403
        assert response.json()["error"] == "enrolment_required"

    def test_an_enrolled_account_sends_the_code(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        secret = enrol(engine, world.usernames["social_worker"])
        missing = self.token(client, world.usernames["social_worker"])
        assert missing.status_code == 401
        assert missing.json()["error"] == "second_factor_required"
        ok = self.token(client, world.usernames["social_worker"], code_now(secret))
        assert ok.status_code == 200
        headers = {"Authorization": f"Bearer {ok.json()['access_token']}"}
        assert client.get("/api/v1/cases", headers=headers).status_code == 200
        replay = self.token(client, world.usernames["social_worker"], code_now(secret))
        assert replay.status_code == 401

    def test_a_wrong_password_with_a_right_code_is_refused(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        secret = enrol(engine, world.usernames["social_worker"])
        response = client.post(
            "/api/v1/auth/token",
            data={
                "username": world.usernames["social_worker"],
                "password": "wrong-password-123",
                "totp_code": code_now(secret),
            },
        )
        assert response.status_code == 401
        assert response.json()["error"] == "unauthenticated"


class TestAccountPage:
    def test_a_user_enrols_from_the_account_page_and_then_needs_the_code(
        self, client: TestClient, world: World
    ) -> None:
        password_step(client, world.usernames["steering"], nasta="/start")
        start = client.get("/start")
        assert "Aktivera tvåstegsverifiering" in start.text
        page = client.get("/konto/tvastegsverifiering")
        shown = client.post(
            "/konto/tvastegsverifiering/ny", data={"csrf_token": csrf_from(page.text)}
        )
        match = _SECRET.search(shown.text)
        assert match is not None
        secret = match.group(1).replace(" ", "")
        done = client.post(
            "/konto/tvastegsverifiering",
            data={"code": code_now(secret), "csrf_token": csrf_from(shown.text)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        status = client.get(done.headers["location"])
        assert "är aktiverad" in status.text
        assert _SECRET.search(status.text) is None
        # Enrolled once, the page will not make a new secret.
        again = client.post(
            "/konto/tvastegsverifiering/ny", data={"csrf_token": csrf_from(status.text)}
        )
        assert again.status_code == 409

        client.cookies.clear()
        assert password_step(client, world.usernames["steering"]).startswith("/logga-in/kod")


class TestReset:
    def test_reset_ends_sessions_and_requires_enrolment_again(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        secret = enrol(engine, world.usernames["coordinator"])
        password_step(client, world.usernames["coordinator"])
        post_code(client, "/logga-in/kod", code_now(secret))
        assert client.get("/arenden").status_code == 200
        with new_session(engine) as session:
            auth.reset_second_factor(session, username=world.usernames["coordinator"])
            session.commit()
        assert client.get("/arenden", follow_redirects=False).status_code == 303
        client.cookies.clear()
        location = password_step(client, world.usernames["coordinator"])
        assert location.startswith("/logga-in/aktivera")


class TestSettings:
    def test_only_the_demo_may_switch_totp_off(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="only in the demo"):
            Settings(data_dir=tmp_path, totp_required=False)
        assert Settings(data_dir=tmp_path).second_factor_required is True
        assert Settings(data_dir=tmp_path, demo=True).second_factor_required is False
        assert (
            Settings(data_dir=tmp_path, demo=True, totp_required=True).second_factor_required
            is True
        )
