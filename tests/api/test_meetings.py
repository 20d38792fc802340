"""The meetings API: bad input names the field in English and stores nothing, concurrent edits
get 409 with the current version, the minutes' rules hold, partners see within consent and
404 like a missing record otherwise, reads are audited with the consent basis, and the .ics
carries no personal data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.engine import Engine

from common.clock import STOCKHOLM, today
from tests.api.conftest import World, token_for
from tests.api.test_audit import integrate
from tests.api.test_consent_sharing import Case


def _at(days: int, hour: int) -> str:
    day = today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM).isoformat()


class Meeting:
    """An active case (consent: basic and school, for the school) with a network meeting."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.case = Case(client, world)
        self.case.all_sign(categories=["basic", "school"])
        self.client = client
        self.owner, self.partner = self.case.owner, self.case.partner
        created = client.post(self.base, headers=self.owner, json=self.body())
        assert created.status_code == 201, created.text
        self.id = created.json()["id"]
        self.url = f"{self.base}/{self.id}"

    @property
    def base(self) -> str:
        return f"/api/v1/cases/{self.case.id}/meetings"

    def body(self, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "network",
            "starts_at": _at(2, 9),
            "ends_at": _at(2, 10),
            "place": "Ekbackens skola, rum 12",
            "attendees": [
                {"kind": "user", "user_id": self.case.school_user},
                {"kind": "young_person"},
                {"kind": "guardian", "guardian_id": self.case.guardians[0]},
                {"kind": "other", "name": "Olle Påhittad", "role": "Fotbollstränare"},
            ],
        }
        body.update(changes)
        return body

    def read(self, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(self.url, headers=headers or self.owner)

    def add(self, headers: dict[str, str], **item: Any) -> Any:
        body = {"heading": "Rubrik", "text": "Text", "category": "school", **item}
        return self.client.post(self.url + "/items", headers=headers, json=body)


@pytest.fixture
def meeting(client: TestClient, world: World) -> Meeting:
    return Meeting(client, world)


def _fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


class TestScheduling:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"ends_at": _at(2, 8)}, "ends_at"),
            ({"kind": "party"}, "kind"),
            ({"place": ""}, "place"),
            ({"chair_user_id": str(uuid.uuid4())}, "chair_user_id"),
            (
                {"attendees": [{"kind": "user", "user_id": str(uuid.uuid4())}]},
                "attendees.0.user_id",
            ),
            (
                {"attendees": [{"kind": "guardian", "guardian_id": str(uuid.uuid4())}]},
                "attendees.0.guardian_id",
            ),
        ],
    )
    def test_bad_input_names_the_field_in_english_and_stores_nothing(
        self, meeting: Meeting, change: dict[str, Any], field: str
    ) -> None:
        response = meeting.client.post(
            meeting.base, headers=meeting.owner, json=meeting.body(**change)
        )
        assert response.status_code == 422
        assert _fields(response) == [field]
        assert response.json()["errors"][0]["message"].isascii()
        listed = meeting.client.get(meeting.base, headers=meeting.owner).json()
        assert [m["id"] for m in listed] == [meeting.id]

    def test_guardian_of_another_case_is_refused(
        self, meeting: Meeting, client: TestClient, world: World
    ) -> None:
        other = Case(client, world)
        body = meeting.body(attendees=[{"kind": "guardian", "guardian_id": other.guardians[0]}])
        response = client.post(meeting.base, headers=meeting.owner, json=body)
        assert (response.status_code, _fields(response)) == (422, ["attendees.0.guardian_id"])

    def test_emergency_in_the_past_or_after_tomorrow_is_refused(self, meeting: Meeting) -> None:
        url = f"/api/v1/cases/{meeting.case.id}/emergency-meetings"
        past = datetime.now(UTC) - timedelta(minutes=1)
        for starts in (past, datetime.now(UTC) + timedelta(days=3)):
            body = {
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "place": "Socialkontoret",
            }
            response = meeting.client.post(url, headers=meeting.owner, json=body)
            assert (response.status_code, _fields(response)) == (422, ["starts_at"])
        soon = datetime.now(UTC) + timedelta(hours=1)
        called = meeting.client.post(
            url,
            headers=meeting.owner,
            json={
                "starts_at": soon.isoformat(),
                "ends_at": (soon + timedelta(hours=1)).isoformat(),
                "place": "Socialkontoret",
            },
        )
        assert called.status_code == 201, called.text
        assert called.json()["kind"] == "emergency_stop"

    def test_stale_edit_gets_409_with_the_current_version(self, meeting: Meeting) -> None:
        first = meeting.client.patch(
            meeting.url, headers=meeting.owner, json={"version": 1, "place": "Rum 2"}
        )
        assert first.status_code == 200
        assert (first.json()["version"], first.json()["sequence"]) == (2, 1)
        assert first.headers["ETag"] == '"2"'
        later = meeting.client.patch(
            meeting.url, headers=meeting.owner, json={"version": 1, "status": "cancelled"}
        )
        assert later.status_code == 409
        assert later.json()["current_version"] == 2
        assert meeting.read().json()["status"] == "scheduled"

    def test_attendance_is_recorded_as_a_whole_list(self, meeting: Meeting) -> None:
        response = meeting.client.put(
            meeting.url + "/attendance",
            headers=meeting.owner,
            json={
                "version": 1,
                "attendees": [
                    {"kind": "young_person", "status": "came"},
                    {
                        "kind": "guardian",
                        "guardian_id": meeting.case.guardians[0],
                        "status": "came",
                    },
                    {
                        "kind": "guardian",
                        "guardian_id": meeting.case.guardians[1],
                        "status": "absent",
                    },
                ],
            },
        )
        assert response.status_code == 200, response.text
        statuses = sorted((a["kind"], a["status"]) for a in response.json()["attendees"])
        assert statuses == [("guardian", "absent"), ("guardian", "came"), ("young_person", "came")]
        stale = meeting.client.put(
            meeting.url + "/attendance", headers=meeting.owner, json={"version": 1, "attendees": []}
        )
        assert (stale.status_code, stale.json()["current_version"]) == (409, 2)


