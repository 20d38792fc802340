"""The follow-up report and the steering dashboard through the JSON API and the pages, with
the statistics stand-in of tests/statistics_fake.py (issue 14 items 5–6)."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from common.db import new_session
from domain.agreements import service as agreements
from domain.auth.service import actor_for
from domain.statistics.spec import SUPPRESSED_LEGEND
from domain.users.models import User
from tests.api.conftest import World, token_for
from tests.api.test_pages import csrf_from, log_in
from tests.statistics_fake import AREAS, FakeStatistics

PERIOD = "2026-T2"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def ids(app: FastAPI, engine: Engine, world: World) -> dict[str, str]:
    """An agreement with one activity and a target, made by the coordinator."""
    app.state.statistics = FakeStatistics()
    with new_session(engine) as session:
        user = session.exec(select(User).where(User.username == "coordinator")).one()
        coordinator = actor_for(session, user)
        agreement = agreements.create_agreement(
            session,
            coordinator,
            name="Överenskommelse Test 2026–2027",
            starts_on=date(2026, 1, 1),
            ends_on=date(2028, 1, 1),
            period_kind="tertial",
            breakdowns=["area"],
            areas=list(AREAS),
        )
        goal = agreements.add_goal_area(
            session, coordinator, agreement.id, letter="A", title="Unga"
        )
        activity = agreements.add_activity(
            session,
            coordinator,
            agreement.id,
            goal_area_id=goal.id,
            name="SSPF på Testskolan",
            programmes=["SSPF"],
        )
        agreements.add_target(
            session,
            coordinator,
            agreement.id,
            activity.id,
            indicator="young_people_flow",
            row_code="inflow",
            kind="count",
            comparison="at_least",
            value=15,
            label="Minst 15 nya unga",
        )
        session.commit()
        return {"agreement_id": str(agreement.id), "activity_id": str(activity.id)}


def _key(ids: dict[str, str]) -> dict[str, str]:
    return {**ids, "period": PERIOD}


def _publish_via_api(client: TestClient, world: World, ids: dict[str, str]) -> dict[str, object]:
    owner = token_for(client, world.usernames["coordinator"])
    saved = client.put(
        "/api/v1/follow-up/reports/narrative",
        json={**_key(ids), "narrative": "Målet är nått.", "version": 0},
        headers=owner,
    )
    assert saved.status_code == 200, saved.text
    published = client.post(
        "/api/v1/follow-up/reports/publish",
        json={**_key(ids), "version": saved.json()["version"]},
        headers=owner,
    )
    assert published.status_code == 201, published.text
    body: dict[str, object] = published.json()
    return body


class TestReportsApi:
    def test_preview_shows_targets_and_suppressed_as_null(
        self, client: TestClient, world: World, ids: dict[str, str]
    ) -> None:
        owner = token_for(client, world.usernames["coordinator"])
        response = client.get("/api/v1/follow-up/reports/preview", params=_key(ids), headers=owner)
        assert response.status_code == 200, response.text
        document = response.json()["document"]
        assert document["targets"][0]["met_label"] == "Ja"
        assert any(v is None for t in document["tables"] for line in t["values"] for v in line)
        assert response.json()["draft"]["version"] == 0

    def test_a_period_outside_the_agreement_is_422(
        self, client: TestClient, world: World, ids: dict[str, str]
    ) -> None:
        owner = token_for(client, world.usernames["coordinator"])
        response = client.get(
            "/api/v1/follow-up/reports/preview", params={**ids, "period": "2031-T1"}, headers=owner
        )
        assert response.status_code == 422
        assert "period" in response.text

    def test_publish_twice_and_edit_after_publish_are_409(
        self, client: TestClient, world: World, ids: dict[str, str]
    ) -> None:
        owner = token_for(client, world.usernames["coordinator"])
        _publish_via_api(client, world, ids)
        again = client.post(
            "/api/v1/follow-up/reports/publish", json={**_key(ids), "version": 2}, headers=owner
        )
        assert again.status_code == 409
        assert again.json()["error"] == "already_published"
        edit = client.put(
            "/api/v1/follow-up/reports/narrative",
            json={**_key(ids), "narrative": "Ny text", "version": 2},
            headers=owner,
        )
        assert edit.status_code == 409
        releases = client.get("/api/v1/follow-up/releases", headers=owner).json()["items"]
        assert len(releases) == 1

    def test_a_correction_is_a_new_release(
        self, client: TestClient, world: World, ids: dict[str, str]
    ) -> None:
        owner = token_for(client, world.usernames["coordinator"])
        _publish_via_api(client, world, ids)
        reopened = client.post(
            "/api/v1/follow-up/reports/correct", json={**_key(ids), "version": 2}, headers=owner
        )
        assert reopened.status_code == 200, reopened.text
        second = client.post(
            "/api/v1/follow-up/reports/publish",
            json={**_key(ids), "version": reopened.json()["version"]},
            headers=owner,
        )
        assert second.status_code == 201
        assert (second.json()["number"], second.json()["corrects"]) == (2, 1)

    def test_the_steering_group_cannot_preview_or_publish(
        self, client: TestClient, world: World, ids: dict[str, str]
    ) -> None:
        steering = token_for(client, world.usernames["steering"])
        preview = client.get(
            "/api/v1/follow-up/reports/preview", params=_key(ids), headers=steering
        )
        publish = client.post(
            "/api/v1/follow-up/reports/publish", json={**_key(ids), "version": 0}, headers=steering
        )
        assert (preview.status_code, publish.status_code) == (403, 403)


class TestReleasesApi:
    def test_downloads_are_the_published_bytes(
        self, client: TestClient, world: World, ids: dict[str, str]
    ) -> None:
        release = _publish_via_api(client, world, ids)
        steering = token_for(client, world.usernames["steering"])
        for kind in ("json", "csv", "pdf"):
            response = client.get(
                f"/api/v1/follow-up/releases/{release['id']}/report.{kind}", headers=steering
            )
            assert response.status_code == 200
            assert hashlib.sha256(response.content).hexdigest() == release[f"{kind}_sha256"]
        assert (
            client.get(f"/api/v1/follow-up/releases/{uuid.uuid4()}", headers=steering).status_code
            == 404
        )

    def test_the_steering_group_sees_no_person(
        self, client: TestClient, world: World, ids: dict[str, str]
    ) -> None:
        release = _publish_via_api(client, world, ids)
        steering = token_for(client, world.usernames["steering"])
        allowed = {str(release["id"]), ids["agreement_id"], ids["activity_id"]}
        texts = [
            client.get("/api/v1/follow-up/releases", headers=steering).text,
            client.get(f"/api/v1/follow-up/releases/{release['id']}", headers=steering).text,
            client.get(
                f"/api/v1/follow-up/releases/{release['id']}/report.csv", headers=steering
            ).content.decode("utf-8-sig"),
        ]
        for text in texts:
            assert set(_UUID.findall(text)) <= allowed
            assert "published_by" not in text


class TestPages:
    def test_coordinator_previews_writes_and_publishes(
        self, client: TestClient, world: World, ids: dict[str, str]
    ) -> None:
        log_in(client, world.usernames["coordinator"])
        url = (
            f"/uppfoljning/rapporter/rapport?overenskommelse={ids['agreement_id']}"
            f"&aktivitet={ids['activity_id']}&period={PERIOD}"
        )
        page = client.get(url)
        assert page.status_code == 200, page.text
        assert "Är målet nått?" in page.text
        assert SUPPRESSED_LEGEND in page.text
        token = csrf_from(page.text)
        form = {
            **{"overenskommelse": ids["agreement_id"], "aktivitet": ids["activity_id"]},
            "period": PERIOD,
            "csrf_token": token,
        }
        saved = client.post(
            "/uppfoljning/rapporter/kommentar",
            data={**form, "version": "0", "narrative": "Vi har haft tre nätverksträffar."},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        unconfirmed = client.post("/uppfoljning/rapporter/publicera", data={**form, "version": "1"})
        assert unconfirmed.status_code == 422
        assert "Bekräfta" in unconfirmed.text
        published = client.post(
            "/uppfoljning/rapporter/publicera",
            data={**form, "version": "1", "bekrafta": "ja"},
            follow_redirects=False,
        )
        assert published.status_code == 303
        release = client.get(published.headers["location"])
        assert "Vi har haft tre nätverksträffar." in release.text
        assert "SHA-256" in release.text
        listing = client.get("/uppfoljning/rapporter")
        assert "Publicerad (nr 1)" in listing.text

    def test_the_dashboard_shows_published_releases_only(
        self, client: TestClient, world: World, ids: dict[str, str]
    ) -> None:
        log_in(client, world.usernames["steering"])
        empty = client.get("/uppfoljning")
        assert "Inget är publicerat ännu." in empty.text
        release = _publish_via_api(client, world, ids)
        log_in(client, world.usernames["steering"])
        page = client.get("/uppfoljning")
        assert page.status_code == 200
        assert page.text.count("<svg") == 4
        assert 'aria-labelledby="a0-0-key-title a0-0-key-desc"' in page.text
        assert 'aria-labelledby="a0-0-flow-title a0-0-flow-desc"' in page.text
        assert page.text.index("Nyckeltal per period") < page.text.index("Unga in och ut")
        assert "Målet är nått." not in page.text  # the narrative is on the release page
        assert f"/uppfoljning/publicerat/{release['id']}/rapport.pdf" in page.text
        assert SUPPRESSED_LEGEND in page.text
        assert set(_UUID.findall(page.text)) <= {str(release["id"])}
        assert client.get("/uppfoljning/rapporter").status_code == 403
        pdf = client.get(f"/uppfoljning/publicerat/{release['id']}/rapport.pdf")
        assert pdf.content.startswith(b"%PDF-")
