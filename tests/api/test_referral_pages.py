"""The referral pages: Swedish errors naming fields, and the sender's status-only list."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.api.conftest import World, token_for
from tests.api.test_pages import csrf_from, log_in
from tests.api.test_referrals import _born, grounds, stored
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
    assert "Välj vilken socialtjänst" in response.text
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