class TestMinutes:
    def test_finalise_twice_amend_a_draft_and_edit_a_final_item(self, meeting: Meeting) -> None:
        item = meeting.add(meeting.owner).json()
        draft_amend = meeting.client.post(
            f"{meeting.url}/items/{item['id']}/amendments",
            headers=meeting.owner,
            json={"heading": "R", "text": "T", "category": "school"},
        )
        assert draft_amend.status_code == 409
        final = meeting.client.post(
            meeting.url + "/finalise", headers=meeting.owner, json={"version": 1}
        )
        assert final.status_code == 200
        assert final.json()["minutes_state"] == "final"
        again = meeting.client.post(
            meeting.url + "/finalise", headers=meeting.owner, json={"version": 2}
        )
        assert again.status_code == 409
        edit = meeting.client.patch(
            f"{meeting.url}/items/{item['id']}",
            headers=meeting.owner,
            json={"heading": "Ny", "text": "Ny", "category": "school", "version": 1},
        )
        assert edit.status_code == 409
        amend = meeting.client.post(
            f"{meeting.url}/items/{item['id']}/amendments",
            headers=meeting.owner,
            json={"heading": "Rättelse", "text": "Rätt", "category": "school"},
        )
        assert amend.status_code == 201
        items = meeting.read().json()["items"]
        assert [(i["heading"], [a["heading"] for a in i["amendments"]]) for i in items] == [
            ("Rubrik", ["Rättelse"])
        ]

    def test_unknown_category_and_concurrent_item_edits(self, meeting: Meeting) -> None:
        bad = meeting.add(meeting.partner, category="gossip")
        assert (bad.status_code, _fields(bad)) == (422, ["category"])
        uncovered = meeting.add(meeting.partner, category="police", visibility="own_agency")
        assert (uncovered.status_code, _fields(uncovered)) == (422, ["category"])
        item = meeting.add(meeting.partner).json()
        url = f"{meeting.url}/items/{item['id']}"
        body = {"heading": "A", "text": "A", "category": "school", "version": 1}
        assert meeting.client.patch(url, headers=meeting.partner, json=body).status_code == 200
        stale = meeting.client.patch(url, headers=meeting.partner, json={**body, "heading": "B"})
        assert (stale.status_code, stale.json()["current_version"]) == (409, 2)
        other = meeting.client.patch(url, headers=meeting.owner, json={**body, "version": 2})
        assert other.status_code == 403  # not the author

    def test_partner_sees_consented_items_and_404s_after_withdrawal(
        self, meeting: Meeting, app: FastAPI, engine: Engine, world: World
    ) -> None:
        meeting.add(meeting.owner, heading="Skola")
        meeting.add(meeting.owner, heading="Socialt", category="social")
        meeting.add(meeting.owner, heading="Egen", visibility="own_agency")
        meeting.add(meeting.partner, heading="Skolans egen", visibility="own_agency")
        seen = meeting.read(meeting.partner).json()
        assert [i["heading"] for i in seen["items"]] == ["Skola", "Skolans egen"]
        names = {a["kind"]: a["name"] for a in seen["attendees"]}
        assert names["guardian"] == "Vårdnadshavare"  # no social category: no name
        owner_view = meeting.read().json()
        assert [i["heading"] for i in owner_view["items"]] == ["Skola", "Socialt", "Egen"]
        assert {a["kind"]: a["name"] for a in owner_view["attendees"]}["guardian"] == (
            "Anna Vårdnadshavare"
        )

        consents = meeting.client.get(
            f"/api/v1/cases/{meeting.case.id}/consents", headers=meeting.owner
        ).json()
        record = consents["records"][0]["id"]
        withdrawn = meeting.client.post(
            f"/api/v1/consents/{record}/withdrawal", headers=meeting.owner
        )
        assert withdrawn.status_code == 204
        missing = meeting.client.get(
            f"/api/v1/cases/{meeting.case.id}/meetings/{uuid.uuid4()}", headers=meeting.partner
        )
        for url in (meeting.url, meeting.url + "/invitation.ics", meeting.base):
            hidden = meeting.client.get(url, headers=meeting.partner)
            assert (hidden.status_code, hidden.json()) == (404, missing.json())

        integrate(app, engine)
        auditor = token_for(meeting.client, world.usernames["auditor"])
        events = meeting.client.get(
            "/api/v1/audit/events", params={"action": "meeting.read"}, headers=auditor
        ).json()["items"]
        partner_reads = [e for e in events if e["basis"].get("kind") == "consent"]
        assert partner_reads, events
        assert partner_reads[0]["basis"]["consent_records"]
        assert len(partner_reads[0]["basis"]["minute_items"]) == 2

    def test_missing_and_hidden_meetings_answer_alike(self, meeting: Meeting) -> None:
        random_case = meeting.url.replace(meeting.case.id, str(uuid.uuid4()))
        random_meeting = f"{meeting.base}/{uuid.uuid4()}"
        a = meeting.client.get(random_case, headers=meeting.owner)
        b = meeting.client.get(random_meeting, headers=meeting.owner)
        assert (a.status_code, a.json()) == (b.status_code, b.json()) == (404, a.json())


