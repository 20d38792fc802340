from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World, token_for
from tests.api.test_young_persons import person_body


def open_case(
    client: TestClient, headers: dict[str, str], programme: str = "SSPF"
) -> dict[str, Any]:
    person = client.post("/api/v1/young-persons", json=person_body(), headers=headers)
    assert person.status_code == 201, person.text
    response = client.post(
        "/api/v1/cases",
        json={"young_person_id": person.json()["id"], "programme": programme},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


def move(
    client: TestClient,
    headers: dict[str, str],
    case: dict[str, Any],
    target: str,
    outcome: str | None = None,
) -> Any:
    return client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"target": target, "version": case["version"], "outcome": outcome},
        headers=headers,
    )


class TestOpenCase:
    def test_opened_case_has_reference_and_appears_in_list(
        self, client: TestClient, world: World
    ) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        case = open_case(client, headers)
        assert case["reference"].startswith("SSPF-")
        assert case["state"] == "referred"
        listed = client.get("/api/v1/cases", headers=headers).json()
        assert [item["reference"] for item in listed["items"]] == [case["reference"]]
        assert listed["items"][0]["young_person"]["first_name"] == "Alva"

    def test_unknown_programme_is_named(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        person = client.post("/api/v1/young-persons", json=person_body(), headers=headers).json()
        response = client.post(
            "/api/v1/cases",
            json={"young_person_id": person["id"], "programme": "ABC"},
            headers=headers,
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "programme"


class TestTransitions:
    def test_legal_path_to_closed(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        case = move(client, headers, open_case(client, headers), "consent_pending").json()
        assert (case["state"], case["state_reason"]) == ("consent_pending", "manual")
        closed = move(client, headers, case, "closed", outcome="goals_met")
        assert closed.status_code == 200
        assert (closed.json()["state"], closed.json()["outcome"]) == ("closed", "goals_met")
        assert [(c["to_state"], c["reason"]) for c in closed.json()["history"]] == [
            ("referred", "opened"),
            ("consent_pending", "manual"),
            ("closed", "manual"),
        ]

    def test_active_by_hand_without_complete_consent_is_409_and_changes_nothing(
        self, client: TestClient, world: World
    ) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        case = move(client, headers, open_case(client, headers), "consent_pending").json()
        response = move(client, headers, case, "active")
        assert response.status_code == 409
        assert response.json()["error"] == "conflict"
        assert "samtycke" in response.json()["detail"]
        assert client.get(f"/api/v1/cases/{case['id']}", headers=headers).json() == case

    @pytest.mark.parametrize(
        ("path", "illegal"),
        [
            (["consent_pending"], "referred"),
            (["declined"], "active"),
            (["consent_pending"], "paused"),
        ],
    )
    def test_illegal_transition_is_409_and_changes_nothing(
        self, client: TestClient, world: World, path: list[str], illegal: str
    ) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        case = open_case(client, headers)
        for target in path:
            case = move(client, headers, case, target).json()
        response = move(client, headers, case, illegal)
        assert response.status_code == 409
        assert response.json()["error"] == "invalid_transition"
        assert client.get(f"/api/v1/cases/{case['id']}", headers=headers).json() == case

    def test_closed_to_active_is_refused(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        case = move(client, headers, open_case(client, headers), "closed", outcome="moved").json()
        response = move(client, headers, case, "active")
        assert response.status_code == 409
        after = client.get(f"/api/v1/cases/{case['id']}", headers=headers).json()
        assert (after["state"], after["version"]) == ("closed", case["version"])

    def test_stale_version_is_409(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        case = open_case(client, headers)
        assert move(client, headers, case, "consent_pending").status_code == 200
        stale = move(client, headers, case, "declined")
        assert stale.status_code == 409
        assert stale.json()["error"] == "stale_version"

    def test_closing_without_outcome_names_the_field(
        self, client: TestClient, world: World
    ) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        response = move(client, headers, open_case(client, headers), "closed")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "outcome"


class TestScope:
    @pytest.mark.parametrize("who", ["other_social_worker", "school_contact"])
    def test_out_of_scope_case_answers_exactly_like_a_missing_one(
        self, client: TestClient, world: World, who: str
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        headers = token_for(client, world.usernames[who])
        hidden = client.get(f"/api/v1/cases/{case['id']}", headers=headers)
        missing = client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=headers)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
        assert client.get("/api/v1/cases", headers=headers).json()["total"] == 0

    def test_other_unit_cannot_move_a_case_it_cannot_see(
        self, client: TestClient, world: World
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        headers = token_for(client, world.usernames["other_social_worker"])
        response = move(client, headers, case, "consent_pending")
        assert response.status_code == 404
        assert (
            response.json() == client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=headers).json()
        )

    @pytest.mark.parametrize("who", ["steering", "administrator", "auditor"])
    def test_roles_without_case_access_are_refused(
        self, client: TestClient, world: World, who: str
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        headers = token_for(client, world.usernames[who])
        assert client.get("/api/v1/cases", headers=headers).status_code == 403
        assert client.get(f"/api/v1/cases/{case['id']}", headers=headers).status_code == 403

    def test_coordinator_reads_every_unit(self, client: TestClient, world: World) -> None:
        case = open_case(client, token_for(client, world.usernames["other_social_worker"]))
        headers = token_for(client, world.usernames["coordinator"])
        assert client.get(f"/api/v1/cases/{case['id']}", headers=headers).status_code == 200
