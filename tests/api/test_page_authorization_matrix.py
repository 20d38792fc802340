"""Every HTML page × every role × every consent state, against the permission table: the
pages' counterpart of `test_authorization_matrix.py` (issue 12, item 7).

The pages come from the app's own route table (every route a `frontend` router serves): a page
missing from PAGES fails the test, so pages added later must say who may open them. Each role
logs in with a browser session (cookie, and the session's CSRF token on every form), and each
form is built to fail *after* the access decision (a stale version, an invalid field), so 403
and 404 can only mean "denied". A page out of the reader's scope must be the very page a
missing id gives; a page let through must answer as listed and never 5xx; and no page shown to
someone outside the owning unit may carry a personnummer, or a field of a category their
consent lacks.

Adding a page is one row in PAGES. A new kind of id in a path is one entry in PATH_IDS, or,
for a record every case should have (a meeting, a plan), one entry in CASE_RECORDS.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.roles import Permission
from tests.api.conftest import World, token_for
from tests.api.matrix import ROLES, STATES, build_cases, expected_denial, page_routes
from tests.api.test_authorization_matrix import (
    PUBLIC_OIDC,
    add_agreement,
    add_assessment,
    final_minutes,
    raise_referral,
)
from tests.api.test_break_glass import REASON
from tests.api.test_cases import open_case
from tests.api.test_consent_sharing import Case
from tests.api.test_pages import csrf_from, log_in

Fields = Mapping[str, str | list[str]]


@dataclass
class Ctx:
    """What the page requests need besides the case under test."""

    cases: dict[str, Case]
    people: dict[str, dict[str, Any]]  # case id -> its young person, as the owner reads it
    refused_consent_id: str  # withdrawing a refusal is refused after the access decision
    reference: str
    grant_id: str  # a break-glass grant not yet reviewed
    records: dict[str, dict[str, str]]  # CASE_RECORDS name -> case id -> the record's id
    referral_id: str = ""  # a referral to the social worker's unit (issue 13)
    agency_id: str = ""  # the school, for the administrator's pages (issue 15)
    factor_id: str = ""  # a current risk or protective factor (issue 15)
    agreement: dict[str, str] = field(default_factory=dict)  # issue 14: `add_agreement`


@dataclass(frozen=True)
class Page:
    permission: Permission | None  # None: any signed-in user
    access: str  # "any" | "case_read" | "case_manage" | "public" (tests.api.matrix)
    # The status when let through: one, or one of several (None: anything but 403, 404, 5xx).
    through: int | tuple[int, ...] | None = 200
    # Form fields for a POST (the CSRF token is added), query parameters for a GET.
    fields: Fields | Callable[[Ctx], Fields] = field(default_factory=dict)


STALE = "999"  # a version no record has: an edit based on it is refused after the access check

PAGES: dict[tuple[str, str], Page] = {
    ("GET", "/"): Page(None, "any", 303),  # to the case list or the start page
    ("GET", "/start"): Page(None, "any"),
    ("GET", "/logga-in"): Page(None, "public"),
    ("POST", "/logga-in"): Page(None, "public", 400, {"username": ""}),  # tests/api/test_pages.py
    # The second step of a login and enrolling during one need a half-done login; without one
    # they send the browser back to the login page (tests/api/test_second_factor.py).
    ("GET", "/logga-in/kod"): Page(None, "public", 303),
    ("POST", "/logga-in/kod"): Page(None, "public", 303, {"code": "123456"}),
    ("GET", "/logga-in/aktivera"): Page(None, "public", 303),
    ("POST", "/logga-in/aktivera"): Page(None, "public", 303, {"code": "123456"}),
    ("POST", "/logga-in/aktivera/ny"): Page(None, "public", 303),
    ("POST", "/logga-ut"): Page(None, "any", 303),  # the role logs in again afterwards
    ("POST", "/logga-ut-overallt"): Page(None, "any", 303),
    ("GET", "/konto/tvastegsverifiering"): Page(None, "any"),
    # Before /ny (PAGES run in sorted order) no enrolment has begun: 409.
    ("POST", "/konto/tvastegsverifiering"): Page(None, "any", 409, {"code": "000000"}),
    ("POST", "/konto/tvastegsverifiering/ny"): Page(None, "any"),  # shows a new secret once
    ("GET", "/arenden"): Page(Permission.LIST_CASES, "any"),
    ("GET", "/unga/ny"): Page(Permission.REGISTER_YOUNG_PERSON, "any"),
    ("POST", "/unga/ny"): Page(Permission.REGISTER_YOUNG_PERSON, "any", 422, {"personnummer": "0"}),
    ("GET", "/unga/{young_person_id}"): Page(Permission.READ_YOUNG_PERSON, "case_manage"),
    # An SSPF case is open for the young person in every state but `closed`: 409 there, and
    # in `closed` a new case opens (303).
    ("POST", "/unga/{young_person_id}/arenden"): Page(
        Permission.OPEN_CASE, "case_manage", (409, 303), {"programme": "SSPF"}
    ),
    ("GET", "/arenden/{case_id}"): Page(Permission.READ_CASE, "case_read"),
    ("POST", "/arenden/{case_id}/status"): Page(
        Permission.CHANGE_CASE_STATE, "case_manage", 409, {"target": "paused", "version": STALE}
    ),
    ("GET", "/arenden/{case_id}/samtycken"): Page(Permission.RECORD_CONSENT, "case_manage"),
    ("POST", "/arenden/{case_id}/samtycken"): Page(
        Permission.RECORD_CONSENT, "case_manage", (422, 409), {"signer": "x", "decision": "x"}
    ),
    ("POST", "/samtycken/{consent_id}/aterkalla"): Page(
        Permission.RECORD_CONSENT, "case_manage", 409
    ),
    ("GET", "/arenden/{case_id}/team"): Page(Permission.MANAGE_TEAM, "case_manage"),
    ("POST", "/arenden/{case_id}/team"): Page(
        Permission.MANAGE_TEAM,
        "case_manage",
        (422, 409),  # no such user; a closed case's team is kept as it was
        lambda _ctx: {"user_id": str(uuid.uuid4())},
    ),
    # {user_id} is the case owner: removing them is refused after the access decision.
    ("POST", "/arenden/{case_id}/team/{user_id}/ta-bort"): Page(
        Permission.MANAGE_TEAM, "case_manage", 409
    ),
    ("GET", "/arenden/{case_id}/plan"): Page(Permission.READ_PLAN, "case_read"),
    ("POST", "/arenden/{case_id}/plan/mal"): Page(
        Permission.EDIT_PLAN, "case_manage", (422, 409), {"text": ""}
    ),
    ("POST", "/arenden/{case_id}/plan/mal/{goal_id}"): Page(
        Permission.EDIT_PLAN, "case_manage", 409, {"version": STALE, "status": "reached"}
    ),
    ("POST", "/arenden/{case_id}/plan/ataganden"): Page(
        Permission.EDIT_PLAN, "case_manage", (422, 409), {"what": ""}
    ),
    # The school's own commitment: its contact person may comment on it (with a stale version).
    ("POST", "/arenden/{case_id}/plan/ataganden/{commitment_id}"): Page(
        Permission.UPDATE_COMMITMENT, "case_read", 409, {"version": STALE, "comment": "x"}
    ),
    # Meetings: each case has a meeting whose minutes are final, with one item by the owner,
    # so every write below is refused after the access decision (409 or 422).
    ("GET", "/arenden/{case_id}/moten"): Page(Permission.READ_MEETINGS, "case_read"),
    ("POST", "/arenden/{case_id}/moten"): Page(
        Permission.MANAGE_MEETINGS, "case_manage", (422, 409), {"day": ""}
    ),
    ("POST", "/arenden/{case_id}/moten/nodstopp"): Page(
        Permission.MANAGE_MEETINGS, "case_manage", (422, 409), {"when": ""}
    ),
    ("GET", "/arenden/{case_id}/moten/{meeting_id}"): Page(Permission.READ_MEETINGS, "case_read"),
    ("POST", "/arenden/{case_id}/moten/{meeting_id}/narvaro"): Page(
        Permission.MANAGE_MEETINGS, "case_manage", 409, {"version": STALE}
    ),
    ("POST", "/arenden/{case_id}/moten/{meeting_id}/punkter"): Page(
        Permission.WRITE_MINUTES, "case_read", (422, 409), {"heading": "", "category": "basic"}
    ),
    ("POST", "/arenden/{case_id}/moten/{meeting_id}/punkter/{item_id}"): Page(
        Permission.WRITE_MINUTES,
        "case_read",
        409,
        {"version": STALE, "heading": "x", "text": "x", "category": "basic"},
    ),
    ("POST", "/arenden/{case_id}/moten/{meeting_id}/punkter/{item_id}/rattelse"): Page(
        Permission.WRITE_MINUTES, "case_read", (422, 409), {"heading": "x", "text": ""}
    ),
    ("POST", "/arenden/{case_id}/moten/{meeting_id}/justera"): Page(
        Permission.WRITE_MINUTES, "case_read", 409, {"version": STALE}
    ),
    ("GET", "/arenden/{case_id}/moten/{meeting_id}/kalender.ics"): Page(
        Permission.READ_MEETINGS, "case_read"
    ),
    ("GET", "/arenden/{case_id}/moten/{meeting_id}/utskrift"): Page(
        Permission.READ_MEETINGS, "case_read"
    ),
    # Assessments (issue 13): each case has one (CASE_RECORDS); a partner reads the page under
    # consent and, as no consent here covers `risk`, sees none of them.
    ("GET", "/arenden/{case_id}/bedomningar"): Page(Permission.READ_ASSESSMENTS, "case_read"),
    ("POST", "/arenden/{case_id}/bedomningar"): Page(
        Permission.RECORD_ASSESSMENT, "case_manage", (422, 409), {"level_code": ""}
    ),
    ("GET", "/samtycken"): Page(Permission.RECORD_CONSENT, "any"),
    ("GET", "/nodatkomst"): Page(Permission.BREAK_GLASS, "any"),
    ("POST", "/nodatkomst"): Page(
        Permission.BREAK_GLASS, "any", 422, lambda c: {"reference": c.reference, "reason": "kort"}
    ),
    ("GET", "/granskning"): Page(Permission.READ_AUDIT_LOG, "any", 200, {"sok": "1"}),
    # A query that cannot be read, so the answer shows whether the permission was checked first.
    ("GET", "/granskning/export.csv"): Page(
        Permission.EXPORT_AUDIT_LOG, "any", 422, {"fran": "igår"}
    ),
    ("GET", "/granskning/arende"): Page(
        Permission.READ_AUDIT_LOG, "any", 200, lambda c: {"referens": c.reference}
    ),
    ("GET", "/granskning/nodatkomst"): Page(Permission.READ_AUDIT_LOG, "any"),
    ("POST", "/granskning/nodatkomst/{grant_id}/granskning"): Page(
        Permission.REVIEW_BREAK_GLASS, "any", 422, {"outcome": "maybe"}
    ),
    ("GET", "/granskning/nekade"): Page(Permission.READ_AUDIT_LOG, "any"),
    ("GET", "/granskning/integritet"): Page(Permission.READ_AUDIT_LOG, "any"),
    ("POST", "/granskning/integritet"): Page(Permission.READ_AUDIT_LOG, "any"),
    # Referrals (issue 13). One referral is read in the inbox's scope (the receiving unit's
    # social workers, the programme's coordinators): "case_manage" in kind, not case-bound.
    ("GET", "/aktualiseringar/ny"): Page(Permission.RAISE_REFERRAL, "any"),
    ("POST", "/aktualiseringar/ny"): Page(Permission.RAISE_REFERRAL, "any", 422, {"programme": ""}),
    ("GET", "/aktualiseringar/mina"): Page(Permission.RAISE_REFERRAL, "any"),
    ("GET", "/aktualiseringar"): Page(Permission.TRIAGE_REFERRALS, "any"),
    ("GET", "/aktualiseringar/{referral_id}"): Page(Permission.TRIAGE_REFERRALS, "case_manage"),
    ("POST", "/aktualiseringar/{referral_id}/beslut"): Page(
        Permission.TRIAGE_REFERRALS, "case_manage", 409, {"version": STALE, "decision": "decline"}
    ),
    ("POST", "/aktualiseringar/{referral_id}/overlamna"): Page(
        Permission.TRIAGE_REFERRALS, "case_manage", 409, {"version": STALE}
    ),
    ("GET", "/vantelista"): Page(Permission.TRIAGE_REFERRALS, "any"),
    # The administrator's pages (issue 15). {agency_id} is the school, {user_id} the case
    # owner: every write carries a stale version (or misses a field), so nothing changes.
    ("GET", "/admin"): Page(Permission.CONFIGURE, "any"),
    ("GET", "/admin/organisationer"): Page(Permission.CONFIGURE, "any"),
    ("GET", "/admin/organisationer/ny"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/organisationer/ny"): Page(Permission.CONFIGURE, "any", 422, {"name": ""}),
    ("GET", "/admin/organisationer/{agency_id}"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/organisationer/{agency_id}"): Page(
        Permission.CONFIGURE, "any", 409, {"name": "Ny skola", "kind": "school", "version": STALE}
    ),
    ("POST", "/admin/organisationer/{agency_id}/aktivering"): Page(
        Permission.CONFIGURE, "any", 409, {"active": "0", "version": STALE}
    ),
    ("GET", "/admin/anvandare"): Page(Permission.CONFIGURE, "any"),
    ("GET", "/admin/anvandare/ny"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/anvandare/ny"): Page(Permission.CONFIGURE, "any", 422, {"username": ""}),
    ("GET", "/admin/anvandare/{user_id}"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/anvandare/{user_id}"): Page(
        Permission.CONFIGURE, "any", 422, {"agency": "", "version": STALE}
    ),
    ("POST", "/admin/anvandare/{user_id}/aktivering"): Page(
        Permission.CONFIGURE, "any", 409, {"active": "0", "version": STALE}
    ),
    ("POST", "/admin/anvandare/{user_id}/tvastegsverifiering"): Page(
        Permission.CONFIGURE, "any", 409, {"version": STALE}
    ),
    ("POST", "/admin/anvandare/{user_id}/upplasning"): Page(
        Permission.CONFIGURE, "any", 409, {"version": STALE}
    ),
    ("GET", "/admin/inloggning"): Page(Permission.CONFIGURE, "any"),
    # The steering group's landing page (issue 15).
    ("GET", "/uppfoljning"): Page(Permission.READ_FOLLOW_UP, "any"),
    # The follow-up report and the release ledger (issue 14): without ids the forms are bad
    # input (422 naming the field), after the role check.
    ("GET", "/uppfoljning/rapporter"): Page(Permission.MANAGE_AGREEMENTS, "any"),
    ("GET", "/uppfoljning/rapporter/rapport"): Page(Permission.MANAGE_AGREEMENTS, "any", 422),
    ("POST", "/uppfoljning/rapporter/kommentar"): Page(Permission.MANAGE_AGREEMENTS, "any", 422),
    ("POST", "/uppfoljning/rapporter/publicera"): Page(Permission.MANAGE_AGREEMENTS, "any", 422),
    ("POST", "/uppfoljning/rapporter/rattelse"): Page(Permission.MANAGE_AGREEMENTS, "any", 422),
    ("GET", "/uppfoljning/publicerat/{release_id}"): Page(Permission.READ_FOLLOW_UP, "any", 422),
    ("GET", "/uppfoljning/publicerat/{release_id}/rapport.json"): Page(
        Permission.READ_FOLLOW_UP, "any", 422
    ),
    ("GET", "/uppfoljning/publicerat/{release_id}/rapport.csv"): Page(
        Permission.READ_FOLLOW_UP, "any", 422
    ),
    ("GET", "/uppfoljning/publicerat/{release_id}/rapport.pdf"): Page(
        Permission.READ_FOLLOW_UP, "any", 422
    ),
    # The municipality's configuration (issue 15): every edit is stale or invalid here.
    ("GET", "/admin/installningar"): Page(Permission.CONFIGURE, "any"),
    ("GET", "/admin/installningar/historik"): Page(Permission.CONFIGURE, "any"),
    ("GET", "/admin/installningar/samtyckesaldrar"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/installningar/samtyckesaldrar"): Page(
        Permission.CONFIGURE, "any", 422, {"young_person_from_age": "x", "version": "0"}
    ),
    ("GET", "/admin/installningar/grunder"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/installningar/grunder"): Page(
        Permission.CONFIGURE, "any", 409, {"version": STALE, "label": "x"}
    ),
    ("GET", "/admin/installningar/aldersgrupper"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/installningar/aldersgrupper"): Page(
        Permission.CONFIGURE, "any", 409, {"version": STALE}
    ),
    ("GET", "/admin/installningar/kapacitet"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/installningar/kapacitet"): Page(
        Permission.CONFIGURE, "any", 409, {"version": STALE}
    ),
    ("GET", "/admin/installningar/cylindernivaer"): Page(Permission.CONFIGURE, "any"),
    ("GET", "/admin/installningar/cylindernivaer/ny"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/installningar/cylindernivaer/ny"): Page(
        Permission.CONFIGURE, "any", 422, {"code": "", "rank": "x"}
    ),
    ("GET", "/admin/installningar/cylindernivaer/{code}"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/installningar/cylindernivaer/{code}"): Page(
        Permission.CONFIGURE, "any", 409, {"version": STALE, "rank": "4", "wording": "x"}
    ),
    ("POST", "/admin/installningar/cylindernivaer/{code}/ta-bort"): Page(
        Permission.CONFIGURE, "any", 409, {"version": STALE}
    ),
    ("GET", "/admin/installningar/faktorer"): Page(Permission.CONFIGURE, "any"),
    ("GET", "/admin/installningar/faktorer/ny"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/installningar/faktorer/ny"): Page(
        Permission.CONFIGURE, "any", 422, {"kind": ""}
    ),
    ("GET", "/admin/installningar/faktorer/{factor_id}"): Page(Permission.CONFIGURE, "any"),
    ("POST", "/admin/installningar/faktorer/{factor_id}"): Page(
        Permission.CONFIGURE, "any", 409, {"version": STALE, "text": "x"}
    ),
    ("POST", "/admin/installningar/faktorer/{factor_id}/ta-bort"): Page(
        Permission.CONFIGURE, "any", 409, {"version": STALE}
    ),
}
# The collaboration agreement (issue 14): the steering group and the coordinator read it, the
# coordinator changes it. Every form is invalid here, but the removals of the spare target, the
# spare activity and the party.
_AGREEMENT = "/uppfoljning/overenskommelser"
_ONE = _AGREEMENT + "/{agreement_id}"
PAGES.update(
    {
        ("GET", _AGREEMENT): Page(Permission.READ_FOLLOW_UP, "any"),
        ("GET", _AGREEMENT + "/ny"): Page(Permission.MANAGE_AGREEMENTS, "any"),
        ("POST", _AGREEMENT + "/ny"): Page(Permission.MANAGE_AGREEMENTS, "any", 422, {"name": ""}),
        ("GET", _ONE): Page(Permission.READ_FOLLOW_UP, "any"),
        ("GET", _ONE + "/andra"): Page(Permission.MANAGE_AGREEMENTS, "any"),
        ("POST", _ONE + "/andra"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 422, {"name": "", "version": STALE}
        ),
        ("POST", _ONE + "/parter"): Page(Permission.MANAGE_AGREEMENTS, "any", 422, {"name": ""}),
        ("POST", _ONE + "/malomraden"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 422, {"letter": ""}
        ),
        ("POST", _ONE + "/aktiviteter"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 422, {"name": ""}
        ),
        ("POST", _ONE + "/aktiviteter/{activity_id}/mal"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 422, {"indicator": "x"}
        ),
        ("GET", _ONE + "/aktiviteter/{activity_id}/mal/{target_id}/andra"): Page(
            Permission.MANAGE_AGREEMENTS, "any"
        ),
        ("POST", _ONE + "/aktiviteter/{activity_id}/mal/{target_id}/andra"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 422, {"label": "", "version": STALE}
        ),
        ("POST", _ONE + "/aktiviteter/{activity_id}/mal/{target_id}/ta-bort"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 303
        ),
        ("GET", _ONE + "/aktiviteter/{activity_id}/andra"): Page(
            Permission.MANAGE_AGREEMENTS, "any"
        ),
        ("POST", _ONE + "/aktiviteter/{activity_id}/andra"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 422, {"name": "", "version": STALE}
        ),
        ("GET", _ONE + "/malomraden/{goal_area_id}/andra"): Page(
            Permission.MANAGE_AGREEMENTS, "any"
        ),
        ("POST", _ONE + "/malomraden/{goal_area_id}/andra"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 422, {"title": "", "version": STALE}
        ),
        ("POST", _ONE + "/aktiviteter/{activity_id}/ta-bort"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 303
        ),
        ("POST", _ONE + "/parter/{party_id}/ta-bort"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 303
        ),
        # The goal area still has the agreement's activity: the removal is refused after the
        # access decision.
        ("POST", _ONE + "/malomraden/{goal_area_id}/ta-bort"): Page(
            Permission.MANAGE_AGREEMENTS, "any", 409
        ),
    }
)
# Covered by tests/api/test_authorization_matrix.py and tests/api/test_oidc.py.
COVERED_ELSEWHERE = PUBLIC_OIDC

# Records each case gets before the matrix runs (see `build_cases`' `prepare`): name -> how
# to make one as the owner, returning its id. Each name becomes a path id filled from the case
# of the consent state under test, e.g. for pages under a meeting:
#   "meeting_id": lambda client, case: client.post(
#       f"/api/v1/cases/{case.id}/meetings", json={...}, headers=case.owner
#   ).json()["id"],
_FINAL_MINUTES: dict[str, tuple[str, str]] = {}  # case id -> (meeting id, its item's id)


def _final_minutes(client: TestClient, case: Case) -> tuple[str, str]:
    if case.id not in _FINAL_MINUTES:
        _FINAL_MINUTES[case.id] = final_minutes(client, case)
    return _FINAL_MINUTES[case.id]


CASE_RECORDS: dict[str, Callable[[TestClient, Case], str]] = {
    "meeting_id": lambda client, case: _final_minutes(client, case)[0],
    "item_id": lambda client, case: _final_minutes(client, case)[1],
    "goal_id": lambda client, case: client.post(
        f"/api/v1/cases/{case.id}/goals", headers=case.owner, json={"text": "Mål"}
    ).json()["id"],
    "commitment_id": lambda client, case: client.post(
        f"/api/v1/cases/{case.id}/commitments",
        headers=case.owner,
        json={"what": "Följa upp", "agency_id": case.school_id, "due_on": "2026-12-31"},
    ).json()["id"],
    "assessment_id": add_assessment,
}


def _record(name: str) -> Callable[[Ctx, Case], str]:
    return lambda ctx, case: ctx.records[name][case.id]


# How each id in a path is filled, from the context and the case of the consent state under
# test. Ids in CASE_IDS belong to that case: pages with one run in every consent state. An
# out-of-scope page is compared with the page for the same path with every id made up.
PATH_IDS: dict[str, Callable[[Ctx, Case], str]] = {
    "case_id": lambda _ctx, case: case.id,
    "young_person_id": lambda ctx, case: str(ctx.people[case.id]["id"]),
    "user_id": lambda _ctx, case: case.owner_user,
    "consent_id": lambda ctx, _case: ctx.refused_consent_id,
    "grant_id": lambda ctx, _case: ctx.grant_id,
    "referral_id": lambda ctx, _case: ctx.referral_id,
    "agency_id": lambda ctx, _case: ctx.agency_id,
    "code": lambda _ctx, _case: "A",  # a cylinder level (issue 15)
    "release_id": lambda _ctx, _case: "ingen-publicering",  # malformed: 422 (issue 14)
    "factor_id": lambda ctx, _case: ctx.factor_id,
    "agreement_id": lambda ctx, _case: ctx.agreement["agreement_id"],
    "activity_id": lambda ctx, _case: ctx.agreement["activity_id"],
    "target_id": lambda ctx, _case: ctx.agreement["target_id"],
    "party_id": lambda ctx, _case: ctx.agreement["party_id"],  # deleted once
    "goal_area_id": lambda ctx, _case: ctx.agreement["goal_area_id"],
    **{name: _record(name) for name in CASE_RECORDS},
}
CASE_IDS = {"case_id", "young_person_id", *CASE_RECORDS}


def _names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


# A removal of an activity or a target takes the spare one: the pages after it still find the
# agreement's.
REMOVED_IDS: dict[str, Callable[[Ctx, Case], str]] = {
    "activity_id": lambda ctx, _case: ctx.agreement["spare_activity_id"],
    "target_id": lambda ctx, _case: ctx.agreement["spare_target_id"],
}


def _url(ctx: Ctx, path: str, case: Case, *, made_up: bool = False) -> str:
    url = path
    names = _names(path)
    for name in names:
        removed = path.endswith("/ta-bort") and name == names[-1] and name in REMOVED_IDS
        fill = REMOVED_IDS[name] if removed else PATH_IDS[name]
        value = str(uuid.uuid4()) if made_up else fill(ctx, case)
        url = url.replace("{" + name + "}", value)
    return url


def _states(path: str) -> list[str]:
    return STATES if CASE_IDS & set(_names(path)) else ["none"]


def _statuses(through: int | tuple[int, ...]) -> tuple[int, ...]:
    return through if isinstance(through, tuple) else (through,)


def _fields(page: Page, ctx: Ctx) -> Fields:
    return page.fields(ctx) if callable(page.fields) else page.fields


class Browser:
    """One TestClient as one role at a time: a browser session and its CSRF token."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.world = world
        self.csrf = ""

    def log_in(self, who: str) -> None:
        self.client.cookies.clear()
        log_in(self.client, self.world.usernames[who])
        self.csrf = csrf_from(self.client.get("/start").text)

    def request(self, method: str, url: str, fields: Fields) -> Any:
        if method == "GET":
            return self.client.get(url, params=dict(fields), follow_redirects=False)
        data = {**fields, "csrf_token": self.csrf}
        return self.client.request(method, url, data=data, follow_redirects=False)


