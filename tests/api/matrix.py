"""What the authorization matrices share: the roles, the consent states, the cases in each
state, and the rule for which answer means "denied". The JSON API matrix
(`test_authorization_matrix.py`) and the page matrix (`test_page_authorization_matrix.py`)
both ask `expected_denial`, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from common.clock import today
from common.roles import PERMISSIONS, Permission, Role
from tests.api.conftest import World
from tests.api.test_consent_sharing import Case

ROLES = {
    "social_worker": Role.SOCIAL_WORKER,
    "other_social_worker": Role.SOCIAL_WORKER,
    "coordinator": Role.COORDINATOR,
    "school_contact": Role.CONTACT_PERSON,
    "steering": Role.STEERING_GROUP,
    "administrator": Role.ADMINISTRATOR,
    "auditor": Role.AUDITOR,
}
STATES = [
    "none",
    "missing_signer",
    "complete",
    "expired",
    "withdrawn",
    "other_agency",
    "other_category",
    "closed",
]
# Access kinds: "any" (no case involved), "case_read" (consent-gated, open to partners),
# "case_manage" (only the owning unit or the coordinator), "public" (no login needed).
ACCESS_KINDS = frozenset({"any", "case_read", "case_manage", "public"})


def expected_denial(permission: Permission | None, access: str, who: str, state: str) -> int | None:
    """403 when the role lacks the permission, 404 when the case is out of scope, else None.

    Only the school contact is a partner on the cases `build_cases` makes, and only the
    `complete` state gives their agency the basic category."""
    assert access in ACCESS_KINDS, access
    role = ROLES[who]
    if permission is not None and permission not in PERMISSIONS[role]:
        return 403
    if access in ("any", "public"):
        return None
    if who in ("social_worker", "coordinator"):
        return None
    if who == "school_contact" and access == "case_read" and state == "complete":
        return None
    return 404


def build_cases(
    client: TestClient, world: World, prepare: Callable[[Case], None] | None = None
) -> dict[str, Case]:
    """One case per consent state, owned by the social worker, the school contact on its team.

    `prepare` is called for each case once its consents are recorded and before the `closed`
    one is closed: the place to give every case its meetings, minutes or plan."""
    cases: dict[str, Case] = {}
    for state in STATES:
        case = Case(client, world)
        if state == "missing_signer":
            case.consent(case.guardians[0])
        elif state in ("complete", "closed"):
            case.all_sign()
        elif state == "expired":
            case.all_sign(
                signed_on=today() - timedelta(days=30), valid_until=today() - timedelta(days=1)
            )
        elif state == "withdrawn":
            records = case.all_sign()
            client.post(f"/api/v1/consents/{records[0]['id']}/withdrawal", headers=case.owner)
        elif state == "other_agency":
            case.all_sign(agencies=[str(world.other_unit.id)])
        elif state == "other_category":
            case.all_sign(categories=["school"])
        if prepare is not None:
            prepare(case)
        if state == "closed":
            current = client.get(f"/api/v1/cases/{case.id}", headers=case.owner).json()
            client.post(
                f"/api/v1/cases/{case.id}/transitions",
                headers=case.owner,
                json={"target": "closed", "version": current["version"], "outcome": "moved"},
            )
        cases[state] = case
    return cases


def page_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, full path) of every route a `frontend` router serves: the HTML pages."""
    found = set()
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, APIRoute) and route.endpoint.__module__.startswith("frontend."):
            found |= {(method, path) for method in route.methods or ()}
    return found
