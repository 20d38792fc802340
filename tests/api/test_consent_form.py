"""The consent form (issue 15, item 5): a signer's scope can be the same as another signer's,
without JavaScript; and the personnummer hint and its error name the same forms."""

from __future__ import annotations

import html
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from common.clock import today
from domain.people.personnummer import ACCEPTED_FORMS
from tests.api.conftest import World
from tests.api.test_consent_sharing import Case
from tests.api.test_pages import csrf_from, log_in

SAME_AS_ANNA = "Samma omfattning som Anna Vårdnadshavare (vårdnadshavare)"


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


def records(case: Case) -> list[dict[str, Any]]:
    overview = case.client.get(f"/api/v1/cases/{case.id}/consents", headers=case.owner).json()
    found: list[dict[str, Any]] = overview["records"]
    return found


def post_form(client: TestClient, case: Case, **fields: Any) -> Any:
    token = csrf_from(client.get(f"/arenden/{case.id}/samtycken").text)
    data = {
        "csrf_token": token,
        "decision": "given",
        "signed_on": str(today()),
        "method": "paper_form",
        **fields,
    }
    return client.post(f"/arenden/{case.id}/samtycken", data=data)


class TestSameScopeAsAnotherSigner:
    def test_the_form_offers_the_scope_of_a_signer_who_has_consented(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        assert SAME_AS_ANNA not in client.get(f"/arenden/{case.id}/samtycken").text
        anna = case.consent(case.guardians[0], categories=["basic", "school", "plan"])
        page = client.get(f"/arenden/{case.id}/samtycken").text
        assert f'<label for="scope_from-{anna["id"]}">{SAME_AS_ANNA}</label>' in html.unescape(page)
        assert "Testskolan: grunduppgifter, planering och möten, skola" in html.unescape(page)

    def test_the_chosen_scope_is_recorded_without_ticking_a_box(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        anna = case.consent(case.guardians[0], categories=["basic", "school", "plan"])
        log_in(client, world.usernames["social_worker"])
        response = post_form(client, case, signer=case.guardians[1], scope_from=anna["id"])
        assert response.status_code == 200, response.text
        assert "Samtycket är registrerat." in response.text
        erik = records(case)[-1]
        assert erik["guardian_id"] == case.guardians[1]
        assert (erik["agencies"], sorted(erik["categories"])) == (
            [case.school_id],
            ["basic", "plan", "school"],
        )

    def test_the_own_choice_is_used_when_no_signer_is_chosen(
        self, case: Case, client: TestClient, world: World
    ) -> None:
        case.consent(case.guardians[0], categories=["basic", "school", "plan"])
        log_in(client, world.usernames["social_worker"])
        response = post_form(
            client,
            case,
            signer=case.guardians[1],
            scope_from="",
            agencies=case.school_id,
            categories="basic",
        )
        assert response.status_code == 200, response.text
        assert records(case)[-1]["categories"] == ["basic"]

    @pytest.mark.parametrize("which", ["unknown", "withdrawn", "not-an-id"])
    def test_a_scope_not_offered_is_a_field_error_and_nothing_is_recorded(
        self, case: Case, client: TestClient, world: World, which: str
    ) -> None:
        anna = case.consent(case.guardians[0])
        chosen = {"unknown": str(uuid.uuid4()), "not-an-id": "x", "withdrawn": anna["id"]}[which]
        if which == "withdrawn":
            withdrawn = case.client.post(
                f"/api/v1/consents/{anna['id']}/withdrawal", headers=case.owner
            )
            assert withdrawn.status_code == 204
        log_in(client, world.usernames["social_worker"])
        before = len(records(case))
        response = post_form(client, case, signer=case.guardians[1], scope_from=chosen)
        assert response.status_code == 422
        assert "<title>Fel: Samtycken" in response.text
        assert 'href="#scope_from"' in response.text
        assert len(records(case)) == before


class TestPersonnummerFormats:
    @pytest.mark.parametrize("form", ["/unga/ny", "/aktualiseringar/ny"])
    def test_the_hint_names_the_accepted_forms(
        self, client: TestClient, world: World, form: str
    ) -> None:
        user = "social_worker" if form == "/unga/ny" else "school_contact"
        log_in(client, world.usernames[user])
        assert ACCEPTED_FORMS in html.unescape(client.get(form).text)

    def test_the_format_error_names_the_same_forms(self, client: TestClient, world: World) -> None:
        log_in(client, world.usernames["social_worker"])
        form = client.get("/unga/ny")
        response = client.post(
            "/unga/ny",
            data={
                "csrf_token": csrf_from(form.text),
                "personnummer": "2011-04-12",
                "first_name": "Saga",
                "last_name": "Exempeldotter",
                "gender": "female",
            },
        )
        assert response.status_code == 422
        assert f"Ange personnummer med {ACCEPTED_FORMS}." in html.unescape(response.text)
