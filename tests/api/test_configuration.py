"""The municipality's configuration with history (issue 15, item 2), through the JSON API and
the domain: the consent ages live in the database and act on the next request, every change
of any configuration writes one history row (who, when, old and new value) in its own
transaction and an audit event with the configuration basis, and what was recorded under the
old values keeps them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from audit.models import AuditEvent
from common.clock import utcnow
from common.db import new_session
from consent import policy as process_policy
from consent.rules import SigningPolicy
from domain.access import effective_now
from domain.auth.service import actor_for
from domain.cases import service as cases
from domain.cases.service import CaseView
from domain.configuration.models import ConfigChange
from domain.configuration.service import signing_policy
from domain.consents.sweep import sweep
from domain.users.repository import UserRepository
from tests.api.conftest import World, token_for
from tests.api.test_assessments import made
from tests.api.test_consent_sharing import Case
from tests.api.test_referrals import _born, grounds, refer
from tests.builders import valid_personnummer

AGES = "/api/v1/consent-ages"
HISTORY = "/api/v1/config-history"


@pytest.fixture
def case(client: TestClient, world: World) -> Case:
    return Case(client, world)


def admin(client: TestClient, world: World) -> dict[str, str]:
    return token_for(client, world.usernames["administrator"])


def changes(engine: Engine) -> list[ConfigChange]:
    with new_session(engine) as session:
        return list(session.exec(select(ConfigChange).order_by(col(ConfigChange.changed_at))).all())


def owner_view(engine: Engine, case: Case) -> CaseView:
    """The case as its social worker reads it (`cases.get_case`)."""
    with new_session(engine) as session:
        owner = UserRepository(session).get(uuid.UUID(case.owner_user))
        assert owner is not None
        return cases.get_case(session, actor_for(session, owner), case_id=uuid.UUID(case.id))


def audited(engine: Engine, action: str) -> list[AuditEvent]:
    with new_session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def history(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(HISTORY, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestConsentAges:
    def test_the_settings_apply_until_the_municipality_sets_its_own(
        self, client: TestClient, world: World
    ) -> None:
        ages = client.get(AGES, headers=admin(client, world)).json()
        assert ages == {
            "young_person_from_age": 15,
            "adult_age": 18,
            "version": 0,
            "in_force_from": None,
        }

    def test_a_change_is_kept_with_its_history_and_audited(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        token = admin(client, world)
        changed = client.put(
            AGES, json={"young_person_from_age": 14, "adult_age": 18, "version": 0}, headers=token
        )
        assert changed.status_code == 200, changed.text
        # version 1 keeps the settings' ages for the past
        assert (changed.json()["young_person_from_age"], changed.json()["version"]) == (14, 2)
        assert client.get(AGES, headers=token).json()["young_person_from_age"] == 14
        [entry] = history(client, token)
        assert entry["kind"] == "consent_ages"
        assert entry["action"] == "change"
        assert entry["old_value"] == {"young_person_from_age": 15, "adult_age": 18}
        assert entry["new_value"] == {"young_person_from_age": 14, "adult_age": 18}
        assert entry["changed_by_name"]
        me = client.get("/api/v1/auth/me", headers=token).json()["user_id"]
        assert entry["changed_by"] == me
        [event] = audited(engine, "config.consent_ages")
        assert event.basis["kind"] == "configuration"

    def test_bad_ages_name_the_field_and_change_nothing(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        token = admin(client, world)
        response = client.put(
            AGES, json={"young_person_from_age": 19, "adult_age": 30, "version": 0}, headers=token
        )
        assert response.status_code == 422
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields == {"young_person_from_age", "adult_age"}
        upside_down = client.put(
            AGES, json={"young_person_from_age": 18, "adult_age": 16, "version": 0}, headers=token
        )
        assert upside_down.status_code == 422
        assert client.get(AGES, headers=token).json()["version"] == 0
        assert changes(engine) == []

    def test_a_stale_version_is_refused_and_writes_no_history(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        token = admin(client, world)
        body = {"young_person_from_age": 14, "adult_age": 18, "version": 0}
        assert client.put(AGES, json=body, headers=token).status_code == 200
        stale = client.put(AGES, json={**body, "young_person_from_age": 16}, headers=token)
        assert stale.status_code == 409
        assert stale.json()["current_version"] == 2
        assert len(changes(engine)) == 1

    def test_other_roles_get_403(self, client: TestClient, world: World) -> None:
        for role in ("social_worker", "coordinator", "school_contact", "steering", "auditor"):
            token = token_for(client, world.usernames[role])
            body = {"young_person_from_age": 14, "adult_age": 18, "version": 0}
            assert client.get(AGES, headers=token).status_code == 403
            assert client.put(AGES, json=body, headers=token).status_code == 403
            assert client.get(HISTORY, headers=token).status_code == 403

    def test_a_change_acts_on_the_next_request_and_never_on_the_past(
        self, client: TestClient, world: World, engine: Engine, case: Case
    ) -> None:
        """The 16-year-old has not signed, only both guardians: incomplete while the young
        person signs too from 15. From 17, the same records are complete from now on, and the
        sweep opens the case, while the consent before the change stays what it was."""
        case.consent(case.guardians[0])
        case.consent(case.guardians[1])
        case_id = uuid.UUID(case.id)
        with new_session(engine) as session:
            assert effective_now(session, case_id).complete is False
        assert owner_view(engine, case).consent_complete is False
        before = utcnow()
        token = admin(client, world)
        body = {"young_person_from_age": 17, "adult_age": 18, "version": 0}
        assert client.put(AGES, json=body, headers=token).status_code == 200
        # The case read says so too: it reads the ages with the consent records.
        assert owner_view(engine, case).consent_complete is True
        with new_session(engine) as session:
            assert effective_now(session, case_id).complete is True
            assert effective_now(session, case_id, at=before).complete is False
            assert effective_now(session, case_id, at=before - timedelta(days=1)).complete is False
        sweep(engine)
        assert case.state() == "active"
        assert case.partner_read().status_code == 200

    def test_the_past_keeps_its_ages_when_the_settings_change_later(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        before = utcnow()
        body = {"young_person_from_age": 14, "adult_age": 18, "version": 0}
        assert client.put(AGES, json=body, headers=admin(client, world)).status_code == 200
        started_with = process_policy.signing_policy()
        process_policy.install_signing_policy(SigningPolicy(young_person_from_age=16))
        try:
            with new_session(engine) as session:
                assert signing_policy(session, at=before).young_person_from_age == 15
                assert signing_policy(session).young_person_from_age == 14
        finally:
            process_policy.install_signing_policy(started_with)


class TestHistoryOfTheCatalogues:
    def test_grounds_eligibility_and_capacity_write_old_and_new_values(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        token = admin(client, world)
        school = token_for(client, world.usernames["school_contact"])
        first = grounds(client, school)[0]
        made_referral = refer(
            client, school, world, personnummer=valid_personnummer(_born(14)), count=1
        )
        settings = client.get("/api/v1/referral-settings", headers=token).json()
        before = [g["label"] for g in settings["grounds"]]
        renamed = client.put(
            "/api/v1/referral-settings/grounds",
            json={
                "version": settings["grounds_version"],
                "items": [{"id": first["id"], "label": "Skolfrånvaro, ny lydelse"}],
            },
            headers=token,
        )
        assert renamed.status_code == 200, renamed.text
        bands = client.put(
            "/api/v1/referral-settings/eligibility",
            json={
                "version": settings["eligibility_version"],
                "items": [{"programme": "SSPF", "label": "Unga", "min_age": 12, "max_age": 17}],
            },
            headers=token,
        )
        assert bands.status_code == 200, bands.text
        capacity = client.put(
            "/api/v1/referral-settings/capacity",
            json={
                "version": settings["capacity_version"],
                "items": [
                    {
                        "programme": "SIG",
                        "agency_kind": "police",
                        "role": "contact_person",
                        "per_person": 7,
                    }
                ],
            },
            headers=token,
        )
        assert capacity.status_code == 200, capacity.text
        entries = {e["kind"]: e for e in history(client, token)}
        assert entries["referral_grounds"]["old_value"] == before
        assert entries["referral_grounds"]["new_value"] == ["Skolfrånvaro, ny lydelse"]
        assert entries["eligibility"]["new_value"] == [
            {
                "programme": "SSPF",
                "label": "Unga",
                "min_age": 12,
                "max_age": 17,
                "requires_crime_criteria": False,
            }
        ]
        assert entries["capacity"]["new_value"][0]["per_person"] == 7
        assert len(audited(engine, "referral_settings.change")) == 3
        mine = client.get("/api/v1/referrals/mine", headers=school).json()["items"]
        assert mine[0]["id"] == made_referral["id"]
        assert mine[0]["grounds"][0]["label"] == first["label"]  # the referral keeps its ground

    def test_a_refused_catalogue_change_writes_no_history(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        token = admin(client, world)
        settings = client.get("/api/v1/referral-settings", headers=token).json()
        bad = client.put(
            "/api/v1/referral-settings/grounds",
            json={"version": settings["grounds_version"], "items": [{"label": " "}]},
            headers=token,
        )
        assert bad.status_code == 422
        stale = client.put(
            "/api/v1/referral-settings/grounds",
            json={"version": settings["grounds_version"] + 5, "items": [{"label": "x"}]},
            headers=token,
        )
        assert stale.status_code == 409
        assert changes(engine) == []

    def test_levels_and_factors_write_history_and_old_assessments_keep_their_wording(
        self, client: TestClient, world: World, engine: Engine, case: Case
    ) -> None:
        case.all_sign(categories=["basic", "risk"])
        old = made(case, level_code="B")
        token = admin(client, world)
        levels = {r["code"]: r for r in client.get("/api/v1/cylinder-levels", headers=token).json()}
        renamed = client.put(
            "/api/v1/cylinder-levels/B",
            json={"wording": "Kommunens ord för B", "rank": 3, "version": levels["B"]["version"]},
            headers=token,
        )
        assert renamed.status_code == 200, renamed.text
        added = client.put(
            "/api/v1/cylinder-levels/E", json={"wording": "Ny nivå", "rank": 9}, headers=token
        )
        assert added.status_code == 200, added.text
        retired = client.post(
            "/api/v1/cylinder-levels/E/retirement", json={"version": 1}, headers=token
        )
        assert retired.status_code == 200, retired.text
        factor = client.post(
            "/api/v1/assessment-factors",
            json={"kind": "protective", "text": "Spelar i orkester"},
            headers=token,
        ).json()
        client.put(
            f"/api/v1/assessment-factors/{factor['id']}",
            json={"version": 1, "text": "Spelar i orkester varje vecka"},
            headers=token,
        )
        entries = [(e["kind"], e["subject"], e["action"]) for e in history(client, token)]
        assert entries == [
            ("assessment_factor", factor["id"], "change"),
            ("assessment_factor", factor["id"], "add"),
            ("cylinder_level", "E", "retire"),
            ("cylinder_level", "E", "add"),
            ("cylinder_level", "B", "change"),
        ]
        level_change = history(client, token)[-1]
        assert level_change["old_value"]["wording"] == levels["B"]["wording"]
        assert level_change["new_value"]["wording"] == "Kommunens ord för B"
        kept = client.get(f"/api/v1/cases/{case.id}/assessments/{old['id']}", headers=case.owner)
        assert kept.json()["level"]["wording"] == levels["B"]["wording"]
        assert all(
            e.basis["kind"] == "configuration"
            for action in ("assessment_config.level_set", "assessment_config.factor_add")
            for e in audited(engine, action)
        )

    def test_the_history_holds_no_personal_data(
        self, client: TestClient, world: World, engine: Engine
    ) -> None:
        token = admin(client, world)
        client.put(
            AGES, json={"young_person_from_age": 14, "adult_age": 18, "version": 0}, headers=token
        )
        [row] = changes(engine)
        name = history(client, token)[0]["changed_by_name"]
        stored = " ".join(str(v) for v in (row.kind, row.subject, row.old_value, row.new_value))
        assert name not in stored
        assert isinstance(row.changed_by, uuid.UUID)
