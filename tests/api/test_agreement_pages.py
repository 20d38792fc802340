"""The agreement's pages (issue 14, item 1): the coordinator sets the agreement up through
forms whose errors name the field; the steering group reads the same pages with no form, and
its posts are refused."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import World
from tests.api.test_agreements import URL, body, coordinator, with_activity
from tests.api.test_pages import csrf_from, log_in

BASE = "/uppfoljning/overenskommelser"


def post(client: TestClient, page: str, url: str, data: dict[str, Any]) -> Any:
    form = client.get(page)
    assert form.status_code == 200, form.text
    return client.post(
        url, data={**data, "csrf_token": csrf_from(form.text)}, follow_redirects=False
    )


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return found.group(1)


class TestCoordinator:
    def test_creates_an_agreement_through_the_form(self, client: TestClient, world: World) -> None:
        log_in(client, world.usernames["coordinator"])
        response = post(
            client,
            f"{BASE}/ny",
            f"{BASE}/ny",
            {
                "name": "Överenskommelse Test",
                "starts_on": "2024-01-01",
                "ends_on": "2026-01-01",
                "period_kind": "half_year",
                "k": "5",
                "breakdowns": ["gender", "school"],
                "areas": "Norr\nSöder\n",
                "school_agency_ids": [str(world.school.id)],
                "follow_up_by": "Styrgruppen för SSPF",
                "parties": "Testkommun\nPolisen",
            },
        )
        assert response.status_code == 303, response.text
        page = client.get(response.headers["location"])
        assert "Överenskommelse Test" in page.text
        assert "Första halvåret 2024" in page.text
        assert "Testskolan" in page.text
        assert 'action="/uppfoljning/overenskommelser/' in page.text  # the forms are shown

    def test_bad_input_is_named_per_field_and_nothing_is_created(
        self, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["coordinator"])
        response = post(
            client,
            f"{BASE}/ny",
            f"{BASE}/ny",
            {
                "name": "",
                "starts_on": "i morgon",
                "ends_on": "2026-01-01",
                "period_kind": "tertial",
                "k": "1",
            },
        )
        assert response.status_code == 422
        assert title(response.text).startswith("Fel:")
        for field in ("name", "starts_on", "k"):
            assert f'href="#{field}"' in response.text
        assert "Det finns ingen samverkansöverenskommelse" in client.get(BASE).text

    def test_adds_a_goal_area_and_a_target_and_a_wrong_kind_is_named(
        self, client: TestClient, world: World
    ) -> None:
        agreement, activity = with_activity(client, world)
        log_in(client, world.usernames["coordinator"])
        page = f"{BASE}/{agreement['id']}"
        added = post(
            client, page, f"{page}/malomraden", {"letter": "h", "title": "Reducera dödligt våld"}
        )
        assert added.status_code == 303
        assert "H. Reducera dödligt våld" in client.get(page).text
        target_url = f"{page}/aktiviteter/{activity['id']}/mal"
        wrong = post(
            client,
            page,
            target_url,
            {
                "indicator": "consent_share",
                "kind": "count",
                "comparison": "at_least",
                "value": "80",
                "label": "Samtycken",
            },
        )
        assert wrong.status_code == 422
        assert f'href="#target-{activity["id"]}-kind"' in wrong.text
        right = post(
            client,
            page,
            target_url,
            {
                "indicator": "cases_closed:goals_met",
                "kind": "count",
                "comparison": "at_least",
                "value": "15",
                "label": "Bryta loss minst 15 unga",
            },
        )
        assert right.status_code == 303, right.text
        shown = client.get(page).text  # the form's hint quotes the same example: the table cells
        assert "<td>Bryta loss minst 15 unga</td>" in shown
        assert "<td>minst 15</td>" in shown

    def test_removes_a_party_an_activity_and_then_its_goal_area(
        self, client: TestClient, world: World
    ) -> None:
        agreement, activity = with_activity(client, world)
        log_in(client, world.usernames["coordinator"])
        page = f"{BASE}/{agreement['id']}"
        assert post(client, page, f"{page}/parter", {"name": "Fritidsförvaltningen"}).status_code
        shown = client.get(page).text
        party = re.search(r"Fritidsförvaltningen\s*<form[^>]*/parter/([0-9a-f-]+)/ta-bort", shown)
        assert party
        goal = re.search(r"/malomraden/([0-9a-f-]{36})/ta-bort", shown)
        assert goal

        in_use = post(client, page, f"{page}/malomraden/{goal.group(1)}/ta-bort", {})
        assert in_use.status_code == 409
        assert title(in_use.text).startswith("Fel:")
        assert f'href="#remove-goal-{goal.group(1)}"' in in_use.text
        assert "Målområdet har aktiviteter" in in_use.text
        assert "B. Barn och unga ska lyckas" in client.get(page).text  # nothing removed

        for url in (
            f"{page}/parter/{party.group(1)}/ta-bort",
            f"{page}/aktiviteter/{activity['id']}/ta-bort",
            f"{page}/malomraden/{goal.group(1)}/ta-bort",
        ):
            removed = post(client, page, url, {})
            assert removed.status_code == 303, removed.text
        shown = client.get(page).text
        for gone in ("Fritidsförvaltningen", activity["name"], "Barn och unga ska lyckas"):
            assert gone not in shown

    def test_changes_an_activity_and_a_stale_or_empty_form_changes_nothing(
        self, client: TestClient, world: World
    ) -> None:
        agreement, activity = with_activity(client, world)
        log_in(client, world.usernames["coordinator"])
        page = f"{BASE}/{agreement['id']}"
        edit = f"{page}/aktiviteter/{activity['id']}/andra"
        assert f'href="{edit}"' in client.get(page).text
        form = client.get(edit)
        assert form.status_code == 200
        assert 'value="SSPF på Testskolan"' in form.text
        fields = {
            "goal_area_id": activity["goal_area_id"],
            "name": "SSPF på Testskolan, årskurs 7–9",
            "programmes": ["SSPF"],
            "school_agency_ids": [str(world.school.id)],
            "responsible": "Rektor",
        }

        empty = post(client, edit, edit, {**fields, "name": "", "version": "1"})
        assert empty.status_code == 422
        assert 'href="#activity-name"' in empty.text
        stale = post(client, edit, edit, {**fields, "version": "7"})
        assert stale.status_code == 409
        assert "Någon annan har sparat en ändring" in stale.text
        assert 'value="SSPF på Testskolan"' in stale.text  # what is saved now
        assert "årskurs 7–9" not in client.get(page).text

        saved = post(client, edit, edit, {**fields, "version": "1"})
        assert saved.status_code == 303, saved.text
        shown = client.get(page).text
        assert "SSPF på Testskolan, årskurs 7–9" in shown
        assert "Rektor" in shown

    def test_changes_a_goal_areas_title_and_a_stale_or_empty_form_changes_nothing(
        self, client: TestClient, world: World
    ) -> None:
        agreement, _activity = with_activity(client, world)  # the goal area is in use
        log_in(client, world.usernames["coordinator"])
        page = f"{BASE}/{agreement['id']}"
        found = re.search(r'href="(/[^"]*/malomraden/[0-9a-f-]{36}/andra)"', client.get(page).text)
        assert found
        edit = found.group(1)
        form = client.get(edit)
        assert form.status_code == 200
        assert 'value="Barn och unga ska lyckas' in form.text

        empty = post(client, edit, edit, {"title": "", "version": "1"})
        assert empty.status_code == 422
        assert 'href="#goal-title"' in empty.text
        stale = post(client, edit, edit, {"title": "Unga lyckas i skolan", "version": "7"})
        assert stale.status_code == 409
        assert "Någon annan har sparat en ändring" in stale.text
        assert "Unga lyckas i skolan" not in client.get(page).text

        saved = post(client, edit, edit, {"title": "Unga lyckas i skolan", "version": "1"})
        assert saved.status_code == 303, saved.text
        shown = client.get(page).text
        assert "B. Unga lyckas i skolan" in shown
        assert "Barn och unga ska lyckas" not in shown

    def test_changes_a_target_and_a_stale_or_empty_form_changes_nothing(
        self, client: TestClient, world: World
    ) -> None:
        agreement, activity = with_activity(client, world)
        log_in(client, world.usernames["coordinator"])
        page = f"{BASE}/{agreement['id']}"
        fields = {
            "indicator": "cases_closed:goals_met",
            "kind": "count",
            "comparison": "at_least",
            "value": "15",
            "label": "Femton unga bryter loss",
        }
        added = post(client, page, f"{page}/aktiviteter/{activity['id']}/mal", fields)
        assert added.status_code == 303, added.text
        found = re.search(r'href="(/[^"]*/mal/[0-9a-f-]{36}/andra)"', client.get(page).text)
        assert found
        edit = found.group(1)
        form = client.get(edit)
        assert form.status_code == 200
        assert 'value="Femton unga bryter loss"' in form.text
        assert 'value="cases_closed:goals_met" selected' in form.text
        assert 'value="15"' in form.text

        empty = post(client, edit, edit, {**fields, "label": "", "version": "1"})
        assert empty.status_code == 422
        assert 'href="#target-label"' in empty.text
        stale = post(client, edit, edit, {**fields, "value": "20", "version": "7"})
        assert stale.status_code == 409
        assert "Någon annan har sparat en ändring" in stale.text
        assert "minst 20" not in client.get(page).text

        changed = {**fields, "value": "20", "label": "Tjugo unga bryter loss"}
        saved = post(client, edit, edit, {**changed, "version": "1"})
        assert saved.status_code == 303, saved.text
        shown = client.get(page).text
        assert "<td>Tjugo unga bryter loss</td>" in shown
        assert "<td>minst 20</td>" in shown
        assert "Femton unga bryter loss" not in shown


class TestSteeringGroup:
    def test_reads_the_agreement_without_any_form(self, client: TestClient, world: World) -> None:
        agreement, activity = with_activity(client, world)
        log_in(client, world.usernames["steering"])
        listed = client.get(BASE)
        assert listed.status_code == 200
        assert "Ny överenskommelse" not in listed.text
        page = client.get(f"{BASE}/{agreement['id']}")
        assert page.status_code == 200
        assert activity["name"] in page.text
        assert 'action="/uppfoljning/overenskommelser' not in page.text
        assert client.get(f"{BASE}/ny").status_code == 403

    def test_its_posts_are_refused_and_change_nothing(
        self, client: TestClient, world: World
    ) -> None:
        agreement, activity = with_activity(client, world)
        log_in(client, world.usernames["steering"])
        page = f"{BASE}/{agreement['id']}"
        response = post(client, page, f"{page}/parter", {"name": "Smugglad part"})
        assert response.status_code == 403
        assert "Smugglad part" not in client.get(page).text
        removal = post(client, page, f"{page}/aktiviteter/{activity['id']}/ta-bort", {})
        assert removal.status_code == 403
        assert activity["name"] in client.get(page).text

    def test_a_social_worker_has_no_agreement_pages(self, client: TestClient, world: World) -> None:
        log_in(client, world.usernames["social_worker"])
        assert client.get(BASE).status_code == 403


def test_the_api_and_the_page_show_the_same_agreement(client: TestClient, world: World) -> None:
    created = client.post(URL, json=body(world), headers=coordinator(client, world)).json()
    log_in(client, world.usernames["steering"])
    page = client.get(f"{BASE}/{created['id']}").text
    for period in created["periods"]:
        assert period["label"] in page
