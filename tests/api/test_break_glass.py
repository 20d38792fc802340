from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from common.clock import reset_clock, set_clock
from tests.api.conftest import World, token_for
from tests.api.test_cases import open_case
from tests.api.test_pages import log_in

REASON = "Akut oro: polisen larmar om hot mot den unga i kväll."


class TestBreakGlass:
    def test_grants_time_limited_read_only_access_flagged_for_the_auditor(
        self, client: TestClient, world: World
    ) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        other = token_for(client, world.usernames["other_social_worker"])
        assert client.get(f"/api/v1/cases/{case['id']}", headers=other).status_code == 404

        granted = client.post(
            "/api/v1/break-glass",
            json={"reference": case["reference"], "reason": REASON},
            headers=other,
        )
        assert granted.status_code == 201, granted.text
        grant = granted.json()
        read = client.get(f"/api/v1/cases/{case['id']}", headers=other)
        assert read.status_code == 200
        move = client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            headers=other,
            json={"target": "consent_pending", "version": read.json()["version"]},
        )
        assert move.status_code == 404  # read only

        auditor = token_for(client, world.usernames["auditor"])
        review = client.get("/api/v1/audit/break-glass", headers=auditor).json()
        assert [(r["reason"], r["case_reference"]) for r in review["items"]] == [
            (REASON, case["reference"])
        ]
        reads = client.get(
            "/api/v1/audit/events",
            params={"case_id": case["id"], "action": "case.read"},
            headers=auditor,
        ).json()["items"]
        assert {"kind": "break_glass", "grant_id": grant["grant_id"]} in [e["basis"] for e in reads]

        later = datetime.now(UTC) + timedelta(hours=2, minutes=1)
        set_clock(lambda: later)
        try:
            other_again = token_for(client, world.usernames["other_social_worker"])
            assert client.get(f"/api/v1/cases/{case['id']}", headers=other_again).status_code == 404
        finally:
            reset_clock()

    def test_reason_and_reference_are_required(self, client: TestClient, world: World) -> None:
        other = token_for(client, world.usernames["other_social_worker"])
        response = client.post(
            "/api/v1/break-glass",
            json={"reference": "SSPF-1999-0001", "reason": "kort"},
            headers=other,
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"reference", "reason"}

    def test_only_social_workers_may_break_glass(self, client: TestClient, world: World) -> None:
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        for who in ("school_contact", "auditor", "administrator", "steering"):
            headers = token_for(client, world.usernames[who])
            response = client.post(
                "/api/v1/break-glass",
                json={"reference": case["reference"], "reason": REASON},
                headers=headers,
            )
            assert response.status_code == 403, who

    def test_not_needed_for_a_case_already_in_scope(self, client: TestClient, world: World) -> None:
        owner = token_for(client, world.usernames["social_worker"])
        case = open_case(client, owner)
        response = client.post(
            "/api/v1/break-glass",
            json={"reference": case["reference"], "reason": REASON},
            headers=owner,
        )
        assert response.status_code == 409

    def test_the_break_glass_reader_opens_the_young_person_too(
        self, client: TestClient, world: World
    ) -> None:
        """Was a 500 (no basis for the read): now the grant is the basis, on page and API."""
        case = open_case(client, token_for(client, world.usernames["social_worker"]))
        person_id = case["young_person"]["id"]
        other = token_for(client, world.usernames["other_social_worker"])
        assert client.get(f"/api/v1/young-persons/{person_id}", headers=other).status_code == 404
        granted = client.post(
            "/api/v1/break-glass",
            json={"reference": case["reference"], "reason": REASON},
            headers=other,
        ).json()

        read = client.get(f"/api/v1/young-persons/{person_id}", headers=other)
        assert read.status_code == 200, read.text
        assert read.json()["personnummer"] is not None
        log_in(client, world.usernames["other_social_worker"])
        page = client.get(f"/unga/{person_id}")
        assert page.status_code == 200, page.text

        auditor = token_for(client, world.usernames["auditor"])
        reads = client.get(
            "/api/v1/audit/events",
            params={"action": "young_person.read"},
            headers=auditor,
        ).json()["items"]
        reader = client.get("/api/v1/auth/me", headers=other).json()["user_id"]
        assert [e["basis"] for e in reads if e["user_id"] == reader] == [
            {"kind": "break_glass", "grant_id": granted["grant_id"]}
        ] * 2