def _secrets(people: dict[str, dict[str, Any]]) -> set[str]:
    """What no one outside the owning unit may see on these cases: the personnummer (only
    social services see it) and the guardians and home area (the `social` category, which no
    consent in `build_cases` gives the school)."""
    found = set()
    for person in people.values():
        pnr = person["personnummer"]
        found |= {pnr, f"{pnr[:8]}-{pnr[8:]}", person["home_area"]}
        found |= {guardian["name"] for guardian in person["guardians"]}
    return found


def _context(client: TestClient, world: World) -> Ctx:
    records: dict[str, dict[str, str]] = {name: {} for name in CASE_RECORDS}

    def prepare(case: Case) -> None:
        for name, make in CASE_RECORDS.items():
            records[name][case.id] = make(client, case)

    cases = build_cases(client, world, prepare)
    owner = token_for(client, world.usernames["social_worker"])
    refused = Case(client, world)
    refusal = refused.consent(refused.guardians[0], decision="refused", agencies=[], categories=[])
    elsewhere = open_case(client, token_for(client, world.usernames["other_social_worker"]))
    grant = client.post(
        "/api/v1/break-glass",
        json={"reference": elsewhere["reference"], "reason": REASON},
        headers=owner,
    )
    assert grant.status_code == 201, grant.text
    reads = {
        case.id: client.get(f"/api/v1/cases/{case.id}", headers=owner).json()
        for case in cases.values()
    }
    return Ctx(
        cases=cases,
        people={case_id: read["young_person"] for case_id, read in reads.items()},
        refused_consent_id=refusal["id"],
        reference=reads[cases["none"].id]["reference"],
        grant_id=grant.json()["grant_id"],
        records=records,
        referral_id=raise_referral(client, world),
        agency_id=str(world.school.id),
        factor_id=client.get("/api/v1/assessment-factors", headers=owner).json()[0]["id"],
        agreement=add_agreement(client, world),
    )


