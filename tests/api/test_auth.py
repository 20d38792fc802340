from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from common.clock import reset_clock, set_clock
from common.db import new_session
from tests.api.conftest import World, token_for


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
