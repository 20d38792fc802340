"""Every API route × every role × every consent state, against the permission table.

The routes come from the app's own route table: a route missing from ROUTES fails the test,
so routes added later must declare who may call them. Requests that would change something
are built to fail *after* the access decision (a stale version, an invalid body, removing the
case owner), so 403 and 404 can only mean "denied" and anything else means "let through".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from common.clock import today
from common.roles import Permission
from tests.api.conftest import World, api_routes, app_routes, token_for
from tests.api.matrix import ROLES, STATES, build_cases, expected_denial
from tests.api.test_audit import integrate
from tests.api.test_consent_sharing import Case
from tests.api.test_pages import log_in


@dataclass
class Ctx:
    client: TestClient
    cases: dict[str, Case]
    refused_consent_id: str
    person_id: str
    reference: str
    event_id: str
    plans: dict[str, PlanIds]
    meetings: dict[str, tuple[str, str]]  # case id: (a meeting with final minutes, its item)
    assessments: dict[str, str]  # case id: an assessment of it (category risk)
    factor_id: str  # a current assessment factor
    referral_id: str = ""  # a referral received by the social worker's unit (issue 13)
    agency_id: str = ""  # the school, for the administrator's routes (issue 15)
    agreement: dict[str, str] | None = None  # issue 14: ids of an agreement and its parts


@dataclass(frozen=True)
class PlanIds:
    goal_id: str
    commitment_id: str  # the school's: the school contact may complete it under consent


@dataclass(frozen=True)
class Route:
    permission: Permission | None  # None: any authenticated user
    # "any" | "case_read" (consent-gated) | "case_manage" (only the owning unit or the coordinator)
    access: str
    request: Callable[[Ctx], dict[str, Any]]


ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/v1/auth/logout"): Route(None, "any", lambda _ctx: {}),  # run with a spare token
    ("POST", "/api/v1/auth/logout-everywhere"): Route(
        None, "any", lambda _ctx: {}
    ),  # spare, then renew
    ("GET", "/api/v1/auth/me"): Route(None, "any", lambda _ctx: {}),
    ("POST", "/api/v1/young-persons"): Route(
        Permission.REGISTER_YOUNG_PERSON, "any", lambda _ctx: {"json": {"personnummer": "0"}}
    ),
    ("GET", "/api/v1/young-persons/{young_person_id}"): Route(
        Permission.READ_YOUNG_PERSON, "case_manage", lambda _ctx: {}
    ),
    ("POST", "/api/v1/cases"): Route(
        Permission.OPEN_CASE,
        "any",
        lambda c: {"json": {"young_person_id": c.person_id, "programme": "X"}},
    ),
    ("GET", "/api/v1/cases"): Route(Permission.LIST_CASES, "any", lambda _ctx: {}),
    ("GET", "/api/v1/cases/{case_id}"): Route(Permission.READ_CASE, "case_read", lambda _ctx: {}),
    ("POST", "/api/v1/cases/{case_id}/transitions"): Route(
        Permission.CHANGE_CASE_STATE,
        "case_manage",
        lambda _ctx: {"json": {"target": "active", "version": 999}},
    ),
    ("GET", "/api/v1/cases/{case_id}/consents"): Route(
        Permission.RECORD_CONSENT, "case_manage", lambda _ctx: {}
    ),
    ("POST", "/api/v1/cases/{case_id}/consents"): Route(
        Permission.RECORD_CONSENT,
        "case_manage",
        lambda _ctx: {
            "json": {"signer": "x", "decision": "x", "signed_on": str(today()), "method": "x"}
        },
    ),
    ("POST", "/api/v1/consents/{consent_id}/withdrawal"): Route(
        Permission.RECORD_CONSENT, "case_manage", lambda _ctx: {}
    ),
    ("POST", "/api/v1/cases/{case_id}/team"): Route(
        Permission.MANAGE_TEAM, "case_manage", lambda _ctx: {"json": {"user_id": str(uuid.uuid4())}}
    ),
    ("DELETE", "/api/v1/cases/{case_id}/team/{user_id}"): Route(
        Permission.MANAGE_TEAM, "case_manage", lambda _ctx: {}
    ),
    ("GET", "/api/v1/cases/{case_id}/plan"): Route(
        Permission.READ_PLAN, "case_read", lambda _ctx: {}
    ),
    ("POST", "/api/v1/cases/{case_id}/goals"): Route(
        Permission.EDIT_PLAN, "case_manage", lambda _ctx: {"json": {"text": " "}}
    ),
    ("PATCH", "/api/v1/cases/{case_id}/goals/{goal_id}"): Route(
        Permission.EDIT_PLAN, "case_manage", lambda _ctx: {"json": {"version": 999}}
    ),
    ("POST", "/api/v1/cases/{case_id}/commitments"): Route(
        Permission.EDIT_PLAN,
        "case_manage",
        lambda _ctx: {
            "json": {"what": " ", "agency_id": str(uuid.uuid4()), "due_on": str(today())}
        },
    ),
    ("PATCH", "/api/v1/cases/{case_id}/commitments/{commitment_id}"): Route(
        Permission.UPDATE_COMMITMENT,
        "case_read",
        lambda _ctx: {"json": {"version": 999, "status": "done"}},
    ),
    ("GET", "/api/v1/overdue-commitments"): Route(Permission.READ_PLAN, "any", lambda _ctx: {}),
    ("GET", "/api/v1/consent-tracker"): Route(Permission.RECORD_CONSENT, "any", lambda _ctx: {}),
    ("POST", "/api/v1/break-glass"): Route(
        Permission.BREAK_GLASS,
        "any",
        lambda c: {"json": {"reference": c.reference, "reason": "kort"}},
    ),
    ("GET", "/api/v1/audit/events"): Route(Permission.READ_AUDIT_LOG, "any", lambda _ctx: {}),
    ("GET", "/api/v1/audit/events.csv"): Route(Permission.EXPORT_AUDIT_LOG, "any", lambda _ctx: {}),
    ("GET", "/api/v1/audit/cases/{reference}/access"): Route(
        Permission.READ_AUDIT_LOG, "any", lambda _ctx: {}
    ),
    ("GET", "/api/v1/audit/break-glass"): Route(Permission.READ_AUDIT_LOG, "any", lambda _ctx: {}),
    ("GET", "/api/v1/audit/denied"): Route(Permission.READ_AUDIT_LOG, "any", lambda _ctx: {}),
    ("POST", "/api/v1/audit/break-glass/{grant_id}/review"): Route(
        Permission.REVIEW_BREAK_GLASS, "any", lambda _ctx: {"json": {"outcome": "maybe"}}
    ),
    ("GET", "/api/v1/audit/checkpoint"): Route(Permission.READ_AUDIT_LOG, "any", lambda _ctx: {}),
    ("GET", "/api/v1/audit/proofs/inclusion"): Route(
        Permission.READ_AUDIT_LOG, "any", lambda c: {"params": {"event_id": c.event_id}}
    ),
    ("GET", "/api/v1/audit/proofs/consistency"): Route(
        Permission.READ_AUDIT_LOG, "any", lambda _ctx: {"params": {"old_size": 1}}
    ),
}
_MEETING = "/api/v1/cases/{case_id}/meetings/{meeting_id}"
_BAD_ITEM = {"json": {"heading": "x", "text": "y", "category": "no-such-category"}}
_MEETING_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v1/cases/{case_id}/meetings"): Route(
        Permission.READ_MEETINGS, "case_read", lambda _ctx: {}
    ),
    ("POST", "/api/v1/cases/{case_id}/meetings"): Route(
        Permission.MANAGE_MEETINGS,
        "case_manage",
        lambda _ctx: {"json": _meeting_body(kind="no-such-kind")},
    ),
    ("POST", "/api/v1/cases/{case_id}/emergency-meetings"): Route(
        Permission.MANAGE_MEETINGS,
        "case_manage",
        lambda _ctx: {"json": _meeting_body(days=-2)},  # in the past: 422 after the access
    ),
    ("GET", _MEETING): Route(Permission.READ_MEETINGS, "case_read", lambda _ctx: {}),
    ("PATCH", _MEETING): Route(
        Permission.MANAGE_MEETINGS, "case_manage", lambda _ctx: {"json": {"version": 999}}
    ),
    ("PUT", _MEETING + "/attendance"): Route(
        Permission.MANAGE_MEETINGS,
        "case_manage",
        lambda _ctx: {"json": {"version": 999, "attendees": []}},
    ),
    ("POST", _MEETING + "/items"): Route(
        Permission.WRITE_MINUTES, "case_read", lambda _ctx: _BAD_ITEM
    ),
    ("PATCH", _MEETING + "/items/{item_id}"): Route(  # the minutes are final: 409
        Permission.WRITE_MINUTES,
        "case_read",
        lambda _ctx: {"json": {"heading": "x", "text": "y", "category": "basic", "version": 1}},
    ),
    ("POST", _MEETING + "/finalise"): Route(  # final already: 409
        Permission.WRITE_MINUTES, "case_read", lambda _ctx: {"json": {"version": 999}}
    ),
    ("POST", _MEETING + "/items/{item_id}/amendments"): Route(
        Permission.WRITE_MINUTES, "case_read", lambda _ctx: _BAD_ITEM
    ),
    ("GET", _MEETING + "/invitation.ics"): Route(
        Permission.READ_MEETINGS, "case_read", lambda _ctx: {}
    ),
}
ROUTES.update(_MEETING_ROUTES)
# Referrals (issue 13). Not case-bound: "any" with their permission; one referral, read in
# the inbox's scope (the receiving unit's social workers, the programme's coordinators), is
# "case_manage" in kind: the other unit gets the 404 a random id gets.
_SETTINGS_BODY = {"json": {"version": 999, "items": []}}  # stale: 409 after the role check
ROUTES.update(
    {
        ("GET", "/api/v1/referral-grounds"): Route(
            Permission.RAISE_REFERRAL, "any", lambda _ctx: {}
        ),
        ("POST", "/api/v1/referrals"): Route(
            Permission.RAISE_REFERRAL,
            "any",
            lambda _ctx: {"json": {"programme": "X", "grounds": []}},
        ),
        ("GET", "/api/v1/referrals/mine"): Route(Permission.RAISE_REFERRAL, "any", lambda _ctx: {}),
        ("GET", "/api/v1/referrals"): Route(Permission.TRIAGE_REFERRALS, "any", lambda _ctx: {}),
        ("GET", "/api/v1/referrals/{referral_id}"): Route(
            Permission.TRIAGE_REFERRALS, "case_manage", lambda _ctx: {}
        ),
        ("POST", "/api/v1/referrals/{referral_id}/decision"): Route(
            Permission.TRIAGE_REFERRALS,
            "case_manage",
            lambda _ctx: {"json": {"decision": "decline", "version": 999}},
        ),
        ("POST", "/api/v1/referrals/{referral_id}/hand-over"): Route(
            Permission.TRIAGE_REFERRALS,
            "case_manage",
            lambda _ctx: {
                "json": {
                    "receiving_agency_id": "00000000-0000-4000-8000-000000000000",
                    "version": 999,
                }
            },
        ),
        ("GET", "/api/v1/waiting-list"): Route(Permission.TRIAGE_REFERRALS, "any", lambda _ctx: {}),
        ("GET", "/api/v1/referral-settings"): Route(Permission.CONFIGURE, "any", lambda _ctx: {}),
        ("PUT", "/api/v1/referral-settings/grounds"): Route(
            Permission.CONFIGURE, "any", lambda _ctx: _SETTINGS_BODY
        ),
        ("PUT", "/api/v1/referral-settings/eligibility"): Route(
            Permission.CONFIGURE, "any", lambda _ctx: _SETTINGS_BODY
        ),
        ("PUT", "/api/v1/referral-settings/capacity"): Route(
            Permission.CONFIGURE, "any", lambda _ctx: _SETTINGS_BODY
        ),
    }
)
_ASSESSMENT = "/api/v1/cases/{case_id}/assessments"
_ASSESSMENT_ROUTES: dict[tuple[str, str], Route] = {
    # A partner reads the list under consent: empty unless the consent covers `risk`.
    ("GET", _ASSESSMENT): Route(Permission.READ_ASSESSMENTS, "case_read", lambda _ctx: {}),
    ("POST", _ASSESSMENT): Route(
        Permission.RECORD_ASSESSMENT,
        "case_manage",
        lambda _ctx: {"json": {"level_code": "Z", "rationale": "x", "participant_user_ids": []}},
    ),
    # No consent `build_cases` makes covers `risk`, so no partner ever sees an assessment: the
    # school contact gets the 404 a missing assessment gets, as a non-managing reader would.
    ("GET", _ASSESSMENT + "/{assessment_id}"): Route(
        Permission.READ_ASSESSMENTS, "case_manage", lambda _ctx: {}
    ),
    ("GET", "/api/v1/cylinder-levels"): Route(None, "any", lambda _ctx: {}),
    ("PUT", "/api/v1/cylinder-levels/{code}"): Route(
        Permission.CONFIGURE, "any", lambda _ctx: {"json": {"wording": " ", "rank": 1}}
    ),
    ("POST", "/api/v1/cylinder-levels/{code}/retirement"): Route(
        Permission.CONFIGURE, "any", lambda _ctx: {"json": {"version": 999}}
    ),
    ("GET", "/api/v1/assessment-factors"): Route(None, "any", lambda _ctx: {}),
    ("POST", "/api/v1/assessment-factors"): Route(
        Permission.CONFIGURE, "any", lambda _ctx: {"json": {"kind": "x", "text": "y"}}
    ),
    ("PUT", "/api/v1/assessment-factors/{factor_id}"): Route(
        Permission.CONFIGURE, "any", lambda _ctx: {"json": {"version": 999, "text": "y"}}
    ),
    ("POST", "/api/v1/assessment-factors/{factor_id}/retirement"): Route(
        Permission.CONFIGURE, "any", lambda _ctx: {"json": {"version": 999}}
    ),
}
ROUTES.update(_ASSESSMENT_ROUTES)
# The administrator's API (issue 15). {agency_id} is the school, {user_id} the case owner;
# every write is refused after the role check (a stale version or an invalid body).
_STALE = {"json": {"version": 999}}
ROUTES.update(
    {
        ("GET", "/api/v1/admin/agencies"): Route(Permission.CONFIGURE, "any", lambda _ctx: {}),
        ("POST", "/api/v1/admin/agencies"): Route(
            Permission.CONFIGURE, "any", lambda _ctx: {"json": {"name": " ", "kind": "school"}}
        ),
        ("PATCH", "/api/v1/admin/agencies/{agency_id}"): Route(
            Permission.CONFIGURE,
            "any",
            lambda _ctx: {"json": {"name": "Ny skola", "kind": "school", "version": 999}},
        ),
        ("POST", "/api/v1/admin/agencies/{agency_id}/activation"): Route(
            Permission.CONFIGURE, "any", lambda _ctx: {"json": {"active": False, "version": 999}}
        ),
        ("GET", "/api/v1/admin/users"): Route(Permission.CONFIGURE, "any", lambda _ctx: {}),
        ("GET", "/api/v1/admin/users/{user_id}"): Route(
            Permission.CONFIGURE, "any", lambda _ctx: {}
        ),
        ("POST", "/api/v1/admin/users"): Route(
            Permission.CONFIGURE,
            "any",
            lambda ctx: {
                "json": {
                    "username": " ",
                    "display_name": "X",
                    "agency_id": ctx.agency_id,
                    "roles": [],
                }
            },
        ),
        ("PATCH", "/api/v1/admin/users/{user_id}"): Route(
            Permission.CONFIGURE,
            "any",
            lambda ctx: {"json": {"agency_id": ctx.agency_id, "roles": [], "version": 999}},
        ),
        ("POST", "/api/v1/admin/users/{user_id}/activation"): Route(
            Permission.CONFIGURE, "any", lambda _ctx: {"json": {"active": False, "version": 999}}
        ),
        ("POST", "/api/v1/admin/users/{user_id}/second-factor-reset"): Route(
            Permission.CONFIGURE, "any", lambda _ctx: _STALE
        ),
        ("POST", "/api/v1/admin/users/{user_id}/unlock"): Route(
            Permission.CONFIGURE, "any", lambda _ctx: _STALE
        ),
    }
)
# The municipality's configuration (issue 15): consent ages and the history of every change.
ROUTES.update(
    {
        ("GET", "/api/v1/consent-ages"): Route(Permission.CONFIGURE, "any", lambda _ctx: {}),
        ("PUT", "/api/v1/consent-ages"): Route(
            Permission.CONFIGURE,
            "any",
            lambda _ctx: {"json": {"young_person_from_age": 14, "adult_age": 18, "version": 999}},
        ),
        ("GET", "/api/v1/config-history"): Route(Permission.CONFIGURE, "any", lambda _ctx: {}),
    }
)
# The follow-up report and the release ledger (issue 14): reports need MANAGE_AGREEMENTS,
# releases READ_FOLLOW_UP. Each request is malformed, so it is refused after the role check.
_FOLLOW_UP = "/api/v1/follow-up"
ROUTES.update(
    {
        ("GET", f"{_FOLLOW_UP}/reports/preview"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: {"params": {"period": "x"}}
        ),
        ("PUT", f"{_FOLLOW_UP}/reports/narrative"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: {"json": {}}
        ),
        ("POST", f"{_FOLLOW_UP}/reports/publish"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: {"json": {}}
        ),
        ("POST", f"{_FOLLOW_UP}/reports/correct"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: {"json": {}}
        ),
        ("GET", f"{_FOLLOW_UP}/releases"): Route(Permission.READ_FOLLOW_UP, "any", lambda _ctx: {}),
        ("GET", f"{_FOLLOW_UP}/releases/{{release_id}}"): Route(
            Permission.READ_FOLLOW_UP, "any", lambda _ctx: {}
        ),
        **{
            ("GET", f"{_FOLLOW_UP}/releases/{{release_id}}/report.{kind}"): Route(
                Permission.READ_FOLLOW_UP, "any", lambda _ctx: {}
            )
            for kind in ("json", "csv", "pdf")
        },
    }
)
# The collaboration agreement (issue 14): read with READ_FOLLOW_UP, written with
# MANAGE_AGREEMENTS. Writes fail after the role check (an invalid body, a stale version, a goal
# area that still has activities); the deletes of a party, an activity and a target remove
# spare ones made for them (`add_agreement`).
_AGREEMENT = "/api/v1/agreements/{agreement_id}"
_BAD_TARGET = {"json": {"indicator": "x", "kind": "x", "comparison": "x", "value": 1, "label": "x"}}
ROUTES.update(
    {
        ("GET", "/api/v1/agreements"): Route(Permission.READ_FOLLOW_UP, "any", lambda _ctx: {}),
        ("POST", "/api/v1/agreements"): Route(
            Permission.MANAGE_AGREEMENTS,
            "any",
            lambda _ctx: {
                "json": {
                    "name": " ",
                    "starts_on": "2024-01-01",
                    "ends_on": "2025-01-01",
                    "period_kind": "year",
                }
            },
        ),
        ("GET", _AGREEMENT): Route(Permission.READ_FOLLOW_UP, "any", lambda _ctx: {}),
        ("PATCH", _AGREEMENT): Route(Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: _STALE),
        ("POST", _AGREEMENT + "/parties"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: {"json": {"name": " "}}
        ),
        ("DELETE", _AGREEMENT + "/parties/{party_id}"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: {}
        ),
        ("POST", _AGREEMENT + "/goal-areas"): Route(
            Permission.MANAGE_AGREEMENTS,
            "any",
            lambda _ctx: {"json": {"letter": "1", "title": "x"}},
        ),
        ("PATCH", _AGREEMENT + "/goal-areas/{goal_area_id}"): Route(
            Permission.MANAGE_AGREEMENTS,
            "any",
            lambda _ctx: {"json": {"version": 999, "title": "x"}},
        ),
        ("DELETE", _AGREEMENT + "/goal-areas/{goal_area_id}"): Route(  # has activities: 409
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: {}
        ),
        ("POST", _AGREEMENT + "/activities"): Route(
            Permission.MANAGE_AGREEMENTS,
            "any",
            lambda _ctx: {"json": {"goal_area_id": str(uuid.uuid4()), "name": "x"}},
        ),
        ("PATCH", _AGREEMENT + "/activities/{activity_id}"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: _STALE
        ),
        ("DELETE", _AGREEMENT + "/activities/{activity_id}"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: {}
        ),
        ("POST", _AGREEMENT + "/activities/{activity_id}/targets"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: _BAD_TARGET
        ),
        ("PATCH", _AGREEMENT + "/activities/{activity_id}/targets/{target_id}"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: _STALE
        ),
        ("DELETE", _AGREEMENT + "/activities/{activity_id}/targets/{target_id}"): Route(
            Permission.MANAGE_AGREEMENTS, "any", lambda _ctx: {}
        ),
    }
)
PUBLIC = {("POST", "/api/v1/auth/token")}  # authenticates; covered by tests/api/test_auth.py
# Logging in through an OpenID provider: public by design (the provider authenticates), and
# only for configured issuers; covered by tests/api/test_oidc.py. `logged-out` is where the
# provider returns the browser after RP-initiated logout; it only shows the login page.
PUBLIC_OIDC = {
    ("GET", "/oidc/{name}/login"),
    ("GET", "/oidc/{name}/callback"),
    ("GET", "/oidc/{name}/logged-out"),
}


def _meeting_body(*, kind: str = "team", days: int = 1) -> dict[str, Any]:
    starts = datetime.now(UTC) + timedelta(days=days)
    return {
        "kind": kind,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "place": "Rum 1",
    }


def final_minutes(client: TestClient, case: Case) -> tuple[str, str]:
    """A meeting of `case` with final minutes holding one item of category basic (shared with
    the team), written by the owner before the case reaches its state."""
    meeting = client.post(
        f"/api/v1/cases/{case.id}/meetings", headers=case.owner, json=_meeting_body()
    )
    assert meeting.status_code == 201, meeting.text
    url = f"/api/v1/cases/{case.id}/meetings/{meeting.json()['id']}"
    item = client.post(
        url + "/items",
        headers=case.owner,
        json={"heading": "Närvaro", "text": "Bra", "category": "basic"},
    )
    assert item.status_code == 201, item.text
    final = client.post(url + "/finalise", headers=case.owner, json={"version": 1})
    assert final.status_code == 200, final.text
    return meeting.json()["id"], item.json()["id"]


def _url(ctx: Ctx, path: str, case: Case, method: str = "GET") -> str:
    if ctx.agreement is not None and "{agreement_id}" in path:
        agreement_ids = ctx.agreement
        spare = method == "DELETE"  # a delete removes the spare activity, party or target
        activity = (
            agreement_ids["spare_activity_id"]
            if spare and path.endswith("{activity_id}")
            else (agreement_ids["activity_id"])
        )
        path = (
            path.replace("{agreement_id}", agreement_ids["agreement_id"])
            .replace("{party_id}", agreement_ids["party_id"])
            .replace("{goal_area_id}", agreement_ids["goal_area_id"])
            .replace("{activity_id}", activity)
            .replace(
                "{target_id}",
                agreement_ids["spare_target_id"] if spare else agreement_ids["target_id"],
            )
        )
    meeting_id, item_id = ctx.meetings[case.id]
    values = {
        "meeting_id": meeting_id,
        "item_id": item_id,
        "case_id": case.id,
        "young_person_id": ctx.person_id,
        "consent_id": ctx.refused_consent_id,
        "user_id": "",
        "reference": ctx.reference,
        "grant_id": str(uuid.uuid4()),  # the invalid outcome is refused before any lookup
        "referral_id": ctx.referral_id,
        "assessment_id": ctx.assessments[case.id],
        "code": "A",
        "factor_id": ctx.factor_id,
        "agency_id": ctx.agency_id,
        "release_id": "ingen-publicering",  # malformed: 422 after the role check
    }
    if "{goal_id}" in path or "{commitment_id}" in path:
        ids = ctx.plans[case.id]
        values |= {"goal_id": ids.goal_id, "commitment_id": ids.commitment_id}
    url = path
    for name, value in values.items():
        url = url.replace("{" + name + "}", value)
    if "{user_id}" in path:  # the owner: removing them is refused after the access decision
        url = path.replace("{case_id}", case.id).replace("{user_id}", case.owner_user)
    return url


def add_plan(client: TestClient, world: World, case: Case, plans: dict[str, PlanIds]) -> None:
    """A goal, and a commitment of the school's (the partner's own agency), on `case`."""
    goal = client.post(f"/api/v1/cases/{case.id}/goals", headers=case.owner, json={"text": "Mål"})
    commitment = client.post(
        f"/api/v1/cases/{case.id}/commitments",
        headers=case.owner,
        json={"what": "Följa upp", "agency_id": str(world.school.id), "due_on": str(today())},
    )
    assert (goal.status_code, commitment.status_code) == (201, 201), commitment.text
    plans[case.id] = PlanIds(goal_id=goal.json()["id"], commitment_id=commitment.json()["id"])


def raise_referral(client: TestClient, world: World) -> str:
    """A referral from the school to the social worker's unit (issue 13), by the API."""
    school = token_for(client, world.usernames["school_contact"])
    ground = client.get("/api/v1/referral-grounds", headers=school).json()["items"][0]["id"]
    made = client.post(
        "/api/v1/referrals",
        json={
            "programme": "assess",
            "grounds": [ground],
            "name": "Test Testsson",
            "birth_year": today().year - 14,
            "receiving_agency_id": str(world.unit.id),
        },
        headers=school,
    )
    assert made.status_code == 201, made.text
    referral_id: str = made.json()["id"]
    return referral_id


