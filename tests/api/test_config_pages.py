"""The administrator's configuration pages (issue 15, item 2): bad input named per field in
Swedish with "Fel:" in the title and nothing changed, a stale edit said plainly, changes that
land in the history page, and 403 for every other role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from common.db import new_session
from domain.configuration.models import ConfigChange
from tests.api.conftest import World, token_for
from tests.api.test_pages import csrf_from, log_in

BASE = "/admin/installningar"
PAGES = [
    BASE,
    f"{BASE}/historik",
    f"{BASE}/samtyckesaldrar",
    f"{BASE}/grunder",
    f"{BASE}/aldersgrupper",
    f"{BASE}/kapacitet",
    f"{BASE}/cylindernivaer",
    f"{BASE}/cylindernivaer/ny",
    f"{BASE}/cylindernivaer/A",
    f"{BASE}/faktorer",
    f"{BASE}/faktorer/ny",
]


def stored_changes(engine: Engine) -> int:
    with new_session(engine) as session:
        return len(session.exec(select(ConfigChange)).all())


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return found.group(1)


def version_in(html: str) -> str:
    found = re.search(r'name="version" value="(-?\d+)"', html)
    assert found, "form has no version"
    return found.group(1)


@pytest.fixture
def admin(client: TestClient, world: World) -> TestClient:
    log_in(client, world.usernames["administrator"])
    return client


def post(client: TestClient, url: str, data: dict[str, str | list[str]]) -> Any:
    form = client.get(url)
    assert form.status_code == 200, form.text
    return client.post(url, data={"csrf_token": csrf_from(form.text), **data})


class TestAccess:
    @pytest.mark.parametrize(
        "role", ["social_worker", "coordinator", "school_contact", "steering", "auditor"]
    )
    def test_other_roles_get_403(self, client: TestClient, world: World, role: str) -> None:
        log_in(client, world.usernames[role])
        for url in PAGES:
            assert client.get(url).status_code == 403, url

    def test_the_administrator_opens_every_page(self, admin: TestClient) -> None:
        for url in PAGES:
            response = admin.get(url)
            assert response.status_code == 200, url
            assert "Fel:" not in title(response.text)


class TestConsentAges:
    def test_bad_ages_are_named_and_nothing_changes(
        self, admin: TestClient, engine: Engine
    ) -> None:
        url = f"{BASE}/samtyckesaldrar"
        form = admin.get(url)
        response = admin.post(
            url,
            data={
                "csrf_token": csrf_from(form.text),
                "version": version_in(form.text),
                "young_person_from_age": "femton",
                "adult_age": "40",
            },
        )
        assert response.status_code == 422
        assert title(response.text).startswith("Fel: ")
        assert 'href="#young_person_from_age"' in response.text
        assert 'href="#adult_age"' in response.text
        assert "Ange en ålder i hela år, 12–18." in response.text
        assert 'value="femton"' in response.text  # the input is kept
        assert stored_changes(engine) == 0

    def test_a_change_shows_in_the_history(self, admin: TestClient) -> None:
        url = f"{BASE}/samtyckesaldrar"
        form = admin.get(url)
        data = {
            "csrf_token": csrf_from(form.text),
            "version": version_in(form.text),
            "young_person_from_age": "14",
            "adult_age": "18",
        }
        saved = admin.post(url, data=data)
        assert saved.status_code == 200
        assert "Samtyckesåldrarna är sparade." in saved.text
        stale = admin.post(url, data={**data, "young_person_from_age": "16"})
        assert stale.status_code == 409
        assert "din ändring sparades inte" in stale.text
        assert title(stale.text).startswith("Fel: ")
        page = admin.get(f"{BASE}/historik").text
        assert "Ändrade: samtyckesåldrar" in page
        assert "Den unga skriver under också från 15 år och ensam från 18 år" in page
        assert "Den unga skriver under också från 14 år och ensam från 18 år" in page


class TestCatalogues:
    def test_grounds_are_renamed_added_and_removed_on_the_page(
        self, admin: TestClient, client: TestClient, world: World
    ) -> None:
        url = f"{BASE}/grunder"
        form = admin.get(url)
        ids = re.findall(r'name="ground_id" value="([^"]*)"', form.text)
        labels = re.findall(r'name="label" type="text" maxlength="200" value="([^"]*)"', form.text)
        assert len(ids) == len(labels) > 3
        labels[0] = "Hög frånvaro, ny lydelse"
        labels[1] = ""  # removed
        labels[-1] = "Ny grund från kommunen"
        saved = admin.post(
            url,
            data={
                "csrf_token": csrf_from(form.text),
                "version": version_in(form.text),
                "ground_id": ids,
                "label": labels,
            },
        )
        assert saved.status_code == 200, saved.text
        school = token_for(client, world.usernames["school_contact"])
        now = [
            g["label"]
            for g in client.get("/api/v1/referral-grounds", headers=school).json()["items"]
        ]
        assert now == [label for label in labels if label]

    def test_a_too_long_ground_is_named_at_its_row(self, admin: TestClient, engine: Engine) -> None:
        url = f"{BASE}/grunder"
        form = admin.get(url)
        ids = re.findall(r'name="ground_id" value="([^"]*)"', form.text)
        labels = re.findall(r'name="label" type="text" maxlength="200" value="([^"]*)"', form.text)
        labels[2] = "x" * 201
        response = admin.post(
            url,
            data={
                "csrf_token": csrf_from(form.text),
                "version": version_in(form.text),
                "ground_id": ids,
                "label": labels,
            },
        )
        assert response.status_code == 422
        assert 'href="#ground-label-2"' in response.text
        assert 'id="ground-label-2-error"' in response.text
        assert stored_changes(engine) == 0

    def test_bad_age_band_and_capacity_are_named(self, admin: TestClient, engine: Engine) -> None:
        bands = admin.get(f"{BASE}/aldersgrupper")
        response = admin.post(
            f"{BASE}/aldersgrupper",
            data={
                "csrf_token": csrf_from(bands.text),
                "version": version_in(bands.text),
                "programme": ["SSPF"],
                "label": ["Unga"],
                "min_age": ["tolv"],
                "max_age": ["17"],
                "crime": ["nej"],
            },
        )
        assert response.status_code == 422
        assert 'href="#band-min_age-0"' in response.text
        upside_down = admin.post(
            f"{BASE}/aldersgrupper",
            data={
                "csrf_token": csrf_from(bands.text),
                "version": version_in(bands.text),
                "programme": ["SSPF"],
                "label": ["Unga"],
                "min_age": ["17"],
                "max_age": ["12"],
                "crime": ["nej"],
            },
        )
        assert upside_down.status_code == 422
        assert 'href="#band-max_age-0"' in upside_down.text
        capacity = admin.get(f"{BASE}/kapacitet")
        refused = admin.post(
            f"{BASE}/kapacitet",
            data={
                "csrf_token": csrf_from(capacity.text),
                "version": version_in(capacity.text),
                "programme": ["SSPF"],
                "agency_kind": ["school"],
                "role": ["bystander"],
                "per_person": ["5000"],
            },
        )
        assert refused.status_code == 422
        assert 'href="#rule-role-0"' in refused.text
        assert 'href="#rule-per_person-0"' in refused.text
        assert stored_changes(engine) == 0


class TestLevelsAndFactors:
    def test_bad_level_is_named_and_a_good_one_lands_in_the_history(
        self, admin: TestClient, engine: Engine
    ) -> None:
        url = f"{BASE}/cylindernivaer/A"
        form = admin.get(url)
        bad = admin.post(
            url,
            data={
                "csrf_token": csrf_from(form.text),
                "version": version_in(form.text),
                "rank": "fyra",
                "wording": "Ny formulering",
            },
        )
        assert bad.status_code == 422
        assert 'href="#rank"' in bad.text
        assert stored_changes(engine) == 0
        taken = admin.post(
            url,
            data={
                "csrf_token": csrf_from(form.text),
                "version": version_in(form.text),
                "rank": "0",
                "wording": "Ny formulering",
            },
        )
        assert taken.status_code == 422
        assert "En annan nivå har redan den ordningen." in taken.text
        good = admin.post(
            url,
            data={
                "csrf_token": csrf_from(form.text),
                "version": version_in(form.text),
                "rank": "4",
                "wording": "Kommunens formulering för A",
            },
        )
        assert good.status_code == 200
        assert "Kommunens formulering för A" in good.text
        history = admin.get(f"{BASE}/historik").text
        assert "Ändrade: cylindernivå" in history
        assert "Nivå A (ordning 4): Kommunens formulering för A" in history

    def test_new_factor_names_its_fields_and_a_retired_one_leaves_the_list(
        self, admin: TestClient, engine: Engine
    ) -> None:
        bad = post(admin, f"{BASE}/faktorer/ny", {"kind": "", "text": " "})
        assert bad.status_code == 422
        assert 'href="#kind"' in bad.text
        assert 'href="#text"' in bad.text
        added = post(admin, f"{BASE}/faktorer/ny", {"kind": "protective", "text": "Körsång"})
        assert added.status_code == 200
        found = re.search(
            r'Körsång – <a href="/admin/installningar/faktorer/([0-9a-f-]{36})"', added.text
        )
        assert found, added.text
        page = admin.get(f"{BASE}/faktorer/{found.group(1)}")
        assert "Nu gäller: Körsång." in page.text
        retire_url = re.search(r'action="(/admin/installningar/faktorer/[^"]+/ta-bort)"', page.text)
        assert retire_url
        retired = admin.post(
            retire_url.group(1),
            data={"csrf_token": csrf_from(page.text), "version": version_in(page.text)},
        )
        assert retired.status_code == 200
        assert "Körsång" not in retired.text
        assert stored_changes(engine) == 2
