"""One view per reader, decided in the domain: the case page and the JSON API show a reader the
same fields, and a partner only those of the consented categories (README: "What each
category shows"), and only the team members of covered agencies."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from common.clock import today
from common.db import new_session
from common.roles import AgencyKind, Role
from tests.api.conftest import World, token_for
from tests.api.test_consent_sharing import SIXTEEN
from tests.api.test_pages import log_in
from tests.api.test_young_persons import person_body
from tests.builders import make_agency, make_user, valid_personnummer

HOME_AREA = "Stadsdelen Påhittad"
GUARDIAN: dict[str, Any] = {
    "name": "Vera Vårdnadshavarsdotter",
    "has_custody": True,
    "phone": "070-111 22 33",
    "email": "vera@exempel.se",
}
SECOND_GUARDIAN: dict[str, Any] = {"name": "Olle Vårdnadshavarsson", "has_custody": True}
POLICE_NAME = "Lokalpolisen Påhittad"
LEISURE_NAME = "Fritidsgården Påhittad"


@dataclass
class Setting:
    categories: list[str]
    agencies: list[str]  # "school", "police", "leisure"
    protected: bool = False


SETTINGS = {
    "basic only": Setting(["basic"], ["school"]),
    "basic and school": Setting(["basic", "school"], ["school"]),
    "basic and social, school and leisure": Setting(["basic", "social"], ["school", "leisure"]),
    "every category, school and police": Setting(
        ["basic", "school", "social", "police", "leisure", "health", "risk", "plan"],
        ["school", "police"],
    ),
    "every category, protected identity": Setting(
        ["basic", "school", "social", "police", "leisure", "health", "risk", "plan"],
        ["school", "police", "leisure"],
        protected=True,
    ),
}


@dataclass
class Scene:
    client: TestClient
    case_id: str
    personnummer: str
    school_name: str
    headers: dict[str, dict[str, str]]


def _scene(client: TestClient, world: World, engine: Engine, setting: Setting) -> Scene:
    with new_session(engine) as session:
        police = make_agency(session, AgencyKind.POLICE, name=POLICE_NAME)
        leisure = make_agency(session, AgencyKind.LEISURE, name=LEISURE_NAME)
        make_user(session, police, Role.CONTACT_PERSON, username="police-contact")
        make_user(session, leisure, Role.CONTACT_PERSON, username="leisure-contact")
        session.commit()
    agency_ids = {
        "school": str(world.school.id),
        "police": str(police.id),
        "leisure": str(leisure.id),
    }
    users = {**world.usernames, "police": "police-contact", "leisure": "leisure-contact"}
    headers = {
        who: token_for(client, users[who])
        for who in ("social_worker", "coordinator", "school_contact", "police", "leisure")
    }
    owner = headers["social_worker"]
    pnr = valid_personnummer(SIXTEEN)
    person = client.post(
        "/api/v1/young-persons",
        json=person_body(
            personnummer=pnr,
            home_area=HOME_AREA,
            school_agency_id=str(world.school.id),
            protected_identity=setting.protected,
            guardians=[GUARDIAN, SECOND_GUARDIAN],
        ),
        headers=owner,
    ).json()
    case = client.post(
        "/api/v1/cases", json={"young_person_id": person["id"], "programme": "SSPF"}, headers=owner
    ).json()
    client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"target": "consent_pending", "version": case["version"]},
        headers=owner,
    )
    for who in ("school_contact", "police", "leisure"):
        me = client.get("/api/v1/auth/me", headers=headers[who]).json()["user_id"]
        added = client.post(f"/api/v1/cases/{case['id']}/team", json={"user_id": me}, headers=owner)
        assert added.status_code == 204, added.text
    for signer in [*(g["id"] for g in person["guardians"]), "young_person"]:
        recorded = client.post(
            f"/api/v1/cases/{case['id']}/consents",
            headers=owner,
            json={
                "signer": signer,
                "decision": "given",
                "signed_on": str(today()),
                "agencies": [agency_ids[a] for a in setting.agencies],
                "categories": setting.categories,
                "method": "paper_form",
            },
        )
        assert recorded.status_code == 201, recorded.text
    return Scene(client, case["id"], pnr.replace("-", ""), world.school.name, headers)


def _shown(page: str, value: str) -> bool:
    return html.escape(value, quote=False) in page


def _page_of(scene: Scene, world: World, who: str) -> str:
    username = {"police": "police-contact", "leisure": "leisure-contact"}.get(
        who
    ) or world.usernames[who]
    log_in(scene.client, username)
    response = scene.client.get(f"/arenden/{scene.case_id}")
    assert response.status_code == 200, response.text
    return response.text


def _field_values(data: dict[str, Any]) -> dict[str, str | None]:
    """Each field of the person view as the page would print it (None: withheld)."""
    person = data["young_person"]
    pnr = person["personnummer"]
    guardians = person["guardians"]
    first = guardians[0] if guardians else None
    return {
        "personnummer": f"{pnr[:8]}-{pnr[8:]}" if pnr else None,
        "birth_date": person["birth_date"],
        "gender": {"female": "Flicka"}.get(person["gender"]) if person["gender"] else None,
        "home_area": person["home_area"],
        "school_name": person["school_name"],
        "guardian name": first["name"] if first else None,
        "guardian phone": first["phone"] if first else None,
        "guardian email": first["email"] if first else None,
    }


@pytest.mark.parametrize("setting", list(SETTINGS.values()), ids=list(SETTINGS))
def test_page_and_json_show_each_reader_the_same_fields(
    client: TestClient, world: World, engine: Engine, setting: Setting
) -> None:
    scene = _scene(client, world, engine, setting)
    for who in ("social_worker", "coordinator", "school_contact", "police", "leisure"):
        response = client.get(f"/api/v1/cases/{scene.case_id}", headers=scene.headers[who])
        partner = who in ("school_contact", "police", "leisure")
        covered = {"school_contact": "school"}.get(who, who) in setting.agencies
        if partner and not covered:
            assert response.status_code == 404
            continue
        assert response.status_code == 200, (who, response.text)
        data = response.json()
        whole = _page_of(scene, world, who)
        page = whole.split("<h2>Den unga personen</h2>")[1].split("<h2>Team</h2>")[0]
        values = _field_values(data)
        for field, value in values.items():
            assert (value is not None) == (value is not None and _shown(page, value)), (who, field)
        stored: dict[str, str] = {
            "personnummer": f"{scene.personnummer[:8]}-{scene.personnummer[8:]}",
            "home_area": HOME_AREA,
            "school_name": scene.school_name,
            "guardian name": GUARDIAN["name"],
            "guardian phone": GUARDIAN["phone"],
        }
        for field, secret in stored.items():
            if values[field] is None:
                assert not _shown(page, secret), (who, field, "on the page but not in the JSON")

        expected = _expected_fields(setting, partner=partner, owner=who == "social_worker")
        shown = {field for field, value in values.items() if value is not None}
        assert shown == expected, (who, sorted(shown), sorted(expected))
        team_agencies = {member["agency_name"] for member in data["team"]}
        for name in (POLICE_NAME, LEISURE_NAME, world.school.name):
            assert (name in team_agencies) == _shown(whole.split("<h2>Team</h2>")[1], name), (
                who,
                name,
            )
        if partner:
            allowed = {
                {"school": world.school.name, "police": POLICE_NAME, "leisure": LEISURE_NAME}[a]
                for a in setting.agencies
            }
            assert team_agencies == allowed | {world.unit.name}, who


def _expected_fields(setting: Setting, *, partner: bool, owner: bool) -> set[str]:
    if not partner:
        fields = {"personnummer", "birth_date", "gender"}
        fields |= {"guardian name", "guardian phone", "guardian email"}
        return fields | {"home_area", "school_name"} if owner or not setting.protected else fields
    fields = set()
    if "social" in setting.categories:
        fields |= {"guardian name", "guardian phone", "guardian email"}
        if not setting.protected:
            fields.add("home_area")
    if "school" in setting.categories and not setting.protected:
        fields.add("school_name")
    return fields
