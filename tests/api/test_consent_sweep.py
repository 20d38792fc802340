"""Time changes consent too: it runs out, and birthdays add signers. Losing access follows on
the very next request (the scope computes consent per request); the sweep moves the case state
after, without a person, as the history and the audit log show. Sharing that consent starting
later allows begins when the sweep resumes the case."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.main import create_app
from api.settings import Settings
from common.clock import STOCKHOLM, reset_clock, set_clock, today
from common.db import new_session
from common.keys import KeySet
from domain.cases.repository import SystemCaseRepository
from domain.consents.sweep import _candidates, sweep, sweep_case
from tests.api.conftest import World, token_for
from tests.api.test_consent_sharing import Case, assert_hidden
from tests.api.test_young_persons import person_body
from tests.builders import valid_personnummer


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


@pytest.fixture
def travel() -> Iterator[Any]:
    """Move the clock to noon, `days` from today (Stockholm); back to real time afterwards."""

    def to(days: int) -> datetime:
        day = today() + timedelta(days=days)
        moment = datetime(day.year, day.month, day.day, 12, tzinfo=STOCKHOLM).astimezone(UTC)
        set_clock(lambda: moment)
        return moment

    yield to
    reset_clock()


def log_in_again(case: Case, world: World) -> None:
    """Tokens do not outlive a jump in time."""
    case.owner = token_for(case.client, world.usernames["social_worker"])
    case.partner = token_for(case.client, world.usernames["school_contact"])


def expire_and_sweep(case: Case, world: World, engine: Engine, travel: Any) -> None:
    """Complete consent until day 3, then on day 4 the sweep pauses the case."""
    case.all_sign(valid_until=today() + timedelta(days=3))
    travel(4)
    sweep(engine)
    log_in_again(case, world)


def read(case: Case) -> dict[str, Any]:
    body: dict[str, Any] = case.client.get(f"/api/v1/cases/{case.id}", headers=case.owner).json()
    return body


class TestExpiry:
    def test_partner_loses_access_on_the_next_request_and_the_sweep_pauses_the_case(
        self, case: Case, world: World, engine: Engine, travel: Any
    ) -> None:
        case.all_sign(valid_until=today() + timedelta(days=3))
        assert read(case)["state"] == "active"
        assert case.partner_read().status_code == 200

        travel(4)
        log_in_again(case, world)
        assert_hidden(case)  # before any sweep: access never waits for it
        assert read(case)["state"] == "active"

        report = sweep(engine)
        assert [(m.reference, m.from_state, m.to_state, m.reason) for m in report.moved] == [
            (read(case)["reference"], "active", "paused", "consent_expired")
        ]
        after = read(case)
        assert (after["state"], after["state_reason"]) == ("paused", "consent_expired")
        last = after["history"][-1]
        assert (last["reason"], last["changed_by"]) == ("consent_expired", None)
        assert_hidden(case)

    def test_the_move_is_audited_with_the_system_as_actor(
        self, case: Case, world: World, engine: Engine, travel: Any
    ) -> None:
        case.all_sign(valid_until=today() + timedelta(days=3))
        travel(4)
        sweep(engine)
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT user_id, agency_id, role, basis FROM audit_event "
                    "WHERE action = 'case.change_state' ORDER BY occurred_at DESC LIMIT 1"
                )
            ).one()
        user_id, agency_id, role, basis = row
        basis = basis if isinstance(basis, dict) else json.loads(basis)
        assert (user_id, agency_id, role) == (None, None, None)
        assert basis == {
            "kind": "system",
            "consent_records": [],
            "from": "active",
            "to": "paused",
            "move_reason": "consent_expired",
        }

    def test_a_second_sweep_changes_nothing(
        self, case: Case, world: World, engine: Engine, travel: Any
    ) -> None:
        case.all_sign(valid_until=today() + timedelta(days=3))
        travel(4)
        assert len(sweep(engine).moved) == 1
        log_in_again(case, world)
        version = read(case)["version"]
        again = sweep(engine)
        assert (again.moved, again.raced) == ((), 0)
        assert read(case)["version"] == version


class TestResuming:
    def test_a_case_the_rules_paused_resumes_when_consent_is_complete_again(
        self, case: Case, world: World, engine: Engine, travel: Any
    ) -> None:
        expire_and_sweep(case, world, engine, travel)
        case.all_sign()  # renewed: recording it resumes the case at once
        after = read(case)
        assert (after["state"], after["state_reason"]) == ("active", "consent_complete")
        assert case.partner_read().status_code == 200

    def test_consent_starting_later_resumes_the_case_through_the_sweep(
        self, case: Case, world: World, engine: Engine, travel: Any
    ) -> None:
        expire_and_sweep(case, world, engine, travel)
        case.all_sign(valid_from=today() + timedelta(days=6), categories=["basic"])  # day 10
        assert read(case)["state"] == "paused"
        travel(10)
        log_in_again(case, world)
        assert_hidden(case)  # a paused case shares nothing, whatever its consent
        moved = sweep(engine).moved
        assert [(m.to_state, m.reason) for m in moved] == [("active", "consent_complete")]
        assert case.partner_read().status_code == 200

    def test_a_case_paused_by_hand_stays_paused(
        self, case: Case, world: World, engine: Engine, travel: Any
    ) -> None:
        case.all_sign(valid_until=today() + timedelta(days=3))
        current = read(case)
        paused = case.client.post(
            f"/api/v1/cases/{case.id}/transitions",
            headers=case.owner,
            json={"target": "paused", "version": current["version"]},
        )
        assert paused.status_code == 200
        travel(4)
        log_in_again(case, world)
        case.all_sign()
        assert sweep(engine).moved == ()
        after = read(case)
        assert (after["state"], after["state_reason"]) == ("paused", "manual")
        resumed = case.client.post(
            f"/api/v1/cases/{case.id}/transitions",
            headers=case.owner,
            json={"target": "active", "version": after["version"]},
        )
        assert resumed.status_code == 200, resumed.text


class TestBirthday:
    def test_turning_15_pauses_the_case_until_the_young_person_signs(
        self, client: TestClient, world: World, engine: Engine, travel: Any
    ) -> None:
        owner = token_for(client, world.usernames["social_worker"])
        born = today().replace(year=today().year - 15) + timedelta(days=5)  # 15 in five days
        person = client.post(
            "/api/v1/young-persons",
            headers=owner,
            json=person_body(personnummer=valid_personnummer(born)),
        ).json()
        case = client.post(
            "/api/v1/cases",
            json={"young_person_id": person["id"], "programme": "SIG"},
            headers=owner,
        ).json()
        client.post(
            f"/api/v1/cases/{case['id']}/transitions",
            json={"target": "consent_pending", "version": case["version"]},
            headers=owner,
        )
        consent = {
            "signer": person["guardians"][0]["id"],
            "decision": "given",
            "signed_on": str(today()),
            "agencies": [str(world.school.id)],
            "categories": ["basic"],
            "method": "paper_form",
        }
        response = client.post(f"/api/v1/cases/{case['id']}/consents", json=consent, headers=owner)
        assert response.status_code == 201, response.text
        assert client.get(f"/api/v1/cases/{case['id']}", headers=owner).json()["state"] == "active"

        travel(6)
        moved = sweep(engine).moved
        assert [(m.to_state, m.reason) for m in moved] == [("paused", "signer_missing")]


class TestRaces:
    def test_a_change_by_hand_after_the_first_look_is_never_overwritten(
        self, case: Case, world: World, engine: Engine, travel: Any
    ) -> None:
        case.all_sign(valid_until=today() + timedelta(days=3))
        moment = travel(4)
        with new_session(engine) as session:
            ids = SystemCaseRepository(session).open_case_ids(["active"])
            assert _candidates(session, ids, moment) == ids
        log_in_again(case, world)
        current = read(case)
        closed = case.client.post(
            f"/api/v1/cases/{case.id}/transitions",
            headers=case.owner,
            json={"target": "closed", "version": current["version"], "outcome": "moved"},
        )
        assert closed.status_code == 200
        with new_session(engine) as session:
            assert sweep_case(session, ids[0], at=moment) is None
            session.commit()
        assert read(case)["state"] == "closed"


class TestInTheBackground:
    def test_the_app_sweeps_on_its_own(
        self, engine: Engine, keys: KeySet, world: World, tmp_path: Any, travel: Any
    ) -> None:
        app: FastAPI = create_app(
            Settings(data_dir=tmp_path, consent_sweep_interval_seconds=1),
            keys=keys,
            engine=engine,
            run_sequencer=False,
            second_factor_required=False,
        )
        with TestClient(app) as client:
            case = Case(client, world)
            case.all_sign(valid_until=today() + timedelta(days=3))
            travel(4)
            log_in_again(case, world)
            for _ in range(200):  # the sweep runs every second; give it plenty of rounds
                if read(case)["state"] == "paused":
                    break
                time.sleep(0.1)
            assert read(case)["state_reason"] == "consent_expired"
