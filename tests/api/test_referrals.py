"""Referrals through the JSON API: raising, the sender's narrow view, the inbox with
duplicates, triage outcomes, the waiting list and the configuration."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from audit.models import AuditEvent
from common.clock import STOCKHOLM, today, utcnow
from common.db import new_session
from common.roles import AgencyKind, Role
from consent.guard import unscoped
from domain.agencies.models import Agency
from domain.people.models import YoungPerson
from domain.referrals.models import Referral
from tests.api.conftest import World, token_for
from tests.api.test_cases import open_case
from tests.builders import make_agency, make_user, valid_personnummer


def _born(age: int) -> date:
    return today() - timedelta(days=365 * age + 100)


@pytest.fixture
def police(engine: Engine, world: World) -> list[str]:
    """A police district with two contact persons; their usernames."""
    with new_session(engine) as session:
        agency = make_agency(session, AgencyKind.POLICE, name="Lokalpolisområde Test")
        names = [
            make_user(session, agency, Role.CONTACT_PERSON, username=f"polis-{n}").username
            for n in (1, 2)
        ]
        session.commit()
    return names


def grounds(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/referral-grounds", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def refer(
    client: TestClient,
    headers: dict[str, str],
    world: World,
    *,
    personnummer: str | None = None,
    programme: str = "SSPF",
    count: int = 2,
    **extra: Any,
) -> dict[str, Any]:
    ids = [g["id"] for g in grounds(client, headers)[:count]]
    body = {
        "programme": programme,
        "grounds": ids,
        "personnummer": personnummer,
        "text": "Hög frånvaro sedan oktober.",
        "receiving_agency_id": str(world.unit.id),
        **extra,
    }
    response = client.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def stored(engine: Engine) -> int:
    with new_session(engine) as session:
        statement = unscoped(select(func.count()).select_from(Referral), "test: a count")
        return int(session.exec(statement).one())


def actions(engine: Engine, action: str) -> list[AuditEvent]:
    with new_session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
            ).all()
        )


class TestRaise:
    def test_school_contact_raises_and_sees_only_a_status(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        pnr = valid_personnummer(_born(14))
        made = refer(client, school, world, personnummer=pnr)
        assert made["status"] == "received"
        assert set(made) == {"id", "created_at", "programme", "grounds", "identified_as", "status"}
        mine = client.get("/api/v1/referrals/mine", headers=school).json()["items"]
        assert [m["id"] for m in mine] == [made["id"]]
        assert len(actions(engine, "referral.create")) == 1
        reads = actions(engine, "referral.read_own")
        assert reads
        assert reads[-1].basis == {"kind": "sender"}

    def test_another_sender_does_not_see_it(self, client: TestClient, world: World) -> None:
        school = token_for(client, world.usernames["school_contact"])
        refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        other = token_for(client, world.usernames["social_worker"])
        assert client.get("/api/v1/referrals/mine", headers=other).json()["items"] == []

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"personnummer": "20101301-1234"}, "personnummer"),
            ({"grounds": ["not-a-ground"]}, "grounds"),
            ({"grounds": []}, "grounds"),
            ({"programme": "XYZ"}, "programme"),
            ({"personnummer": None, "name": "", "birth_year": None}, "name"),
            ({"receiving_agency_id": None}, "receiving_agency_id"),
        ],
    )
    def test_bad_input_names_the_field_and_stores_nothing(
        self, client: TestClient, world: World, engine: Engine, change: dict[str, Any], field: str
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        body = {
            "programme": "SSPF",
            "grounds": [grounds(client, school)[0]["id"]],
            "personnummer": valid_personnummer(_born(14)),
            "receiving_agency_id": str(world.unit.id),
            **change,
        }
        response = client.post("/api/v1/referrals", json=body, headers=school)
        assert response.status_code == 422, response.text
        assert field in {e["field"] for e in response.json()["errors"]}
        assert stored(engine) == 0

    def test_programme_outside_the_age_band_is_refused(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        body = {
            "programme": "SSPF",
            "grounds": [grounds(client, school)[0]["id"]],
            "personnummer": valid_personnummer(_born(19)),
            "receiving_agency_id": str(world.unit.id),
        }
        response = client.post("/api/v1/referrals", json=body, headers=school)
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert errors[0]["field"] == "programme"
        assert "age" in errors[0]["message"]
        assert stored(engine) == 0


class TestInboxAndTriage:
    def test_duplicates_are_grouped_by_blind_index(
        self, client: TestClient, world: World, police: list[str]
    ) -> None:
        pnr = valid_personnummer(_born(14))
        school = token_for(client, world.usernames["school_contact"])
        cop = token_for(client, police[0])
        first = refer(client, school, world, personnummer=pnr)
        second = refer(client, cop, world, personnummer=pnr.replace("-", ""))
        alone = refer(client, school, world, personnummer=valid_personnummer(_born(15)))
        worker = token_for(client, world.usernames["social_worker"])
        groups = client.get("/api/v1/referrals", headers=worker).json()["groups"]
        ids = sorted(sorted(r["id"] for r in g["referrals"]) for g in groups)
        assert ids == sorted([sorted([first["id"], second["id"]]), [alone["id"]]])
        detail = client.get(f"/api/v1/referrals/{first['id']}", headers=worker).json()
        assert [d["id"] for d in detail["duplicates"]] == [second["id"]]

    def test_other_unit_and_contact_persons_cannot_read_the_inbox(
        self, client: TestClient, world: World
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        other = token_for(client, world.usernames["other_social_worker"])
        assert client.get("/api/v1/referrals", headers=other).json()["groups"] == []
        missing = client.get(f"/api/v1/referrals/{made['id']}", headers=other)
        random = client.get("/api/v1/referrals/00000000-0000-4000-8000-000000000000", headers=other)
        assert (missing.status_code, missing.json()) == (404, random.json())
        assert client.get("/api/v1/referrals", headers=school).status_code == 403
        decided = client.post(
            f"/api/v1/referrals/{made['id']}/decision",
            json={"decision": "decline", "reason": "x", "version": 1},
            headers=school,
        )
        assert decided.status_code == 403

    def test_open_case_registers_the_young_person_and_the_sender_sees_taken_up(
        self, client: TestClient, world: World
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        worker = token_for(client, world.usernames["social_worker"])
        url = f"/api/v1/referrals/{made['id']}/decision"
        missing_names = client.post(
            url, json={"decision": "open_case", "version": 1}, headers=worker
        )
        assert missing_names.status_code == 422
        assert {"first_name", "last_name", "gender"} <= {
            e["field"] for e in missing_names.json()["errors"]
        }
        opened = client.post(
            url,
            json={
                "decision": "open_case",
                "version": 1,
                "first_name": "Testa",
                "last_name": "Testsson",
                "gender": "female",
            },
            headers=worker,
        )
        assert opened.status_code == 200, opened.text
        body = opened.json()
        assert body["case_reference"].startswith("SSPF-")
        assert body["referral"]["status"] == "taken_up"
        again = client.post(
            url, json={"decision": "decline", "reason": "x", "version": 2}, headers=worker
        )
        assert again.status_code == 409
        mine = client.get("/api/v1/referrals/mine", headers=school).json()["items"]
        assert mine[0]["status"] == "taken_up"
        assert "case" not in str(mine).lower()

    def test_second_referral_for_a_young_person_with_an_open_case_is_attached(
        self, client: TestClient, world: World
    ) -> None:
        worker = token_for(client, world.usernames["social_worker"])
        case = open_case(client, worker)
        pnr = client.get(f"/api/v1/cases/{case['id']}", headers=worker).json()["young_person"][
            "personnummer"
        ]
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=pnr)
        result = client.post(
            f"/api/v1/referrals/{made['id']}/decision",
            json={"decision": "open_case", "version": 1},
            headers=worker,
        ).json()
        assert (result["attached"], result["case_id"]) == (True, case["id"])

    def test_decline_needs_a_reason_the_sender_never_sees(
        self, client: TestClient, world: World
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        worker = token_for(client, world.usernames["social_worker"])
        url = f"/api/v1/referrals/{made['id']}/decision"
        empty = client.post(url, json={"decision": "decline", "version": 1}, headers=worker)
        assert empty.status_code == 422
        assert empty.json()["errors"][0]["field"] == "reason"
        done = client.post(
            url,
            json={"decision": "decline", "reason": "Hemlig motivering", "version": 1},
            headers=worker,
        )
        assert done.status_code == 200
        mine = client.get("/api/v1/referrals/mine", headers=school)
        assert mine.json()["items"][0]["status"] == "not_taken_up"
        assert "Hemlig" not in mine.text

    def test_stale_version_is_409(self, client: TestClient, world: World) -> None:
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        worker = token_for(client, world.usernames["social_worker"])
        response = client.post(
            f"/api/v1/referrals/{made['id']}/decision",
            json={"decision": "start_assessment", "version": 7},
            headers=worker,
        )
        assert response.status_code == 409


class TestWaitingListAndCapacity:
    def test_sig_waiting_list_in_order_and_capacity_warning(
        self, client: TestClient, world: World, police: list[str]
    ) -> None:
        worker = token_for(client, world.usernames["social_worker"])
        cop = token_for(client, police[0])
        made = [
            refer(client, cop, world, personnummer=valid_personnummer(_born(16)), programme="SIG")
            for _ in range(3)
        ]
        for referral in made[:2]:
            response = client.post(
                f"/api/v1/referrals/{referral['id']}/decision",
                json={"decision": "wait_list", "version": 1, "crime_criteria_met": True},
                headers=worker,
            )
            assert response.status_code == 200, response.text
        no_criteria = client.post(
            f"/api/v1/referrals/{made[2]['id']}/decision",
            json={"decision": "wait_list", "version": 1},
            headers=worker,
        )
        assert no_criteria.status_code == 422
        assert no_criteria.json()["errors"][0]["field"] == "crime_criteria_met"
        waiting = client.get("/api/v1/waiting-list?programme=SIG", headers=worker).json()
        assert [w["referral"]["id"] for w in waiting["items"]] == [m["id"] for m in made[:2]]
        assert all(w["days_waited"] == 0 for w in waiting["items"])
        school = token_for(client, world.usernames["school_contact"])
        statuses = {
            m["id"]: m["status"]
            for m in client.get("/api/v1/referrals/mine", headers=cop).json()["items"]
        }
        assert statuses[made[0]["id"]] == "under_assessment"  # waiting, as the sender sees it
        assert client.get("/api/v1/waiting-list", headers=school).status_code == 403

    def test_opening_past_capacity_is_allowed_with_a_warning(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        admin = token_for(client, world.usernames["administrator"])
        settings = client.get("/api/v1/referral-settings", headers=admin).json()
        changed = client.put(
            "/api/v1/referral-settings/capacity",
            json={
                "version": settings["capacity_version"],
                "items": [
                    {
                        "programme": "SSPF",
                        "agency_kind": "social_services",
                        "role": "coordinator",
                        "per_person": 1,
                    }
                ],
            },
            headers=admin,
        )
        assert changed.status_code == 200, changed.text
        worker = token_for(client, world.usernames["social_worker"])
        open_case(client, worker)  # the coordinator's one place is taken
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        opened = client.post(
            f"/api/v1/referrals/{made['id']}/decision",
            json={
                "decision": "open_case",
                "version": 1,
                "first_name": "A",
                "last_name": "B",
                "gender": "male",
            },
            headers=worker,
        )
        assert opened.status_code == 200, opened.text
        warnings = opened.json()["warnings"]
        assert warnings
        assert "Capacity is full" in warnings[0]


class TestSettings:
    def test_retired_ground_stays_on_old_referrals(self, client: TestClient, world: World) -> None:
        admin = token_for(client, world.usernames["administrator"])
        school = token_for(client, world.usernames["school_contact"])
        first = grounds(client, school)[0]
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)), count=1)
        settings = client.get("/api/v1/referral-settings", headers=admin).json()
        renamed = client.put(
            "/api/v1/referral-settings/grounds",
            json={
                "version": settings["grounds_version"],
                "items": [{"id": first["id"], "label": "Skolfrånvaro (ny lydelse)"}],
            },
            headers=admin,
        )
        assert renamed.status_code == 200, renamed.text
        assert [g["label"] for g in renamed.json()["grounds"]] == ["Skolfrånvaro (ny lydelse)"]
        stale = client.put(
            "/api/v1/referral-settings/grounds",
            json={"version": settings["grounds_version"], "items": [{"label": "x"}]},
            headers=admin,
        )
        assert stale.status_code == 409
        mine = client.get("/api/v1/referrals/mine", headers=school).json()["items"]
        assert mine[0]["id"] == made["id"]
        assert mine[0]["grounds"] == [{**first, "retired": True}]
        worker = token_for(client, world.usernames["social_worker"])
        assert client.get("/api/v1/referral-settings", headers=worker).status_code == 403

    def test_bad_band_names_the_field(self, client: TestClient, world: World) -> None:
        admin = token_for(client, world.usernames["administrator"])
        version = client.get("/api/v1/referral-settings", headers=admin).json()[
            "eligibility_version"
        ]
        response = client.put(
            "/api/v1/referral-settings/eligibility",
            json={
                "version": version,
                "items": [{"programme": "SSPF", "label": "x", "min_age": 17, "max_age": 12}],
            },
            headers=admin,
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "items.0.max_age"


def _open_from_referral(client: TestClient, worker: dict[str, str], referral_id: str) -> str:
    opened = client.post(
        f"/api/v1/referrals/{referral_id}/decision",
        json={
            "decision": "open_case",
            "version": 1,
            "first_name": "Testa",
            "last_name": "Testsson",
            "gender": "female",
        },
        headers=worker,
    )
    assert opened.status_code == 200, opened.text
    case_id: str = opened.json()["case_id"]
    return case_id


def _meeting_in(days: int) -> dict[str, Any]:
    day = today() + timedelta(days=days)
    start = datetime(day.year, day.month, day.day, 9, tzinfo=STOCKHOLM)
    return {
        "kind": "start",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "place": "Socialkontoret",
    }


class TestFirstMeeting:
    def test_days_to_the_first_meeting_are_stored_when_its_minutes_are_final(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        worker = token_for(client, world.usernames["social_worker"])
        case_id = _open_from_referral(client, worker, made["id"])
        meetings = f"/api/v1/cases/{case_id}/meetings"
        later = client.post(meetings, json=_meeting_in(9), headers=worker).json()
        first = client.post(meetings, json=_meeting_in(3), headers=worker).json()
        detail = f"/api/v1/referrals/{made['id']}"
        # Scheduled is not held: nothing is stored until a meeting's minutes are final.
        assert client.get(detail, headers=worker).json()["days_to_first_meeting"] is None

        for meeting, expected in ((later, 9), (first, 3)):
            done = client.post(
                f"{meetings}/{meeting['id']}/finalise",
                json={"version": meeting["version"]},
                headers=worker,
            )
            assert done.status_code == 200, done.text
            assert client.get(detail, headers=worker).json()["days_to_first_meeting"] == expected
        with new_session(engine) as session:
            stored_row = session.exec(
                unscoped(
                    select(Referral).where(Referral.id == uuid.UUID(made["id"])), "test: the row"
                )
            ).one()
            assert stored_row.days_to_first_meeting == 3
            assert stored_row.first_meeting_at is not None

    def test_attaching_to_a_case_with_a_held_meeting_stores_it(
        self, client: TestClient, world: World
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        pnr = valid_personnummer(_born(14))
        made = refer(client, school, world, personnummer=pnr)
        worker = token_for(client, world.usernames["social_worker"])
        case_id = _open_from_referral(client, worker, made["id"])
        meetings = f"/api/v1/cases/{case_id}/meetings"
        meeting = client.post(meetings, json=_meeting_in(2), headers=worker).json()
        client.post(
            f"{meetings}/{meeting['id']}/finalise",
            json={"version": meeting["version"]},
            headers=worker,
        )
        again = refer(client, school, world, personnummer=pnr)
        attached = client.post(
            f"/api/v1/referrals/{again['id']}/decision",
            json={"decision": "attach", "version": 1},
            headers=worker,
        )
        assert attached.status_code == 200, attached.text
        detail = client.get(f"/api/v1/referrals/{again['id']}", headers=worker).json()
        assert detail["days_to_first_meeting"] == 2


class TestHandOverAndRouting:
    def test_hand_over_moves_it_to_the_other_unit_and_the_sender_sees_no_change(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        worker = token_for(client, world.usernames["social_worker"])
        moved = client.post(
            f"/api/v1/referrals/{made['id']}/hand-over",
            json={"receiving_agency_id": str(world.other_unit.id), "version": 1},
            headers=worker,
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["version"] == 2
        gone = client.get(f"/api/v1/referrals/{made['id']}", headers=worker)
        assert gone.status_code == 404
        other = token_for(client, world.usernames["other_social_worker"])
        groups = client.get("/api/v1/referrals", headers=other).json()["groups"]
        assert [r["id"] for g in groups for r in g["referrals"]] == [made["id"]]
        [event] = actions(engine, "referral.hand_over")
        assert event.basis is not None
        assert event.basis["to_agency_id"] == str(world.other_unit.id)
        assert event.basis["kind"] == "own_agency"
        mine = client.get("/api/v1/referrals/mine", headers=school).json()["items"]
        assert mine[0]["status"] == "received"
        assert "Vuxen" not in str(mine)

    def test_bad_hand_overs_change_nothing(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        worker = token_for(client, world.usernames["social_worker"])
        url = f"/api/v1/referrals/{made['id']}/hand-over"
        for target in (world.unit.id, world.school.id):
            refused = client.post(
                url, json={"receiving_agency_id": str(target), "version": 1}, headers=worker
            )
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["field"] == "receiving_agency_id"
        body = {"receiving_agency_id": str(world.other_unit.id), "version": 5}
        assert client.post(url, json=body, headers=worker).status_code == 409
        assert client.post(url, json=body | {"version": 1}, headers=school).status_code == 403
        client.post(
            f"/api/v1/referrals/{made['id']}/decision",
            json={"decision": "decline", "reason": "Påhittat", "version": 1},
            headers=worker,
        )
        decided = client.post(url, json=body | {"version": 2}, headers=worker)
        assert decided.status_code == 409
        assert actions(engine, "referral.hand_over") == []

    def test_a_deactivated_unit_receives_no_referrals(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        with new_session(engine) as session:
            unit = session.get(Agency, world.other_unit.id)
            assert unit is not None
            unit.deactivated_at = utcnow()
            session.add(unit)
            session.commit()
        school = token_for(client, world.usernames["school_contact"])
        ids = [g["id"] for g in grounds(client, school)[:1]]
        refused = client.post(
            "/api/v1/referrals",
            json={
                "programme": "SSPF",
                "grounds": ids,
                "personnummer": valid_personnummer(_born(14)),
                "receiving_agency_id": str(world.other_unit.id),
            },
            headers=school,
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "receiving_agency_id"
        assert stored(engine) == 0


class TestCoordinatorTriage:
    def test_a_coordinator_triages_but_does_not_open_a_new_case(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        school = token_for(client, world.usernames["school_contact"])
        made = refer(client, school, world, personnummer=valid_personnummer(_born(14)))
        coordinator = token_for(client, world.usernames["coordinator"])
        url = f"/api/v1/referrals/{made['id']}/decision"
        refused = client.post(
            url,
            json={
                "decision": "open_case",
                "version": 1,
                "first_name": "Testa",
                "last_name": "Testsson",
                "gender": "female",
            },
            headers=coordinator,
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "decision"
        with new_session(engine) as session:
            count = session.exec(
                unscoped(select(func.count()).select_from(YoungPerson), "test: a count")
            ).one()
        assert count == 0
        waiting = client.post(
            url, json={"decision": "wait_list", "version": 1}, headers=coordinator
        )
        assert waiting.status_code == 200, waiting.text
        assert waiting.json()["referral"]["status"] == "waiting"
