"""The promise: a partner sees a case only on its team, only while consent covers their agency
and the basic category, and loses it on the very next request after a withdrawal."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from common.clock import today
from tests.api.conftest import World, token_for
from tests.api.test_pages import csrf_from, log_in
from tests.api.test_young_persons import person_body
from tests.builders import valid_personnummer

SIXTEEN = today() - timedelta(days=16 * 365 + 30)


class Case:
    """A 16-year-old's SSPF case in consent_pending, with the school contact on its team."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.owner = token_for(client, world.usernames["social_worker"])
        self.partner = token_for(client, world.usernames["school_contact"])
        self.school_id = str(world.school.id)
        body = person_body(
            personnummer=valid_personnummer(SIXTEEN),
            guardians=[
                {"name": "Anna Vårdnadshavare", "has_custody": True},
                {"name": "Erik Vårdnadshavare", "has_custody": True},
            ],
        )
        person = client.post("/api/v1/young-persons", json=body, headers=self.owner).json()
        self.guardians = [g["id"] for g in person["guardians"]]
        case = client.post(
            "/api/v1/cases",
            json={"young_person_id": person["id"], "programme": "SSPF"},
            headers=self.owner,
        ).json()
        self.id = case["id"]
        moved = client.post(
            f"/api/v1/cases/{self.id}/transitions",
            json={"target": "consent_pending", "version": case["version"]},
            headers=self.owner,
        )
        assert moved.status_code == 200, moved.text
        school_user = client.get("/api/v1/auth/me", headers=self.partner).json()["user_id"]
        added = client.post(
            f"/api/v1/cases/{self.id}/team", json={"user_id": school_user}, headers=self.owner
        )
        assert added.status_code == 204, added.text
        self.school_user = school_user
        self.owner_user: str = client.get("/api/v1/auth/me", headers=self.owner).json()["user_id"]

    def consent(
        self,
        signer: str,
        *,
        decision: str = "given",
        agencies: list[str] | None = None,
        categories: list[str] | None = None,
        valid_until: date | None = None,
        signed_on: date | None = None,
        valid_from: date | None = None,
    ) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/cases/{self.id}/consents",
            headers=self.owner,
            json={
                "signer": signer,
                "decision": decision,
                "signed_on": str(signed_on or today()),
                "valid_from": str(valid_from) if valid_from else None,
                "valid_until": str(valid_until) if valid_until else None,
                "agencies": agencies if agencies is not None else [self.school_id],
                "categories": categories if categories is not None else ["basic", "school"],
                "method": "paper_form",
            },
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def all_sign(self, **kwargs: Any) -> list[dict[str, Any]]:
        return [self.consent(signer, **kwargs) for signer in [*self.guardians, "young_person"]]

    def partner_read(self) -> Any:
        return self.client.get(f"/api/v1/cases/{self.id}", headers=self.partner)

    def state(self) -> str:
        state: str = self.client.get(f"/api/v1/cases/{self.id}", headers=self.owner).json()["state"]
        return state

    def not_found_body(self) -> Any:
        return self.client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=self.partner).json()


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


def assert_hidden(case: Case) -> None:
    response = case.partner_read()
    assert response.status_code == 404
    assert response.json() == case.not_found_body()
    assert case.client.get("/api/v1/cases", headers=case.partner).json()["total"] == 0


