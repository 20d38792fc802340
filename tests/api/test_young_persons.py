from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import World, token_for
from tests.builders import valid_personnummer


def person_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "personnummer": valid_personnummer(),
        "first_name": "Alva",
        "last_name": "Påhittadsson",
        "gender": "female",
        "home_area": "Norra Demo",
        "guardians": [{"name": "Anna Påhittadsson", "has_custody": True, "phone": "070-000 00 00"}],
    }
    body.update(overrides)
    return body


class TestRegister:
    def test_social_worker_registers_and_reads_back(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        body = person_body()
        created = client.post("/api/v1/young-persons", json=body, headers=headers)
        assert created.status_code == 201, created.text
        person = created.json()
        assert person["personnummer"] == body["personnummer"].replace("-", "")
        assert person["guardians"][0]["name"] == "Anna Påhittadsson"
        assert created.headers["cache-control"] == "no-store"
        again = client.get(f"/api/v1/young-persons/{person['id']}", headers=headers)
        assert again.json() == person

    def test_wrong_check_digit_names_the_field_and_stores_nothing(
        self, client: TestClient, world: World
    ) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        good = valid_personnummer()
        bad = good[:-1] + str((int(good[-1]) + 1) % 10)
        response = client.post(
            "/api/v1/young-persons", json=person_body(personnummer=bad), headers=headers
        )
        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "validation_failed"
        assert [e["field"] for e in body["errors"]] == ["personnummer"]
        assert "Kontrollsiffran" in body["errors"][0]["message"]
        # nothing stored: the valid number can still be registered once
        assert (
            client.post(
                "/api/v1/young-persons", json=person_body(personnummer=good), headers=headers
            ).status_code
            == 201
        )

    def test_impossible_date_names_the_field(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        response = client.post(
            "/api/v1/young-persons", json=person_body(personnummer="20110231-1236"), headers=headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "personnummer"

    def test_missing_field_is_named(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        body = person_body()
        del body["first_name"]
        response = client.post("/api/v1/young-persons", json=body, headers=headers)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["first_name"]

    def test_contact_person_may_not_register(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["school_contact"])
        response = client.post("/api/v1/young-persons", json=person_body(), headers=headers)
        assert response.status_code == 403

    def test_without_token_is_401(self, client: TestClient, world: World) -> None:
        response = client.post("/api/v1/young-persons", json=person_body())
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


class TestRead:
    def test_other_unit_gets_the_same_404_as_a_random_id(
        self, client: TestClient, world: World
    ) -> None:
        owner = token_for(client, world.usernames["social_worker"])
        person_id = client.post("/api/v1/young-persons", json=person_body(), headers=owner).json()[
            "id"
        ]
        stranger = token_for(client, world.usernames["other_social_worker"])
        hidden = client.get(f"/api/v1/young-persons/{person_id}", headers=stranger)
        missing = client.get(f"/api/v1/young-persons/{uuid.uuid4()}", headers=stranger)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
