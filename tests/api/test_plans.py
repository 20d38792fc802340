"""The plan through the JSON API: English errors naming the field, 403/404/409 as the rules say,
and reads audited with the consent records that let them cross an agency line."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from common.clock import today
from tests.api.conftest import World, token_for
from tests.api.test_audit import integrate
from tests.api.test_consent_sharing import Case


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


def commit(case: Case, world: World, **fields: Any) -> dict[str, Any]:
    body = {"what": "Följa upp närvaron", "agency_id": str(world.school.id)}
    body |= {"due_on": str(today() + timedelta(days=7)), **fields}
    response = case.client.post(
        f"/api/v1/cases/{case.id}/commitments", json=body, headers=case.owner
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def patch(case: Case, commitment: dict[str, Any], who: dict[str, str], **body: Any) -> Any:
    return case.client.patch(
        f"/api/v1/cases/{case.id}/commitments/{commitment['id']}", json=body, headers=who
    )


class TestAddCommitment:
    def test_bad_input_names_each_field_in_english_and_stores_nothing(
        self, case: Case, world: World
    ) -> None:
        response = case.client.post(
            f"/api/v1/cases/{case.id}/commitments",
            headers=case.owner,
            json={
                "what": "  ",
                "agency_id": str(world.other_unit.id),
                "person_user_id": case.owner_user,
                "due_on": str(today()),
            },
        )
        assert response.status_code == 422
        errors = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert set(errors) == {"what", "agency_id", "person_user_id"}
        assert "must not be empty" in errors["what"]
        assert "agency" in errors["agency_id"]
        not_a_date = case.client.post(
            f"/api/v1/cases/{case.id}/commitments",
            headers=case.owner,
            json={"what": "x", "agency_id": str(world.school.id), "due_on": "next week"},
        )
        assert not_a_date.status_code == 422
        assert [e["field"] for e in not_a_date.json()["errors"]] == ["due_on"]
        plan = case.client.get(f"/api/v1/cases/{case.id}/plan", headers=case.owner).json()
        assert plan["commitments"] == []

    def test_partner_may_not_add_to_the_plan(self, case: Case, world: World) -> None:
        case.all_sign(categories=["basic", "plan"])
        response = case.client.post(
            f"/api/v1/cases/{case.id}/goals", json={"text": "Mål"}, headers=case.partner
        )
        assert response.status_code == 403


class TestReadPlan:
    def test_partner_sees_goals_only_with_plan_in_consent(self, case: Case, world: World) -> None:
        case.client.post(f"/api/v1/cases/{case.id}/goals", json={"text": "Mål"}, headers=case.owner)
        made = commit(case, world)
        records = case.all_sign()  # basic and school: not plan
        plan = case.client.get(f"/api/v1/cases/{case.id}/plan", headers=case.partner).json()
        assert plan["goals"] == []
        assert [c["id"] for c in plan["commitments"]] == [made["id"]]  # the school's own
        assert plan["commitments"][0]["updatable"] is True
        case.client.post(f"/api/v1/consents/{records[0]['id']}/withdrawal", headers=case.owner)
        hidden = case.client.get(f"/api/v1/cases/{case.id}/plan", headers=case.partner)
        assert hidden.status_code == 404
        assert (
            hidden.json()
            == case.client.get(f"/api/v1/cases/{uuid.uuid4()}/plan", headers=case.partner).json()
        )

    def test_read_is_audited_with_the_consent_records(
        self, case: Case, world: World, app: FastAPI, engine: Engine
    ) -> None:
        records = case.all_sign(categories=["basic", "plan"])
        case.client.get(f"/api/v1/cases/{case.id}/plan", headers=case.partner)
        integrate(app, engine)
        auditor = token_for(case.client, world.usernames["auditor"])
        events = case.client.get(
            "/api/v1/audit/events", params={"action": "plan.read"}, headers=auditor
        ).json()["items"]
        [event] = events
        assert event["basis"]["kind"] == "consent"
        assert set(event["basis"]["consent_records"]) == {r["id"] for r in records}


class TestUpdateCommitment:
    def test_school_completes_its_commitment_and_a_second_time_is_409(
        self, case: Case, world: World
    ) -> None:
        made = commit(case, world)
        case.all_sign()
        done = patch(case, made, case.partner, version=1, status="done", comment="Klart")
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["version"]) == ("done", 2)
        again = patch(case, made, case.partner, version=2, status="done")
        assert again.status_code == 409
        assert again.json()["error"] == "invalid_transition"

    def test_stale_version_is_409_with_the_current_version(self, case: Case, world: World) -> None:
        made = commit(case, world)
        moved = patch(case, made, case.owner, version=1, due_on=str(today() + timedelta(days=9)))
        assert moved.status_code == 200
        stale = patch(case, made, case.owner, version=1, comment="Sen")
        assert stale.status_code == 409
        assert stale.json()["current_version"] == 2
        assert stale.json()["detail"].startswith("The record changed")

    def test_owning_units_commitment_is_403_for_a_partner_who_sees_it(
        self, case: Case, world: World
    ) -> None:
        made = commit(case, world, agency_id=str(world.unit.id))
        case.all_sign(categories=["basic", "plan"])
        refused = patch(case, made, case.partner, version=1, status="done")
        assert refused.status_code == 403
        assert "committing agency" in refused.json()["detail"]
        plan = case.client.get(f"/api/v1/cases/{case.id}/plan", headers=case.owner).json()
        assert plan["commitments"][0]["status"] == "open"

    def test_and_404_for_a_partner_who_does_not(self, case: Case, world: World) -> None:
        made = commit(case, world, agency_id=str(world.unit.id))
        case.all_sign()  # no plan category
        refused = patch(case, made, case.partner, version=1, status="done")
        assert refused.status_code == 404

    def test_manager_clears_the_named_person_with_null(self, case: Case, world: World) -> None:
        made = commit(case, world, person_user_id=case.school_user)
        assert made["person_name"]
        cleared = patch(case, made, case.owner, version=1, person_user_id=None)
        assert cleared.status_code == 200
        assert (cleared.json()["person_user_id"], cleared.json()["person_name"]) == (None, None)


class TestOverdue:
    def test_overdue_list_flags_and_pages(self, case: Case, world: World) -> None:
        late = commit(case, world, due_on=str(today() - timedelta(days=2)))
        commit(case, world)
        coordinator = token_for(case.client, world.usernames["coordinator"])
        listed = case.client.get("/api/v1/overdue-commitments", headers=coordinator).json()
        assert [(c["id"], c["overdue"]) for c in listed["items"]] == [(late["id"], True)]
        assert listed["total"] == 1
        plan = case.client.get(f"/api/v1/cases/{case.id}/plan", headers=case.owner).json()
        assert sorted(c["overdue"] for c in plan["commitments"]) == [False, True]
        steering = token_for(case.client, world.usernames["steering"])
        assert case.client.get("/api/v1/overdue-commitments", headers=steering).status_code == 403