class TestPartnerAccess:
    def test_allowed_with_complete_consent(self, case: Case) -> None:
        case.all_sign()
        assert case.state() == "active"
        response = case.partner_read()
        assert response.status_code == 200
        assert response.json()["young_person"]["first_name"] == "Alva"

    def test_404_without_consent(self, case: Case) -> None:
        assert_hidden(case)

    def test_404_while_a_signer_is_missing(self, case: Case) -> None:
        case.consent(case.guardians[0])
        case.consent(case.guardians[1])  # the 16-year-old has not signed
        assert case.state() == "consent_pending"
        assert_hidden(case)

    def test_404_after_withdrawal_on_the_very_next_request(self, case: Case) -> None:
        records = case.all_sign()
        assert case.partner_read().status_code == 200
        withdrawn = case.client.post(
            f"/api/v1/consents/{records[1]['id']}/withdrawal", headers=case.owner
        )
        assert withdrawn.status_code == 204
        assert_hidden(case)
        assert case.state() == "paused"

    def test_404_when_consent_does_not_cover_the_agency(self, case: Case, world: World) -> None:
        case.all_sign(agencies=[str(world.other_unit.id)])
        assert case.state() == "active"
        assert_hidden(case)

    def test_404_when_consent_does_not_cover_the_basic_category(self, case: Case) -> None:
        case.all_sign(categories=["school"])
        assert_hidden(case)

    def test_scope_is_the_intersection_of_the_signers(self, case: Case) -> None:
        case.consent(case.guardians[0], categories=["basic", "school", "police"])
        case.consent(case.guardians[1], categories=["basic", "school"])
        case.consent("young_person", categories=["basic"])
        assert case.partner_read().status_code == 200
        overview = case.client.get(f"/api/v1/cases/{case.id}/consents", headers=case.owner).json()
        assert overview["effective"]["categories"] == ["basic"]

    def test_404_once_consent_has_expired(self, case: Case) -> None:
        case.all_sign(
            signed_on=today() - timedelta(days=30), valid_until=today() - timedelta(days=1)
        )
        assert_hidden(case)

    def test_404_when_the_case_is_closed(self, case: Case) -> None:
        case.all_sign()
        current = case.client.get(f"/api/v1/cases/{case.id}", headers=case.owner).json()
        closed = case.client.post(
            f"/api/v1/cases/{case.id}/transitions",
            headers=case.owner,
            json={"target": "closed", "version": current["version"], "outcome": "goals_met"},
        )
        assert closed.status_code == 200
        assert_hidden(case)

    def test_404_after_removal_from_the_team(self, case: Case) -> None:
        case.all_sign()
        removed = case.client.delete(
            f"/api/v1/cases/{case.id}/team/{case.school_user}", headers=case.owner
        )
        assert removed.status_code == 204
        assert_hidden(case)

    def test_refusal_declines_the_case(self, case: Case) -> None:
        case.consent(case.guardians[0], decision="refused", agencies=[], categories=[])
        assert case.state() == "declined"
        assert_hidden(case)


