"""The plan page: Swedish errors naming the field, forms for whoever may use them, the 404
page for a reader who may not see the case."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from common.clock import today
from tests.api.conftest import World
from tests.api.test_consent_sharing import Case
from tests.api.test_pages import csrf_from, log_in


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


def _commit(case: Case, world: World, *, days: int = 7) -> str:
    response = case.client.post(
        f"/api/v1/cases/{case.id}/commitments",
        headers=case.owner,
        json={
            "what": "Följa upp närvaron",
            "agency_id": str(world.school.id),
            "due_on": str(today() + timedelta(days=days)),
        },
    )
    assert response.status_code == 201, response.text
    commitment_id: str = response.json()["id"]
    return commitment_id


class TestPlanPage:
    def test_case_page_links_the_plan(self, client: TestClient, world: World, case: Case) -> None:
        log_in(client, world.usernames["social_worker"])
        page = client.get(f"/arenden/{case.id}")
        assert f'href="/arenden/{case.id}/plan"' in page.text

    def test_bad_commitment_form_names_each_field_in_swedish_and_stores_nothing(
        self, client: TestClient, world: World, case: Case
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        page = client.get(f"/arenden/{case.id}/plan")
        assert page.status_code == 200
        response = client.post(
            f"/arenden/{case.id}/plan/ataganden",
            data={
                "csrf_token": csrf_from(page.text),
                "what": " ",
                "agency_id": "",
                "due_on": "på fredag",
            },
        )
        assert response.status_code == 422
        for text in (
            "Skriv vad som ska göras.",
            "Välj vilken aktör som åtar sig uppgiften.",
            "Ange senast-datum som ÅÅÅÅ-MM-DD.",
        ):
            assert text in response.text
        for field in ("what", "agency_id", "due_on"):
            assert f'href="#{field}"' in response.text
        assert "<title>Fel: Plan" in response.text
        assert "Inga åtaganden." in response.text

    def test_manager_adds_a_goal_and_a_commitment(
        self, client: TestClient, world: World, case: Case
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        page = client.get(f"/arenden/{case.id}/plan")
        token = csrf_from(page.text)
        added = client.post(
            f"/arenden/{case.id}/plan/mal",
            data={"csrf_token": token, "text": "Gå i skolan varje dag"},
            follow_redirects=False,
        )
        assert added.status_code == 303
        committed = client.post(
            f"/arenden/{case.id}/plan/ataganden",
            data={
                "csrf_token": token,
                "what": "Ringa hem vid frånvaro",
                "agency_id": str(world.school.id),
                "person_user_id": case.school_user,
                "due_on": str(today() - timedelta(days=1)),
            },
        )
        assert committed.status_code == 200  # followed to the page
        assert "Gå i skolan varje dag" in committed.text
        assert "Ringa hem vid frånvaro" in committed.text
        assert "Försenat" in committed.text  # overdue is said in words

    def test_without_csrf_nothing_is_stored(
        self, client: TestClient, world: World, case: Case
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        refused = client.post(f"/arenden/{case.id}/plan/mal", data={"text": "Mål"})
        assert refused.status_code == 403
        assert "Gå i" not in client.get(f"/arenden/{case.id}/plan").text


class TestContactPerson:
    def test_school_marks_its_commitment_done_from_the_page(
        self, client: TestClient, world: World, case: Case
    ) -> None:
        commitment_id = _commit(case, world)
        case.all_sign()
        log_in(client, world.usernames["school_contact"])
        page = client.get(f"/arenden/{case.id}/plan")
        assert page.status_code == 200
        assert "Markera som klart" in page.text
        assert "Nytt åtagande" not in page.text  # no forms to keep the plan
        done = client.post(
            f"/arenden/{case.id}/plan/ataganden/{commitment_id}",
            data={
                "csrf_token": csrf_from(page.text),
                "version": "1",
                "current_status": "open",
                "status": "done",
                "comment": "Rektor kontaktad",
            },
        )
        assert done.status_code == 200
        assert "Åtagandet är sparat." in done.text
        assert re.search(r"<td>Klart", done.text)
        assert "Rektor kontaktad" in done.text

    def test_too_long_comment_is_named_on_the_row(
        self, client: TestClient, world: World, case: Case
    ) -> None:
        commitment_id = _commit(case, world)
        case.all_sign()
        log_in(client, world.usernames["school_contact"])
        page = client.get(f"/arenden/{case.id}/plan")
        response = client.post(
            f"/arenden/{case.id}/plan/ataganden/{commitment_id}",
            data={"csrf_token": csrf_from(page.text), "version": "1", "comment": "x" * 2001},
        )
        assert response.status_code == 422
        assert "Kommentaren får vara högst 2000 tecken." in response.text
        assert f'href="#comment-{commitment_id}"' in response.text

    def test_without_consent_the_plan_page_is_the_404_page(
        self, client: TestClient, world: World, case: Case
    ) -> None:
        log_in(client, world.usernames["school_contact"])
        hidden = client.get(f"/arenden/{case.id}/plan")
        missing = client.get(f"/arenden/{uuid.uuid4()}/plan")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text == missing.text