def test_every_page_is_in_the_matrix(app: FastAPI) -> None:
    pages = page_routes(app) - COVERED_ELSEWHERE
    assert pages - set(PAGES) == set(), "add the new pages to PAGES with who may open them"
    assert set(PAGES) - pages == set(), "PAGES names pages the app no longer has"
    unknown = {name for path in (p for _, p in PAGES) for name in _names(path)} - set(PATH_IDS)
    assert unknown == set(), "say in PATH_IDS how to fill these ids"


def test_every_page_role_and_consent_state(client: TestClient, world: World) -> None:
    ctx = _context(client, world)
    secrets = _secrets(ctx.people)
    browser = Browser(client, world)
    mismatches: list[tuple[Any, ...]] = []

    # The checks below can fail: the owner's own pages do show what others must not see.
    browser.log_in("social_worker")
    complete = ctx.cases["complete"]
    own = browser.request("GET", f"/arenden/{complete.id}", {}).text
    person = ctx.people[complete.id]
    pnr = person["personnummer"]
    for value in (f"{pnr[:8]}-{pnr[8:]}", *(g["name"] for g in person["guardians"])):
        assert value in own, value

    for who in ROLES:
        browser.log_in(who)
        for (method, path), page in sorted(PAGES.items()):
            for state in _states(path):
                case = ctx.cases[state]
                fields = _fields(page, ctx)
                response = browser.request(method, _url(ctx, path, case), fields)
                if path in ("/logga-ut", "/logga-ut-overallt"):
                    browser.log_in(who)
                status = response.status_code
                denial = expected_denial(page.permission, page.access, who, state)
                where = (method, path, who, state)
                if denial is None:
                    if status in (403, 404) or status >= 500:
                        mismatches.append((*where, "expected through", status))
                    elif page.through is not None and status not in _statuses(page.through):
                        mismatches.append((*where, f"expected {page.through}", status))
                elif status != denial:
                    mismatches.append((*where, f"expected {denial}", status))
                if denial == 404 and _names(path):
                    missing = browser.request(method, _url(ctx, path, case, made_up=True), fields)
                    if (missing.status_code, missing.text) != (404, response.text):
                        mismatches.append((*where, "not the page for a missing id"))
                if who not in ("social_worker", "coordinator"):
                    shown = sorted(s for s in secrets if s and s in response.text)
                    if shown:
                        mismatches.append((*where, "shows", shown))
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_no_page_opens_without_a_session(client: TestClient) -> None:
    """Without a session every page but the public ones sends the browser to the login page."""
    for (method, path), page in PAGES.items():
        url = path
        for name in _names(path):
            url = url.replace("{" + name + "}", str(uuid.uuid4()))
        response = client.request(method, url, follow_redirects=False)
        if page.access == "public":
            assert response.status_code < 500, (method, path)
            continue
        target = quote(url if method == "GET" else "/", safe="/")
        login = "/logga-in" if path == "/" else f"/logga-in?nasta={target}"
        assert (response.status_code, response.headers.get("location")) == (303, login), (
            method,
            path,
        )