class TestDisclosureBasis:
    def test_a_partners_read_is_audited_with_the_consent_records(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        records = case.all_sign()
        assert case.partner_read().status_code == 200
        auditor = token_for(client, world.usernames["auditor"])
        reads = client.get(
            "/api/v1/audit/events",
            headers=auditor,
            params={"case_id": case.id, "action": "case.read"},
        ).json()["items"]
        partner_read = next(e for e in reads if e["role"] == "contact_person")
        assert partner_read["basis"]["kind"] == "consent"
        assert sorted(partner_read["basis"]["consent_records"]) == sorted(r["id"] for r in records)
        assert partner_read["basis"]["categories"] == ["basic", "school"]


class TestRecordingConsent:
    def test_partner_cannot_record_or_read_consents(self, case: Case) -> None:
        assert (
            case.client.get(f"/api/v1/cases/{case.id}/consents", headers=case.partner).status_code
            == 403
        )

    def test_bad_input_names_the_fields_and_stores_nothing(self, case: Case) -> None:
        response = case.client.post(
            f"/api/v1/cases/{case.id}/consents",
            headers=case.owner,
            json={
                "signer": str(uuid.uuid4()),
                "decision": "maybe",
                "signed_on": str(today() + timedelta(days=3)),
                "agencies": ["nope"],
                "categories": ["secrets"],
                "method": "telepathy",
            },
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {
            "signer",
            "decision",
            "signed_on",
            "agencies",
            "categories",
            "method",
        }
        overview = case.client.get(f"/api/v1/cases/{case.id}/consents", headers=case.owner).json()
        assert overview["records"] == []

    @pytest.mark.parametrize(
        ("signed_on", "message"),
        [
            (
                SIXTEEN - timedelta(days=1),
                "Underskriftsdatumet kan inte ligga före den ungas födelse.",
            ),
            (today() + timedelta(days=1), "Underskriftsdatumet kan inte ligga i framtiden."),
        ],
        ids=["before_birth", "after_today"],
    )
    def test_signed_before_birth_or_after_today_is_refused(
        self, case: Case, signed_on: date, message: str
    ) -> None:
        response = case.client.post(
            f"/api/v1/cases/{case.id}/consents",
            headers=case.owner,
            json={
                "signer": case.guardians[0],
                "decision": "given",
                "signed_on": str(signed_on),
                "agencies": [case.school_id],
                "categories": ["basic"],
                "method": "paper_form",
            },
        )
        assert response.status_code == 422
        assert response.json()["errors"] == [{"field": "signed_on", "message": message}]
        overview = case.client.get(f"/api/v1/cases/{case.id}/consents", headers=case.owner).json()
        assert overview["records"] == []

    def test_the_page_names_a_signing_date_before_birth(self, case: Case, world: World) -> None:
        log_in(case.client, world.usernames["social_worker"])
        url = f"/arenden/{case.id}/samtycken"
        response = case.client.post(
            url,
            data={
                "csrf_token": csrf_from(case.client.get(url).text),
                "signer": case.guardians[0],
                "decision": "given",
                "signed_on": str(SIXTEEN - timedelta(days=1)),
                "agencies": [case.school_id],
                "categories": ["basic"],
                "method": "paper_form",
            },
        )
        assert response.status_code == 422
        assert "Underskriftsdatumet kan inte ligga före den ungas födelse." in response.text
        overview = case.client.get(f"/api/v1/cases/{case.id}/consents", headers=case.owner).json()
        assert overview["records"] == []

    def test_signed_on_the_day_of_birth_is_accepted(self, case: Case) -> None:
        case.consent(case.guardians[0], signed_on=SIXTEEN)


class TestTracker:
    def test_lists_missing_signatures_and_expiring_consent(self, case: Case, world: World) -> None:
        case.consent(case.guardians[0], valid_until=today() + timedelta(days=10))
        coordinator = token_for(case.client, world.usernames["coordinator"])
        rows = case.client.get("/api/v1/consent-tracker", headers=coordinator).json()
        mine = [(r["concern"], r["signer"]) for r in rows if r["case_id"] == case.id]
        assert sorted(mine) == [
            ("missing", "Erik Vårdnadshavare (vårdnadshavare)"),
            ("missing", "den unga"),
        ]
        case.consent(case.guardians[1], valid_until=today() + timedelta(days=10))
        case.consent("young_person", valid_until=today() + timedelta(days=10))
        rows = case.client.get("/api/v1/consent-tracker", headers=coordinator).json()
        assert [(r["concern"], r["on"]) for r in rows if r["case_id"] == case.id] == [
            ("expiring", str(today() + timedelta(days=10)))
        ]

    def test_warns_of_a_birthday_that_changes_who_signs(
        self, client: TestClient, world: World
    ) -> None:
        owner = token_for(client, world.usernames["social_worker"])
        born = today().replace(year=today().year - 15) + timedelta(days=10)  # turns 15 in ten days
        person = client.post(
            "/api/v1/young-persons",
            headers=owner,
            json=person_body(personnummer=valid_personnummer(born)),
        ).json()
        case = client.post(
            "/api/v1/cases",
            json={"young_person_id": person["id"], "programme": "SIG"},
            headers=owner,
        ).json()
        client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            headers=owner,
            json={"target": "consent_pending", "version": case["version"]},
        )
        rows = client.get("/api/v1/consent-tracker", headers=owner).json()
        birthdays = [r for r in rows if r["case_id"] == case["id"] and r["concern"] == "birthday"]
        assert [r["on"] for r in birthdays] == [str(born.replace(year=born.year + 15))]

    def test_partners_have_no_tracker(self, case: Case) -> None:
        assert case.client.get("/api/v1/consent-tracker", headers=case.partner).status_code == 403
