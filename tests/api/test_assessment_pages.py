"""The assessments page: the case page links it; bad input is shown again in Swedish with the
input kept and nothing stored; the chart and the table for a reader who sees assessments, and
nothing for a partner whose consent lacks `risk`; a same-unit colleague's form is refused
before it is read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World
from tests.api.test_assessments import SECRET, made
from tests.api.test_consent_sharing import Case
from tests.api.test_pages import csrf_from, log_in


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


def test_case_page_links_the_assessments(client: TestClient, world: World, case: Case) -> None:
    log_in(client, world.usernames["social_worker"])
    assert f'href="/arenden/{case.id}/bedomningar"' in client.get(f"/arenden/{case.id}").text


def test_bad_form_is_shown_again_in_swedish_with_the_input_kept_and_nothing_stored(
    client: TestClient, world: World, case: Case
) -> None:
    log_in(client, world.usernames["social_worker"])
    page = client.get(f"/arenden/{case.id}/bedomningar")
    assert "Inga bedömningar." in page.text
    response = client.post(
        f"/arenden/{case.id}/bedomningar",
        data={
            "csrf_token": csrf_from(page.text),
            "level_code": "Z",
            "rationale": "Min motivering",
            "assessed_on": "i fredags",
        },
    )
    assert response.status_code == 422
    assert 'href="#assessed_on">Ange datumet som ÅÅÅÅ-MM-DD.' in response.text
    assert "Min motivering" in response.text
    again = client.post(
        f"/arenden/{case.id}/bedomningar",
        data={"csrf_token": csrf_from(page.text), "level_code": "Z", "rationale": "x"},
    )
    assert "Nivån finns inte i kommunens cylindermodell." in again.text
    assert "Ange vilka i teamet som deltog i bedömningen." in again.text
    listed = client.get(f"/api/v1/cases/{case.id}/assessments", headers=case.owner).json()
    assert listed["items"] == []


def test_the_path_is_an_svg_image_beside_a_table(
    client: TestClient, world: World, case: Case
) -> None:
    made(case, level_code="D")
    made(case, level_code="B")
    log_in(client, world.usernames["social_worker"])
    page = client.get(f"/arenden/{case.id}/bedomningar").text
    assert page.count('role="img"') == 1
    assert page.count('class="mark"') == 2
    assert page.count(SECRET) == 2  # once per table row
    assert "<script" not in page.split("<main", 1)[1]


def test_partner_without_risk_sees_no_assessment_and_with_risk_sees_the_path(
    client: TestClient, world: World, case: Case
) -> None:
    case.all_sign(categories=["basic", "school"])
    made(case)
    log_in(client, world.usernames["school_contact"])
    page = client.get(f"/arenden/{case.id}/bedomningar")
    assert page.status_code == 200
    assert "Inga bedömningar som du kan se." in page.text
    assert "<svg" not in page.text
    assert SECRET not in page.text
    assert 'id="rationale"' not in page.text
    case.all_sign(categories=["basic", "risk"])
    shown = client.get(f"/arenden/{case.id}/bedomningar").text
    assert "<svg" in shown
    assert SECRET in shown


def test_a_colleague_who_does_not_manage_the_case_gets_404_whatever_the_input(
    client: TestClient, world: World, case: Case
) -> None:
    log_in(client, world.usernames["other_social_worker"])
    page = client.get("/start")
    response = client.post(
        f"/arenden/{case.id}/bedomningar",
        data={"csrf_token": csrf_from(page.text), "assessed_on": "inte ett datum"},
    )
    assert response.status_code == 404
