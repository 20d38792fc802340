"""The administrator's JSON API (issue 15): the same domain functions as the pages."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.api.conftest import World, token_for
from tests.api.test_admin_pages import agency_named, events, user_named

STRONG = "ett-langt-losenord-2026"


@pytest.fixture
def admin(client: TestClient, world: World) -> dict[str, str]:
    return token_for(client, world.usernames["administrator"])


class TestAgencies:
    def test_create_list_update_and_deactivate(
        self, client: TestClient, admin: dict[str, str], engine: Engine
    ) -> None:
        created = client.post(
            "/api/v1/admin/agencies",
            json={"name": "Polisen Prov", "kind": "police", "area": "Centrum"},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["kind"], body["area"], body["active"], body["version"]) == (
            "police",
            "Centrum",
            True,
            1,
        )
        listed = client.get("/api/v1/admin/agencies", headers=admin).json()["items"]
        assert "Polisen Prov" in [a["name"] for a in listed]
        url = f"/api/v1/admin/agencies/{body['id']}"
        renamed = client.patch(
            url, json={"name": "Polisen Norr", "kind": "police", "version": 1}, headers=admin
        )
        assert renamed.status_code == 200, renamed.text
        assert (renamed.json()["name"], renamed.json()["area"], renamed.json()["version"]) == (
            "Polisen Norr",
            None,
            2,
        )
        stale = client.patch(
            url, json={"name": "Polisen Syd", "kind": "police", "version": 1}, headers=admin
        )
        assert stale.status_code == 409
        assert stale.json()["current_version"] == 2
        off = client.post(f"{url}/activation", json={"active": False, "version": 2}, headers=admin)
        assert (off.status_code, off.json()["active"]) == (200, False)
        assert agency_named(engine, "Polisen Syd") is None
        for action in ("create", "update", "deactivate"):
            assert [e.basis["kind"] for e in events(engine, f"config.agency.{action}")][-1] == (
                "configuration"
            )

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": " ", "kind": "school"}, "name"),
            ({"name": "x" * 201, "kind": "school"}, "name"),
            ({"name": "Skola", "kind": "bank"}, "kind"),
        ],
    )
    def test_bad_input_is_422_naming_the_field(
        self,
        client: TestClient,
        admin: dict[str, str],
        engine: Engine,
        body: dict[str, str],
        field: str,
    ) -> None:
        response = client.post("/api/v1/admin/agencies", json=body, headers=admin)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == [field]
        assert agency_named(engine, "Skola") is None

    def test_a_taken_name_is_409(
        self, client: TestClient, admin: dict[str, str], world: World
    ) -> None:
        response = client.post(
            "/api/v1/admin/agencies",
            json={"name": world.school.name, "kind": "school"},
            headers=admin,
        )
        assert response.status_code == 409


class TestUsers:
    def test_create_update_unlock_reset_and_disable(
        self, client: TestClient, admin: dict[str, str], engine: Engine, world: World
    ) -> None:
        created = client.post(
            "/api/v1/admin/users",
            json={
                "username": "polis.prov",
                "display_name": "Polis Prov",
                "agency_id": str(world.school.id),
                "roles": ["contact_person"],
                "password": STRONG,
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        user = created.json()
        assert (user["agency_name"], user["last_login_at"], user["locked_until"]) == (
            world.school.name,
            None,
            None,
        )
        url = f"/api/v1/admin/users/{user['id']}"
        changed = client.patch(
            url,
            json={
                "agency_id": str(world.unit.id),
                "roles": ["coordinator"],
                "programmes": ["SSPF"],
                "version": 1,
            },
            headers=admin,
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["roles"], changed.json()["programmes"]) == (
            ["coordinator"],
            ["SSPF"],
        )
        assert client.post(f"{url}/unlock", json={"version": 1}, headers=admin).status_code == 409
        assert client.post(f"{url}/unlock", json={"version": 2}, headers=admin).status_code == 200
        reset = client.post(f"{url}/second-factor-reset", json={"version": 3}, headers=admin)
        assert (reset.status_code, reset.json()["second_factor_enrolled"]) == (200, False)
        off = client.post(f"{url}/activation", json={"active": False, "version": 4}, headers=admin)
        assert (off.status_code, off.json()["active"], off.json()["version"]) == (200, False, 5)
        for action in ("create", "update", "unlock", "reset_second_factor", "disable"):
            assert events(engine, f"config.user.{action}"), action

    def test_bad_roles_are_422_and_nothing_is_stored(
        self, client: TestClient, admin: dict[str, str], engine: Engine, world: World
    ) -> None:
        response = client.post(
            "/api/v1/admin/users",
            json={
                "username": "skola.prov",
                "display_name": "Skola Prov",
                "agency_id": str(world.school.id),
                "roles": ["social_worker"],
            },
            headers=admin,
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["roles"]
        assert user_named(engine, "skola.prov") is None

    def test_missing_user_is_404(self, client: TestClient, admin: dict[str, str]) -> None:
        response = client.get(f"/api/v1/admin/users/{uuid.uuid4()}", headers=admin)
        assert response.status_code == 404


@pytest.mark.parametrize("who", ["social_worker", "auditor", "steering"])
def test_other_roles_get_403(client: TestClient, world: World, engine: Engine, who: str) -> None:
    headers = token_for(client, world.usernames[who])
    assert client.get("/api/v1/admin/users", headers=headers).status_code == 403
    response = client.post(
        "/api/v1/admin/agencies", json={"name": "Intrång", "kind": "other"}, headers=headers
    )
    assert response.status_code == 403
    assert agency_named(engine, "Intrång") is None
