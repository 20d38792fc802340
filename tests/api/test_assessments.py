"""Cylinder-model assessments through the JSON API: bad input named in English with nothing
stored, the partner's view with and without `risk` in the consent and after a withdrawal,
immutability, configuration changes that never rewrite history, audited reads, and the
rationale encrypted at rest."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from common.clock import today
from consent.guard import unscoped
from tests.api.conftest import World, token_for
from tests.api.test_audit import integrate
from tests.api.test_authorization_matrix import final_minutes
from tests.api.test_consent_sharing import Case

SECRET = "Hemlig motivering om den unga"


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


def url(case: Case) -> str:
    return f"/api/v1/cases/{case.id}/assessments"


def factors(case: Case) -> dict[str, list[dict[str, Any]]]:
    rows = case.client.get("/api/v1/assessment-factors", headers=case.owner).json()
    return {kind: [r for r in rows if r["kind"] == kind] for kind in ("risk", "protective")}


def record(case: Case, **fields: Any) -> Any:
    body = {
        "level_code": "D",
        "rationale": SECRET,
        "participant_user_ids": [case.owner_user],
        "assessed_on": str(today()),
        **fields,
    }
    return case.client.post(url(case), json=body, headers=case.owner)


def made(case: Case, **fields: Any) -> dict[str, Any]:
    response = record(case, **fields)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def admin(case: Case, world: World) -> dict[str, str]:
    return token_for(case.client, world.usernames["administrator"])


class TestConfiguration:
    def test_the_default_set_is_shipped_and_marked_as_such(self, case: Case) -> None:
        levels = case.client.get("/api/v1/cylinder-levels", headers=case.partner).json()
        assert [level["code"] for level in levels] == ["0", "D", "C", "B", "A"]
        assert levels[0]["wording"] == "Ingen känd risk"
        assert all(level["is_default"] for level in levels)
        found = factors(case)
        assert len(found["risk"]) == 12
        assert len(found["protective"]) == 7
        assert "Hög skolfrånvaro" in {f["text"] for f in found["risk"]}

    def test_only_the_administrator_configures(self, case: Case) -> None:
        response = case.client.put(
            "/api/v1/cylinder-levels/A", json={"wording": "x", "rank": 4}, headers=case.owner
        )
        assert response.status_code == 403

    def test_renaming_a_level_keeps_the_wording_old_assessments_were_made_with(
        self, case: Case, world: World
    ) -> None:
        case.all_sign(categories=["basic", "risk"])
        old = made(case, level_code="A")
        levels = {
            r["code"]: r
            for r in case.client.get("/api/v1/cylinder-levels", headers=case.owner).json()
        }
        renamed = case.client.put(
            "/api/v1/cylinder-levels/A",
            json={"wording": "Kommunens egen formulering för A", "rank": 4, "version": 1},
            headers=admin(case, world),
        )
        assert renamed.status_code == 200, renamed.text
        assert (renamed.json()["version"], renamed.json()["is_default"]) == (2, False)
        assert levels["A"]["wording"] != renamed.json()["wording"]
        stale = case.client.put(
            "/api/v1/cylinder-levels/A",
            json={"wording": "Ännu en", "rank": 4, "version": 1},
            headers=admin(case, world),
        )
        assert stale.status_code == 409
        new = made(case, level_code="A")
        listed = case.client.get(url(case), headers=case.partner).json()["items"]
        assert [i["level"]["wording"] for i in listed] == [
            levels["A"]["wording"],
            "Kommunens egen formulering för A",
        ]
        assert [i["id"] for i in listed] == [old["id"], new["id"]]

    def test_a_retired_level_or_factor_cannot_be_chosen_but_history_keeps_it(
        self, case: Case, world: World
    ) -> None:
        risk = factors(case)["risk"][0]
        old = made(case, level_code="C", factor_ids=[risk["id"]])
        token = admin(case, world)
        retired = case.client.post(
            "/api/v1/cylinder-levels/C/retirement", json={"version": 1}, headers=token
        )
        assert retired.status_code == 200
        assert retired.json()["retired"] is True
        gone = case.client.post(
            f"/api/v1/assessment-factors/{risk['id']}/retirement",
            json={"version": 1},
            headers=token,
        )
        assert gone.status_code == 200
        codes = [
            r["code"] for r in case.client.get("/api/v1/cylinder-levels", headers=case.owner).json()
        ]
        assert "C" not in codes
        assert risk["id"] not in {f["id"] for f in factors(case)["risk"]}
        assert record(case, level_code="C").json()["errors"][0]["field"] == "level_code"
        refused = record(case, factor_ids=[risk["id"]])
        assert [e["field"] for e in refused.json()["errors"]] == ["factor_ids"]
        kept = case.client.get(f"{url(case)}/{old['id']}", headers=case.owner).json()
        assert kept["level"]["code"] == "C"
        assert kept["risk_factors"] == [{"id": risk["id"], "kind": "risk", "text": risk["text"]}]

    def test_factors_are_added_and_renamed_with_their_version(
        self, case: Case, world: World
    ) -> None:
        token = admin(case, world)
        bad = case.client.post(
            "/api/v1/assessment-factors", json={"kind": "neutral", "text": " "}, headers=token
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"kind", "text"}
        added = case.client.post(
            "/api/v1/assessment-factors",
            json={"kind": "protective", "text": "Idrottar i förening"},
            headers=token,
        ).json()
        renamed = case.client.put(
            f"/api/v1/assessment-factors/{added['id']}",
            json={"version": 1, "text": "Idrottar regelbundet i förening"},
            headers=token,
        )
        assert (renamed.json()["id"], renamed.json()["version"]) == (added["id"], 2)
        texts = {f["id"]: f["text"] for f in factors(case)["protective"]}
        assert texts[added["id"]] == "Idrottar regelbundet i förening"


class TestRecord:
    def test_bad_input_names_each_field_in_english_and_stores_nothing(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        other = Case(client, world)
        meeting_id, _item = final_minutes(client, other)
        response = record(
            case,
            level_code="Z",
            factor_ids=[str(uuid.uuid4())],
            rationale=" ",
            participant_user_ids=[str(uuid.uuid4())],
            meeting_id=meeting_id,
            assessed_on=None,
        )
        assert response.status_code == 422
        errors = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert set(errors) == {
            "level_code",
            "factor_ids",
            "rationale",
            "participant_user_ids",
            "meeting_id",
        }
        assert "not a current cylinder level" in errors["level_code"]
        assert "not on the case team" in errors["participant_user_ids"]
        assert "no meeting of this case" in errors["meeting_id"]
        future = record(case, assessed_on=str(today() + timedelta(days=1)))
        assert [e["field"] for e in future.json()["errors"]] == ["assessed_on"]
        assert case.client.get(url(case), headers=case.owner).json()["items"] == []

    def test_made_at_a_meeting_of_the_case_takes_the_meetings_day(
        self, case: Case, client: TestClient
    ) -> None:
        meeting_id, _item = final_minutes(client, case)  # tomorrow: not held yet
        early = record(case, meeting_id=meeting_id, assessed_on=None)
        assert [e["field"] for e in early.json()["errors"]] == ["meeting_id"]

    def test_partner_may_not_record(self, case: Case) -> None:
        case.all_sign(categories=["basic", "risk"])
        response = case.client.post(url(case), json={"level_code": "D"}, headers=case.partner)
        assert response.status_code == 403

    def test_assessments_are_immutable_and_the_latest_is_current(self, case: Case) -> None:
        first = made(case, level_code="D", assessed_on=str(today() - timedelta(days=60)))
        second = made(case, level_code="B", assessed_on=str(today() - timedelta(days=30)))
        third = made(case, level_code="C")
        one = f"{url(case)}/{first['id']}"
        for method in ("PUT", "PATCH", "DELETE"):
            assert case.client.request(method, one, headers=case.owner).status_code == 405
        listed = case.client.get(url(case), headers=case.owner).json()
        assert [i["id"] for i in listed["items"]] == [first["id"], second["id"], third["id"]]
        assert [i["movement"] for i in listed["items"]] == ["first", "up", "down"]
        assert listed["current"]["id"] == third["id"]


class TestPartnerView:
    def test_without_risk_in_the_consent_the_partner_sees_no_assessment_at_all(
        self, case: Case
    ) -> None:
        case.all_sign(categories=["basic", "school"])
        made_one = made(case)
        listed = case.client.get(url(case), headers=case.partner)
        assert listed.status_code == 200
        assert listed.json()["items"] == []
        assert listed.json()["current"] is None
        one = case.client.get(f"{url(case)}/{made_one['id']}", headers=case.partner)
        missing = case.client.get(f"{url(case)}/{uuid.uuid4()}", headers=case.partner)
        assert (one.status_code, one.json()) == (404, missing.json())

    def test_with_risk_the_partner_reads_them_until_the_consent_is_withdrawn(
        self, case: Case
    ) -> None:
        records = case.all_sign(categories=["basic", "risk"])
        made_one = made(case)
        listed = case.client.get(url(case), headers=case.partner).json()
        assert [i["rationale"] for i in listed["items"]] == [SECRET]
        withdrawn = case.client.post(
            f"/api/v1/consents/{records[0]['id']}/withdrawal", headers=case.owner
        )
        assert withdrawn.status_code == 204
        for path in (url(case), f"{url(case)}/{made_one['id']}"):
            hidden = case.client.get(path, headers=case.partner)
            assert hidden.status_code == 404
            assert hidden.json() == case.not_found_body()

    def test_reads_are_audited_with_the_consent_records(
        self, case: Case, world: World, app: FastAPI, engine: Engine
    ) -> None:
        records = case.all_sign(categories=["basic", "risk"])
        made_one = made(case)
        case.client.get(url(case), headers=case.partner)
        case.client.get(f"{url(case)}/{made_one['id']}", headers=case.partner)
        integrate(app, engine)
        auditor = token_for(case.client, world.usernames["auditor"])
        for action in ("assessment.list", "assessment.read"):
            [event] = case.client.get(
                "/api/v1/audit/events", params={"action": action}, headers=auditor
            ).json()["items"]
            assert event["basis"]["kind"] == "consent"
            assert set(event["basis"]["consent_records"]) == {r["id"] for r in records}
        [written] = case.client.get(
            "/api/v1/audit/events", params={"action": "assessment.record"}, headers=auditor
        ).json()["items"]
        assert written["resource_id"] == made_one["id"]


def test_rationale_factors_and_participants_are_encrypted_at_rest(
    case: Case, engine: Engine
) -> None:
    risk = factors(case)["risk"][0]
    made(case, factor_ids=[risk["id"]])
    with engine.connect() as connection:
        row = connection.execute(
            unscoped(
                text("SELECT rationale, factors, participants, level_code FROM assessment"),
                "test: the stored row",
            )
        ).one()
    rationale, factor_text, participants, level = row
    assert level == "D"
    for value in (rationale, factor_text, participants):
        assert value.startswith("v2.")
    assert SECRET not in rationale
    assert risk["text"] not in factor_text
