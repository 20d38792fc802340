"""The case lifecycle as people read it (issue 15, item 4): a consent given in a referred case
moves it on, the case page says what a button will do and what to do next, and every error
page offers the way back."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from common.clock import today
from tests.api.conftest import World, token_for
from tests.api.test_consent_sharing import SIXTEEN, Case
from tests.api.test_pages import csrf_from, log_in
from tests.api.test_young_persons import person_body
from tests.builders import valid_personnummer


class Referred:
    """A 16-year-old's SSPF case just opened (referred), two guardians with custody."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.owner = token_for(client, world.usernames["social_worker"])
        self.school_id = str(world.school.id)
        body = person_body(
            personnummer=valid_personnummer(SIXTEEN),
            guardians=[
                {"name": "Anna Vårdnadshavare", "has_custody": True},
                {"name": "Erik Vårdnadshavare", "has_custody": True},
            ],
        )
        person = client.post("/api/v1/young-persons", json=body, headers=self.owner).json()
        self.signers = [*(g["id"] for g in person["guardians"]), "young_person"]
        case = client.post(
            "/api/v1/cases",
            json={"young_person_id": person["id"], "programme": "SSPF"},
            headers=self.owner,
        ).json()
        assert case["state"] == "referred"
        self.id: str = case["id"]

    def consent(self, signer: str, decision: str = "given") -> None:
        response = self.client.post(
            f"/api/v1/cases/{self.id}/consents",
            headers=self.owner,
            json={
                "signer": signer,
                "decision": decision,
                "signed_on": str(today()),
                "agencies": [self.school_id],
                "categories": ["basic"],
                "method": "paper_form",
            },
        )
        assert response.status_code == 201, response.text

    def case(self) -> dict[str, Any]:
        found: dict[str, Any] = self.client.get(
            f"/api/v1/cases/{self.id}", headers=self.owner
        ).json()
        return found


@pytest.fixture
def referred(client: TestClient, world: World) -> Referred:
    return Referred(client, world)


class TestConsentMovesAReferredCase:
    def test_a_first_given_consent_starts_the_consent_process(self, referred: Referred) -> None:
        referred.consent(referred.signers[0])
        assert referred.case()["state"] == "consent_pending"

    def test_complete_consent_makes_a_referred_case_active(
        self, referred: Referred, client: TestClient, world: World
    ) -> None:
        for signer in referred.signers:
            referred.consent(signer)
        assert referred.case()["state"] == "active"
        log_in(client, world.usernames["social_worker"])
        page = client.get(f"/arenden/{referred.id}").text
        assert "Aktualiserat → Inväntar samtycke" in page
        assert "Inväntar samtycke → Pågående" in page

    def test_a_refusal_still_declines_a_referred_case(self, referred: Referred) -> None:
        referred.consent(referred.signers[0], decision="refused")
        assert referred.case()["state"] == "declined"


class TestCasePage:
    def test_a_referred_case_says_what_to_do_next(
        self, referred: Referred, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        page = client.get(f"/arenden/{referred.id}").text
        assert "Nästa steg är att hämta in samtycke." in page
        assert f'href="/arenden/{referred.id}/samtycken">Gå till samtyckena' in page
        assert ">Ändra till: inväntar samtycke<" in page

    def test_a_pending_case_offers_no_active_button_without_consent(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        page = client.get(f"/arenden/{case.id}").text
        assert "pågående av sig självt" in page
        assert 'name="target" value="active"' not in page

    def test_a_stale_state_change_is_shown_on_the_case_page(
        self, referred: Referred, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        page = client.get(f"/arenden/{referred.id}")
        response = client.post(
            f"/arenden/{referred.id}/status",
            data={"csrf_token": csrf_from(page.text), "target": "consent_pending", "version": 99},
        )
        assert response.status_code == 409
        assert "<title>Fel: Ärende " in response.text
        assert 'href="#state"' in response.text
        assert "har ändrats av någon annan" in response.text
        assert referred.case()["state"] == "referred"


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


class TestErrorPagesLeadBack:
    def test_a_missing_case_leads_to_the_case_list_and_names_no_id(
        self, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        first = client.get(f"/arenden/{uuid.uuid4()}/samtycken")
        second = client.get(f"/arenden/{uuid.uuid4()}/samtycken")
        assert first.status_code == 404
        assert '<a href="/arenden">Tillbaka till ärendelistan</a>' in first.text
        assert '<a href="/">Till startsidan</a>' in first.text
        assert first.text == second.text

    def test_a_refused_post_leads_back_to_the_page_it_came_from(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        given = case.all_sign()
        log_in(client, world.usernames["social_worker"])
        token = csrf_from(client.get(f"/arenden/{case.id}/samtycken").text)
        withdraw = f"/samtycken/{given[0]['id']}/aterkalla"
        assert client.post(withdraw, data={"csrf_token": token}).status_code == 200
        again = client.post(withdraw, data={"csrf_token": token})  # no case to go back to
        assert again.status_code == 409
        assert '<a href="/samtycken">Tillbaka till samtyckesbevakningen</a>' in again.text

    def test_withdrawing_twice_from_the_case_stays_on_its_consents(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        given = case.all_sign()
        log_in(client, world.usernames["social_worker"])
        token = csrf_from(client.get(f"/arenden/{case.id}/samtycken").text)
        withdraw = f"/samtycken/{given[0]['id']}/aterkalla"
        data = {"csrf_token": token, "case_id": case.id}
        assert client.post(withdraw, data=data).status_code == 200  # followed the redirect
        again = client.post(withdraw, data=data)
        assert again.status_code == 409
        assert "<title>Fel: Samtycken" in again.text
        assert "Samtycket är redan återkallat." in again.text

    def test_consent_on_a_closed_case_keeps_the_form(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        page = client.get(f"/arenden/{case.id}")
        version = re.search(r'name="version" value="(\d+)"', page.text)
        assert version
        closed = client.post(
            f"/arenden/{case.id}/status",
            data={
                "csrf_token": csrf_from(page.text),
                "target": "closed",
                "outcome": "moved",
                "version": version.group(1),
            },
        )
        assert closed.status_code == 200
        token = csrf_from(client.get(f"/arenden/{case.id}/samtycken").text)
        response = client.post(
            f"/arenden/{case.id}/samtycken",
            data={
                "csrf_token": token,
                "signer": case.guardians[0],
                "decision": "given",
                "signed_on": str(today()),
                "agencies": case.school_id,
                "categories": "basic",
                "method": "paper_form",
            },
        )
        assert response.status_code == 409
        assert "samtycken kan inte längre registreras" in response.text
        assert f'value="{today()}"' in response.text  # what was typed is kept