def add_assessment(client: TestClient, case: Case) -> str:
    """An assessment of `case` (level D, made today with its owner), as the owner."""
    response = client.post(
        f"/api/v1/cases/{case.id}/assessments",
        headers=case.owner,
        json={
            "level_code": "D",
            "rationale": "Oro i skolan",
            "participant_user_ids": [case.owner_user],
            "assessed_on": str(today()),
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def add_agreement(client: TestClient, world: World) -> dict[str, str]:
    """An agreement with a party, a goal area, an activity with two targets and a spare
    activity, made by the coordinator (issue 14)."""
    headers = token_for(client, world.usernames["coordinator"])
    made = client.post(
        "/api/v1/agreements",
        headers=headers,
        json={
            "name": "Matris",
            "starts_on": "2024-01-01",
            "ends_on": "2026-01-01",
            "period_kind": "year",
            "parties": [{"name": "Kommunen"}],
        },
    )
    assert made.status_code == 201, made.text
    url = f"/api/v1/agreements/{made.json()['id']}"
    goal = client.post(url + "/goal-areas", headers=headers, json={"letter": "A", "title": "x"})
    activities = [
        client.post(
            url + "/activities",
            headers=headers,
            json={"goal_area_id": goal.json()["id"], "name": name},
        ).json()["id"]
        for name in ("Aktivitet", "Reserv")
    ]
    target = {"indicator": "meetings", "kind": "count", "comparison": "at_least", "value": 1}
    targets = [
        client.post(
            f"{url}/activities/{activities[0]}/targets",
            headers=headers,
            json={**target, "label": label},
        ).json()["id"]
        for label in ("Mål", "Reserv")
    ]
    return {
        "agreement_id": made.json()["id"],
        "party_id": made.json()["parties"][0]["id"],
        "goal_area_id": goal.json()["id"],
        "activity_id": activities[0],
        "spare_activity_id": activities[1],
        "target_id": targets[0],
        "spare_target_id": targets[1],
    }


def test_every_oidc_route_is_listed(app: FastAPI) -> None:
    assert app_routes(app, "/oidc/") == PUBLIC_OIDC, "say who may call the new /oidc/ routes"


def test_oidc_routes_of_an_unconfigured_issuer_answer_like_a_missing_page(
    client: TestClient, world: World
) -> None:
    """No issuer is configured here: without and with a session, the same 404 as any path."""
    for signed_in in (False, True):
        if signed_in:
            log_in(client, world.usernames["social_worker"])
        missing = client.get("/finns-inte")
        for method, path in PUBLIC_OIDC:
            response = client.request(method, path.replace("{name}", "skola"))
            assert (response.status_code, response.text) == (404, missing.text), path
        assert (client.get("/start", follow_redirects=False).status_code == 200) is signed_in


def test_every_api_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = api_routes(app)
    assert routes - PUBLIC - set(ROUTES) == set(), (
        "add the new routes to ROUTES with who may call them"
    )
    assert set(ROUTES) - routes == set(), "ROUTES names routes the app no longer has"


def test_every_route_role_and_consent_state(
    client: TestClient, world: World, app: FastAPI, engine: Engine
) -> None:
    plans: dict[str, PlanIds] = {}
    meetings: dict[str, tuple[str, str]] = {}
    assessments: dict[str, str] = {}

    def prepare(case: Case) -> None:
        add_plan(client, world, case, plans)
        meetings[case.id] = final_minutes(client, case)
        assessments[case.id] = add_assessment(client, case)

    cases = build_cases(client, world, prepare)
    complete = cases["complete"]
    refused = complete.consent(
        complete.guardians[0], decision="refused", agencies=[], categories=[]
    )
    integrate(app, engine)
    person = client.get(f"/api/v1/cases/{complete.id}", headers=complete.owner).json()[
        "young_person"
    ]["id"]
    auditor = token_for(client, world.usernames["auditor"])
    created = client.get("/api/v1/audit/events", params={"action": "case.create"}, headers=auditor)
    ctx = Ctx(
        client=client,
        cases=cases,
        refused_consent_id=refused["id"],
        person_id=person,
        reference=client.get(f"/api/v1/cases/{cases['none'].id}", headers=complete.owner).json()[
            "reference"
        ],
        event_id=created.json()["items"][-1]["id"],  # integrated above
        plans=plans,
        meetings=meetings,
        assessments=assessments,
        factor_id=client.get("/api/v1/assessment-factors", headers=complete.owner).json()[0]["id"],
    )
    ctx.referral_id = raise_referral(client, world)
    ctx.agency_id = str(world.school.id)
    ctx.agreement = add_agreement(client, world)
    # The refusal above moved `complete` on; rebuild it so the partner's consent is complete.
    cases["complete"] = Case(client, world)
    cases["complete"].all_sign()
    prepare(cases["complete"])

    tokens = {who: token_for(client, world.usernames[who]) for who in ROLES}
    mismatches = []
    for (method, path), route in sorted(ROUTES.items()):
        for who in ROLES:
            for state in STATES if "{case_id}" in path else ["none"]:
                case = cases[state]
                headers = tokens[who]
                if path in ("/api/v1/auth/logout", "/api/v1/auth/logout-everywhere"):
                    headers = token_for(client, world.usernames[who])
                response = client.request(
                    method, _url(ctx, path, case, method), headers=headers, **route.request(ctx)
                )
                if path == "/api/v1/auth/logout-everywhere":  # it ended the role's other tokens too
                    tokens[who] = token_for(client, world.usernames[who])
                denial = expected_denial(route.permission, route.access, who, state)
                got_denied = response.status_code in (403, 404)
                if denial is None and (got_denied or response.status_code >= 500):
                    mismatches.append(
                        (method, path, who, state, "expected through", response.status_code)
                    )
                elif denial is not None and response.status_code != denial:
                    mismatches.append(
                        (method, path, who, state, f"expected {denial}", response.status_code)
                    )
                if denial == 404 and "{case_id}" in path:
                    hidden = client.request(
                        method,
                        _url(ctx, path, case).replace(case.id, str(uuid.uuid4())),
                        headers=headers,
                        **route.request(ctx),
                    )
                    if response.json() != hidden.json():
                        mismatches.append(
                            (method, path, who, state, "404 body differs", response.json())
                        )
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_no_route_answers_without_a_token(client: TestClient) -> None:
    for method, path in ROUTES:
        url = path.replace("{", "").replace("}", "")
        assert client.request(method, url).status_code in (401, 422), (method, path)
