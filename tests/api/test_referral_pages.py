"""The referral pages: Swedish errors naming fields, and the sender's status-only list."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.api.conftest import World, token_for
from tests.api.test_pages import csrf_from, log_in
from tests.api.test_referrals import _born, grounds, refer, stored
from tests.builders import valid_personnummer


def test_bad_referral_form_shows_swedish_errors_and_stores_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    log_in(client, world.usernames["school_contact"])
    form = client.get("/aktualiseringar/ny")
    assert form.status_code == 200
    response = client.post(
        "/aktualiseringar/ny",
        data={"csrf_token": csrf_from(form.text), "personnummer": "123", "programme": "SSPF"},
    )
    assert response.status_code == 422
    assert "Välj minst en grund." in response.text
    assert 'href="#grounds"' in response.text
    assert "Välj området där den unga personen bor" in response.text
    assert stored(engine) == 0


def test_school_refers_on_the_page_and_sees_only_the_status(
    client: TestClient, world: World
) -> None:
    school = token_for(client, world.usernames["school_contact"])
    ids = [g["id"] for g in grounds(client, school)[:2]]
    log_in(client, world.usernames["school_contact"])
    form = client.get("/aktualiseringar/ny")
    sent = client.post(
        "/aktualiseringar/ny",
        data={
            "csrf_token": csrf_from(form.text),
            "personnummer": valid_personnummer(_born(14)),
            "programme": "SSPF",
            "grounds": ids,
            "text": "Oro för frånvaro",
            "receiving_agency_id": str(world.unit.id),
        },
    )
    assert sent.status_code == 200, sent.text  # followed to Mina aktualiseringar
    assert "Aktualiseringen är skickad." in sent.text
    assert "Mottagen" in sent.text
    assert "Oro för frånvaro" not in sent.text


def test_hand_over_on_the_page_and_coordinators_are_not_offered_a_new_case(
    client: TestClient, world: World
) -> None:
    school = token_for(client, world.usernames["school_contact"])
    made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
    log_in(client, world.usernames["coordinator"])
    page = client.get(f"/aktualiseringar/{made['id']}")
    assert page.status_code == 200
    assert 'value="open_case"' not in page.text
    assert "Ett nytt ärende öppnas av en handläggare." in page.text

    log_in(client, world.usernames["social_worker"])
    page = client.get(f"/aktualiseringar/{made['id']}")
    assert 'value="open_case"' in page.text
    assert "Lämna över" in page.text
    token = csrf_from(page.text)
    same = client.post(
        f"/aktualiseringar/{made['id']}/overlamna",
        data={"csrf_token": token, "version": "1", "receiving_agency_id": str(world.unit.id)},
    )
    assert same.status_code == 422
    assert "Aktualiseringen finns redan hos den enheten" in same.text
    assert same.text.count("<title>Fel:") == 1
    moved = client.post(
        f"/aktualiseringar/{made['id']}/overlamna",
        data={
            "csrf_token": token,
            "version": "1",
            "receiving_agency_id": str(world.other_unit.id),
        },
    )
    assert moved.status_code == 200, moved.text  # followed to the inbox
    assert "Aktualiseringen är överlämnad." in moved.text
    assert client.get(f"/aktualiseringar/{made['id']}").status_code == 404


def test_the_inbox_shows_undecided_referrals_unless_asked_for_all(
    client: TestClient, world: World
) -> None:
    school = token_for(client, world.usernames["school_contact"])
    waiting = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
    declined = refer(client, school, world, personnummer=valid_personnummer(_born(15)))
    worker = token_for(client, world.usernames["social_worker"])
    done = client.post(
        f"/api/v1/referrals/{declined['id']}/decision",
        json={"decision": "decline", "reason": "Påhittat", "version": 1},
        headers=worker,
    )
    assert done.status_code == 200
    log_in(client, world.usernames["social_worker"])
    undecided = client.get("/aktualiseringar").text
    assert f"/aktualiseringar/{waiting['id']}" in undecided
    assert f"/aktualiseringar/{declined['id']}" not in undecided
    everything = client.get("/aktualiseringar?visa=alla").text
    assert f"/aktualiseringar/{declined['id']}" in everything
