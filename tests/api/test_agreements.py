"""The collaboration agreement over the JSON API (issue 14, item 1): the coordinator sets it up,
the steering group reads it and may change nothing, bad input names its field and changes
nothing, a stale version and a change of the frozen grid answer 409."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from audit.models import AuditEvent
from common.db import new_session
from domain.agreements import service as agreements
from tests.api.conftest import World, token_for

URL = "/api/v1/agreements"


def body(world: World, **changes: Any) -> dict[str, Any]:
    return {
        "name": "Samverkansöverenskommelse Test 2023–2027",
        "starts_on": "2023-06-01",
        "ends_on": "2027-06-01",
        "period_kind": "tertial",
        "breakdowns": ["school", "gender", "programme"],
        "areas": ["Norr", "Söder"],
        "school_agency_ids": [str(world.school.id)],
        "follow_up_by": "Styrgruppen för SSPF",
        "parties": [{"name": "Testkommun"}, {"name": "Lokalpolisområde Test"}],
        **changes,
    }


def coordinator(client: TestClient, world: World) -> dict[str, str]:
    return token_for(client, world.usernames["coordinator"])


def steering(client: TestClient, world: World) -> dict[str, str]:
    return token_for(client, world.usernames["steering"])


def create(client: TestClient, world: World, **changes: Any) -> dict[str, Any]:
    response = client.post(URL, json=body(world, **changes), headers=coordinator(client, world))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def with_activity(client: TestClient, world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """An agreement with goal area B and an activity "SSPF på Testskolan" under it."""
    agreement = create(client, world)
    headers = coordinator(client, world)
    goal = client.post(
        f"{URL}/{agreement['id']}/goal-areas",
        json={"letter": "B", "title": "Barn och unga ska lyckas"},
        headers=headers,
    )
    assert goal.status_code == 201, goal.text
    activity = client.post(
        f"{URL}/{agreement['id']}/activities",
        json={
            "goal_area_id": goal.json()["id"],
            "name": "SSPF på Testskolan",
            "programmes": ["SSPF"],
            "school_agency_ids": [str(world.school.id)],
        },
        headers=headers,
    )
    assert activity.status_code == 201, activity.text
    return agreement, activity.json()


def errors_of(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


class TestCreate:
    def test_coordinator_creates_an_agreement_with_its_periods(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        agreement = create(client, world)
        assert agreement["k"] == 5
        assert [p["name"] for p in agreement["parties"]] == ["Testkommun", "Lokalpolisområde Test"]
        # Whole tertials within [2023-06-01, 2027-06-01): from T3 2023 to T1 2027.
        codes = [p["code"] for p in agreement["periods"]]
        assert codes[0] == "2023-T3"
        assert codes[-1] == "2027-T1"
        assert len(codes) == 1 + 3 * 3 + 1
        assert agreement["breakdowns"] == ["programme", "school", "gender"]
        with new_session(engine) as session:
            events = session.exec(
                select(AuditEvent).where(AuditEvent.action == "agreement.create")
            ).all()
        assert [e.resource_id for e in events] == [agreement["id"]]

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"name": " "}, "name"),
            ({"k": 2}, "k"),
            ({"k": 21}, "k"),
            ({"period_kind": "month"}, "period_kind"),
            ({"ends_on": "2023-05-01"}, "ends_on"),
            ({"ends_on": "2023-07-01"}, "ends_on"),  # no whole tertial fits
            ({"breakdowns": ["shoe_size"]}, "breakdowns"),
            ({"school_agency_ids": [str(uuid.uuid4())]}, "school_agency_ids"),
        ],
    )
    def test_bad_input_names_the_field_and_creates_nothing(
        self, client: TestClient, world: World, changes: dict[str, Any], field: str
    ) -> None:
        headers = coordinator(client, world)
        response = client.post(URL, json=body(world, **changes), headers=headers)
        assert response.status_code == 422, response.text
        assert field in errors_of(response)
        assert client.get(URL, headers=headers).json() == []

    def test_a_school_must_be_a_school_agency(self, client: TestClient, world: World) -> None:
        response = client.post(
            URL,
            json=body(world, school_agency_ids=[str(world.unit.id)]),
            headers=coordinator(client, world),
        )
        assert response.status_code == 422
        assert errors_of(response) == {"school_agency_ids"}

    def test_steering_group_may_not_create(self, client: TestClient, world: World) -> None:
        response = client.post(URL, json=body(world), headers=steering(client, world))
        assert response.status_code == 403
        assert client.get(URL, headers=coordinator(client, world)).json() == []


class TestRead:
    def test_steering_group_reads_the_agreement(self, client: TestClient, world: World) -> None:
        agreement, activity = with_activity(client, world)
        headers = steering(client, world)
        listed = client.get(URL, headers=headers)
        assert [a["id"] for a in listed.json()] == [agreement["id"]]
        read = client.get(f"{URL}/{agreement['id']}", headers=headers)
        assert read.status_code == 200
        assert [a["name"] for a in read.json()["activities"]] == [activity["name"]]

    def test_social_worker_has_no_follow_up(self, client: TestClient, world: World) -> None:
        headers = token_for(client, world.usernames["social_worker"])
        assert client.get(URL, headers=headers).status_code == 403

    def test_a_missing_agreement_is_404(self, client: TestClient, world: World) -> None:
        response = client.get(f"{URL}/{uuid.uuid4()}", headers=steering(client, world))
        assert response.status_code == 404


class TestPatch:
    def test_a_change_moves_the_version_on_and_a_stale_one_answers_409(
        self, client: TestClient, world: World
    ) -> None:
        agreement = create(client, world)
        headers = coordinator(client, world)
        url = f"{URL}/{agreement['id']}"
        changed = client.patch(url, json={"version": 1, "name": "Nytt namn"}, headers=headers)
        assert changed.status_code == 200, changed.text
        assert (changed.json()["name"], changed.json()["version"]) == ("Nytt namn", 2)
        stale = client.patch(url, json={"version": 1, "name": "Annat"}, headers=headers)
        assert stale.status_code == 409
        assert client.get(url, headers=headers).json()["name"] == "Nytt namn"

    def test_after_publication_the_grid_is_frozen(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        agreement = create(client, world)
        with new_session(engine) as session:
            agreements.freeze_grid(session, uuid.UUID(agreement["id"]))
            session.commit()
        headers = coordinator(client, world)
        url = f"{URL}/{agreement['id']}"
        version = client.get(url, headers=headers).json()["version"]
        for change in ({"k": 7}, {"breakdowns": ["gender"]}, {"period_kind": "year"}):
            response = client.patch(url, json={"version": version, **change}, headers=headers)
            assert response.status_code == 409, change
            assert response.json()["error"] == "grid_frozen"
            assert (
                "ny överenskommelse" in response.json()["detail"]
                or "new agreement" in (response.json()["detail"])
            )
        renamed = client.patch(url, json={"version": version, "name": "Nytt"}, headers=headers)
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["k"] == 5

    def test_steering_group_may_not_change(self, client: TestClient, world: World) -> None:
        agreement = create(client, world)
        response = client.patch(
            f"{URL}/{agreement['id']}",
            json={"version": 1, "name": "Nytt"},
            headers=steering(client, world),
        )
        assert response.status_code == 403


class TestActivities:
    def test_coverage_outside_the_grid_is_refused_naming_the_field(
        self, client: TestClient, world: World
    ) -> None:
        agreement, activity = with_activity(client, world)
        response = client.post(
            f"{URL}/{agreement['id']}/activities",
            json={
                "goal_area_id": activity["goal_area_id"],
                "name": "SIG i Väster",
                "programmes": ["SIG"],
                "areas": ["Väster"],
            },
            headers=coordinator(client, world),
        )
        assert response.status_code == 422
        assert errors_of(response) == {"areas"}

    def test_a_stale_activity_edit_answers_409(self, client: TestClient, world: World) -> None:
        agreement, activity = with_activity(client, world)
        url = f"{URL}/{agreement['id']}/activities/{activity['id']}"
        headers = coordinator(client, world)
        ok = client.patch(url, json={"version": 1, "areas": ["Norr"]}, headers=headers)
        assert ok.status_code == 200, ok.text
        assert ok.json()["areas"] == ["Norr"]
        assert client.patch(url, json={"version": 1, "name": "X"}, headers=headers).status_code == (
            409
        )

    def test_an_activity_cannot_be_deleted_after_publication(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        agreement, activity = with_activity(client, world)
        with new_session(engine) as session:
            agreements.freeze_grid(session, uuid.UUID(agreement["id"]))
            session.commit()
        url = f"{URL}/{agreement['id']}/activities/{activity['id']}"
        assert client.delete(url, headers=coordinator(client, world)).status_code == 409

    def test_a_goal_area_letter_is_unique(self, client: TestClient, world: World) -> None:
        agreement, _activity = with_activity(client, world)
        response = client.post(
            f"{URL}/{agreement['id']}/goal-areas",
            json={"letter": "b", "title": "Igen"},
            headers=coordinator(client, world),
        )
        assert response.status_code == 422
        assert errors_of(response) == {"letter"}


class TestTargets:
    def target_url(self, agreement: dict[str, Any], activity: dict[str, Any]) -> str:
        return f"{URL}/{agreement['id']}/activities/{activity['id']}/targets"

    def test_targets_of_each_kind(self, client: TestClient, world: World, engine: Engine) -> None:
        agreement, activity = with_activity(client, world)
        headers = coordinator(client, world)
        url = self.target_url(agreement, activity)
        for target in (
            {
                "indicator": "cases_closed",
                "row_code": "goals_met",
                "kind": "count",
                "comparison": "at_least",
                "value": 15,
                "label": "Bryta loss minst 15 unga",
            },
            {
                "indicator": "consent_share",
                "kind": "share",
                "comparison": "at_least",
                "value": 80,
                "label": "Minst 80 % samtycker",
            },
            {
                "indicator": "days_referral_to_first_meeting",
                "kind": "median_days",
                "comparison": "at_most",
                "value": 14,
                "label": "Första mötet inom 14 dagar",
            },
        ):
            response = client.post(url, json=target, headers=headers)
            assert response.status_code == 201, response.text
        read = client.get(f"{URL}/{agreement['id']}", headers=steering(client, world)).json()
        kinds = [t["kind"] for t in read["activities"][0]["targets"]]
        assert kinds == ["count", "share", "median_days"]
        with new_session(engine) as session:
            events = session.exec(
                select(AuditEvent).where(AuditEvent.action == "agreement.target.create")
            ).all()
        assert len(events) == 3

    @pytest.mark.parametrize(
        ("target", "field"),
        [
            ({"indicator": "consent_share", "kind": "count", "value": 3}, "kind"),
            ({"indicator": "meetings", "kind": "share", "value": 3}, "kind"),
            ({"indicator": "cases_closed", "row_code": "nope", "value": 3}, "row_code"),
            ({"indicator": "no_such", "value": 3}, "indicator"),
            ({"value": 2.5}, "value"),
            ({"indicator": "consent_share", "kind": "share", "value": 101}, "value"),
            ({"value": -1}, "value"),
            ({"comparison": "about", "value": 3}, "comparison"),
        ],
    )
    def test_a_wrong_target_names_the_field(
        self, client: TestClient, world: World, target: dict[str, Any], field: str
    ) -> None:
        agreement, activity = with_activity(client, world)
        given = {
            "indicator": "meetings",
            "row_code": None,
            "kind": "count",
            "comparison": "at_least",
            "label": "Mål",
            **target,
        }
        headers = coordinator(client, world)
        response = client.post(self.target_url(agreement, activity), json=given, headers=headers)
        assert response.status_code == 422, response.text
        assert field in errors_of(response)
        read = client.get(f"{URL}/{agreement['id']}", headers=headers).json()
        assert read["activities"][0]["targets"] == []

    def test_delete_and_stale_edit(self, client: TestClient, world: World) -> None:
        agreement, activity = with_activity(client, world)
        headers = coordinator(client, world)
        url = self.target_url(agreement, activity)
        made = client.post(
            url,
            json={
                "indicator": "emergency_stop",
                "row_code": "meetings",
                "kind": "count",
                "comparison": "at_least",
                "value": 2,
                "label": "Nödstoppsmöten",
            },
            headers=headers,
        ).json()
        target_url = f"{url}/{made['id']}"
        assert (
            client.patch(target_url, json={"version": 1, "value": 3}, headers=headers).json()[
                "value"
            ]
            == 3
        )
        assert client.patch(
            target_url, json={"version": 1, "value": 4}, headers=headers
        ).status_code == (409)
        assert client.delete(target_url, headers=steering(client, world)).status_code == 403
        assert client.delete(target_url, headers=headers).status_code == 204
        assert client.delete(target_url, headers=headers).status_code == 404