def test_invitation_has_no_personal_data(meeting: Meeting) -> None:
    response = meeting.client.get(meeting.url + "/invitation.ics", headers=meeting.partner)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["cache-control"] == "no-store"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["METHOD"]) == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    reference = meeting.client.get(f"/api/v1/cases/{meeting.case.id}", headers=meeting.owner).json()
    assert str(event["UID"]) == f"{meeting.id}@samsyn"
    assert event.decoded("SEQUENCE") == 0
    assert str(event["SUMMARY"]) == f"{reference['reference']}: Nätverksmöte"
    assert str(event["LOCATION"]) == "Ekbackens skola, rum 12"
    assert event.decoded("DTSTART").tzinfo is not None
    text = response.content.decode()
    person = reference["young_person"]
    for secret in (
        person["first_name"],
        person["last_name"],
        person["personnummer"],
        person["personnummer"][2:],
        "Vårdnadshavare",
        "Olle",
        "Påhittad",
        "Testanvändare",
    ):
        assert secret not in text
    assert "ATTENDEE" not in text
    assert "ORGANIZER" not in text

    cancelled = meeting.client.patch(
        meeting.url, headers=meeting.owner, json={"version": 1, "status": "cancelled"}
    )
    assert cancelled.status_code == 200
    again = Calendar.from_ical(
        meeting.client.get(meeting.url + "/invitation.ics", headers=meeting.owner).content
    )
    assert str(again["METHOD"]) == "CANCEL"
    assert again.walk("VEVENT")[0].decoded("SEQUENCE") == 1
