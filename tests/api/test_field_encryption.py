"""A value copied into another row makes the request fail; it never shows the other row's."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from common.db import new_session
from consent.guard import unscoped
from tests.api.conftest import World, token_for
from tests.api.test_young_persons import person_body


def test_a_name_copied_from_another_row_fails_the_request_instead_of_showing_it(
    client: TestClient, world: World, engine: Engine
) -> None:
    headers = token_for(client, world.usernames["social_worker"])
    created = [
        client.post(
            "/api/v1/young-persons",
            json=person_body(first_name=name, home_area=area),
            headers=headers,
        ).json()
        for name, area in (("Källnamnet", "Norra Demo"), ("Målnamnet", "Södra Demo"))
    ]
    source, target = created
    with new_session(engine) as session:
        dialect = session.get_bind().dialect.name
        ids = {
            p["id"]: (p["id"].replace("-", "") if dialect == "sqlite" else p["id"]) for p in created
        }
        for column in ("first_name", "home_area"):
            value = session.execute(
                unscoped(
                    text(f"SELECT {column} FROM young_person WHERE id = :id"), "test: stored form"
                ),
                {"id": ids[source["id"]]},
            ).scalar_one()
            session.execute(
                text(f"UPDATE young_person SET {column} = :value WHERE id = :id"),
                {"value": value, "id": ids[target["id"]]},
            )
        session.commit()

    response = client.get(f"/api/v1/young-persons/{target['id']}", headers=headers)
    assert response.status_code == 500
    assert "Källnamnet" not in response.text
    assert "Norra Demo" not in response.text
    # the source row is untouched and still reads
    assert (
        client.get(f"/api/v1/young-persons/{source['id']}", headers=headers).json()["first_name"]
        == "Källnamnet"
    )
