"""The administrator's pages (issue 15 item 1) and each role's landing page (item 3)."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from audit.models import AuditEvent
from common.clock import utcnow
from common.db import new_session
from common.roles import AgencyKind, Role
from domain.agencies.models import Agency
from domain.agencies.repository import AgencyRepository
from domain.auth.oidc import Federation, IssuerConfig
from domain.users.models import LoginAttempt, User, UserSession
from domain.users.repository import UserRepository
from tests.api.conftest import World
from tests.api.test_pages import csrf_from, log_in
from tests.builders import PASSWORD

STRONG = "ett-langt-losenord-2026"


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with new_session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.action == action)
                .order_by(col(AuditEvent.occurred_at))
            ).all()
        )


def agency_named(engine: Engine, name: str) -> Agency | None:
    with new_session(engine) as session:
        return AgencyRepository(session).by_name(name)


def user_named(engine: Engine, username: str) -> User | None:
    with new_session(engine) as session:
        return UserRepository(session).by_username(username)


def title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match
    return match.group(1)


class Admin:
    """The administrator in a browser: a session cookie and its CSRF token."""

    def __init__(self, client: TestClient, world: World, who: str = "administrator") -> None:
        self.client = client
        client.cookies.clear()
        log_in(client, world.usernames[who])
        self.csrf = csrf_from(client.get("/start").text)

    def get(self, url: str) -> object:
        return self.client.get(url, follow_redirects=False)

    def post(self, url: str, data: Mapping[str, str | list[str]]) -> object:
        return self.client.post(url, data={**data, "csrf_token": self.csrf}, follow_redirects=False)


@pytest.fixture
def admin(client: TestClient, world: World) -> Admin:
    return Admin(client, world)


def _status(response: object) -> int:
    return int(response.status_code)  # type: ignore[attr-defined]


def _text(response: object) -> str:
    return str(response.text)  # type: ignore[attr-defined]


def _location(response: object) -> str:
    return str(response.headers["location"])  # type: ignore[attr-defined]


class TestAgencies:
    def test_administrator_creates_an_agency_audited_as_configuration(
        self, admin: Admin, engine: Engine
    ) -> None:
        response = admin.post(
            "/admin/organisationer/ny",
            {"name": "Fritidsgård Exempel", "kind": "leisure", "area": "Bäckby"},
        )
        assert _status(response) == 303
        agency = agency_named(engine, "Fritidsgård Exempel")
        assert agency is not None
        assert (agency.kind, agency.area, agency.version) == ("leisure", "Bäckby", 1)
        assert _location(response) == f"/admin/organisationer/{agency.id}?sparad=ny"
        listed = _text(admin.get("/admin/organisationer"))
        assert "Fritidsgård Exempel" in listed
        assert "Bäckby" in listed
        created = events(engine, "config.agency.create")
        [mine] = [e for e in created if e.resource_id == str(agency.id)]
        assert mine.basis == {"kind": "configuration", "agency_kind": "leisure", "area": "Bäckby"}
        assert mine.outcome == "allowed"

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"name": "", "kind": "school"}, "name"),
            ({"name": "Skolan", "kind": "bank"}, "kind"),
            ({"name": "Skolan", "kind": ""}, "kind"),
            ({"name": "Skolan", "kind": "school", "area": "x" * 101}, "area"),
        ],
    )
    def test_bad_input_names_the_field_and_stores_nothing(
        self, admin: Admin, engine: Engine, fields: dict[str, str], field: str
    ) -> None:
        with new_session(engine) as session:
            before = len(AgencyRepository(session).list())
        audited = len(events(engine, "config.agency.create"))
        response = admin.post("/admin/organisationer/ny", fields)
        assert _status(response) == 422
        html = _text(response)
        assert title(html).startswith("Fel: ")
        assert f'href="#{field}"' in html
        assert f'id="{field}-error"' in html or f'id="{field}"' in html
        with new_session(engine) as session:
            assert len(AgencyRepository(session).list()) == before
        assert len(events(engine, "config.agency.create")) == audited

    def test_a_second_agency_of_the_same_name_is_refused(self, admin: Admin, world: World) -> None:
        response = admin.post(
            "/admin/organisationer/ny", {"name": world.school.name, "kind": "school"}
        )
        assert _status(response) == 409
        assert 'href="#name"' in _text(response)

    def test_rename_change_kind_and_area_records_old_and_new(
        self, admin: Admin, engine: Engine, world: World
    ) -> None:
        url = f"/admin/organisationer/{world.school.id}"
        page = _text(admin.get(url))
        assert world.school.name in page
        response = admin.post(
            url, {"name": "Nya skolan", "kind": "other", "area": "Centrum", "version": "1"}
        )
        assert (_status(response), _location(response)) == (303, f"{url}?sparad=1")
        agency = agency_named(engine, "Nya skolan")
        assert agency is not None
        assert (agency.kind, agency.area, agency.version) == ("other", "Centrum", 2)
        [event] = events(engine, "config.agency.update")
        assert event.basis == {
            "kind": "configuration",
            "changed": ["area", "kind", "name"],
            "old": {"area": None, "kind": "school", "name": world.school.name},
            "new": {"area": "Centrum", "kind": "other", "name": "Nya skolan"},
        }

    def test_an_edit_from_a_stale_version_is_refused_with_409(
        self, admin: Admin, engine: Engine, world: World
    ) -> None:
        url = f"/admin/organisationer/{world.school.id}"
        first = {"name": "Skola A", "kind": "school", "area": "", "version": "1"}
        assert _status(admin.post(url, first)) == 303
        second = {**first, "name": "Skola B"}
        response = admin.post(url, second)
        assert _status(response) == 409
        html = _text(response)
        assert "har ändrats av någon annan" in html
        assert 'value="Skola A"' in html  # the current record, to redo the edit on
        assert agency_named(engine, "Skola B") is None
        assert len(events(engine, "config.agency.update")) == 1

    def test_renaming_to_another_agencys_name_is_refused(self, admin: Admin, world: World) -> None:
        response = admin.post(
            f"/admin/organisationer/{world.school.id}",
            {"name": world.unit.name, "kind": "school", "version": "1"},
        )
        assert _status(response) == 422
        assert 'href="#name"' in _text(response)

    def test_social_services_keeps_its_kind_while_it_has_social_workers(
        self, admin: Admin, engine: Engine, world: World
    ) -> None:
        response = admin.post(
            f"/admin/organisationer/{world.unit.id}",
            {"name": world.unit.name, "kind": "school", "version": "1"},
        )
        assert _status(response) == 422
        assert 'href="#kind"' in _text(response)
        agency = agency_named(engine, world.unit.name)
        assert agency is not None
        assert agency.kind == "social_services"

    def test_deactivated_agency_gets_no_new_users_and_can_come_back(
        self, admin: Admin, engine: Engine, world: World
    ) -> None:
        url = f"/admin/organisationer/{world.school.id}"
        assert _status(admin.post(f"{url}/aktivering", {"active": "0", "version": "1"})) == 303
        assert "Avvecklad sedan" in _text(admin.get(url))
        refused = admin.post(
            "/admin/anvandare/ny",
            {
                "username": "ny.larare",
                "display_name": "Ny Lärare",
                "agency": str(world.school.id),
                "roles": ["contact_person"],
                "password": STRONG,
            },
        )
        assert _status(refused) == 422
        assert 'href="#agency"' in _text(refused)
        assert user_named(engine, "ny.larare") is None
        stale = admin.post(f"{url}/aktivering", {"active": "1", "version": "1"})
        assert _status(stale) == 409
        assert _status(admin.post(f"{url}/aktivering", {"active": "1", "version": "2"})) == 303
        assert [
            len(events(engine, f"config.agency.{a}")) for a in ("deactivate", "reactivate")
        ] == [
            1,
            1,
        ]

    def test_missing_agency_is_404(self, admin: Admin) -> None:
        assert _status(admin.get(f"/admin/organisationer/{uuid.uuid4()}")) == 404


class TestUsers:
    def _new(self, admin: Admin, world: World, **fields: str | list[str]) -> object:
        data: dict[str, str | list[str]] = {
            "username": "anna.exempel",
            "display_name": "Anna Exempel",
            "agency": str(world.school.id),
            "roles": ["contact_person"],
            "password": STRONG,
            **fields,
        }
        return admin.post("/admin/anvandare/ny", data)

    def test_administrator_creates_a_user_who_can_log_in(
        self, admin: Admin, client: TestClient, engine: Engine, world: World
    ) -> None:
        response = self._new(admin, world)
        assert _status(response) == 303
        user = user_named(engine, "anna.exempel")
        assert user is not None
        assert (user.roles, user.agency_id, user.version) == (
            ["contact_person"],
            world.school.id,
            1,
        )
        assert _location(response) == f"/admin/anvandare/{user.id}?sparad=ny"
        [event] = [e for e in events(engine, "config.user.create") if e.resource_id == str(user.id)]
        assert event.basis["kind"] == "configuration"
        assert "anna.exempel" in _text(admin.get("/admin/anvandare"))
        client.cookies.clear()
        page = client.get("/logga-in")
        login = client.post(
            "/logga-in",
            data={
                "username": "anna.exempel",
                "password": STRONG,
                "csrf_token": csrf_from(page.text),
                "nasta": "/",
            },
            follow_redirects=False,
        )
        assert _status(login) == 303

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"username": "Anna Exempel!"}, "username"),
            ({"display_name": " "}, "display_name"),
            ({"roles": []}, "roles"),
            ({"roles": ["wizard"]}, "roles"),
            ({"roles": ["social_worker"]}, "roles"),  # the school is not social services
            ({"programmes": ["SSPF"]}, "programmes"),  # only coordinators
            ({"password": "kort"}, "password"),
            ({"agency": "nej"}, "agency"),
            ({"agency": str(uuid.UUID(int=0))}, "agency"),
        ],
    )
    def test_bad_input_names_the_field_and_stores_nothing(
        self,
        admin: Admin,
        engine: Engine,
        world: World,
        fields: dict[str, str | list[str]],
        field: str,
    ) -> None:
        response = self._new(admin, world, **fields)
        assert _status(response) == 422
        html = _text(response)
        assert title(html).startswith("Fel: ")
        assert f'href="#{field}"' in html
        assert user_named(engine, "anna.exempel") is None
        assert 'value="anna.exempel"' in html or field == "username"  # the input is kept

    def test_a_taken_username_is_refused(self, admin: Admin, world: World) -> None:
        response = self._new(admin, world, username=world.usernames["social_worker"])
        assert _status(response) == 409
        assert 'href="#username"' in _text(response)

    def test_list_shows_agency_roles_and_last_login(
        self, admin: Admin, world: World, engine: Engine
    ) -> None:
        html = _text(admin.get("/admin/anvandare"))
        assert world.usernames["social_worker"] in html
        assert "Testskolan" in html
        assert "Kontaktperson" in html
        assert "Aldrig" in html  # the social worker never logged in
        with new_session(engine) as session:
            admin_user = UserRepository(session).by_username(world.usernames["administrator"])
            assert admin_user is not None
            started = session.exec(
                select(UserSession.created_at).where(UserSession.user_id == admin_user.id)
            ).first()
        assert started is not None
        page = _text(admin.get(f"/admin/anvandare/{admin_user.id}"))
        assert "Senast inloggad" in page
        assert "Aldrig" not in page.split("Senast inloggad")[1].split("</div>")[0]

    def test_change_agency_roles_and_programmes_then_a_stale_edit_is_409(
        self, admin: Admin, engine: Engine, world: World
    ) -> None:
        user = user_named(engine, world.usernames["school_contact"])
        assert user is not None
        url = f"/admin/anvandare/{user.id}"
        data: dict[str, str | list[str]] = {
            "agency": str(world.unit.id),
            "roles": ["coordinator"],
            "programmes": ["SIG"],
            "version": "1",
        }
        assert _status(admin.post(url, data)) == 303
        changed = user_named(engine, user.username)
        assert changed is not None
        assert (changed.agency_id, changed.roles, changed.programmes, changed.version) == (
            world.unit.id,
            ["coordinator"],
            ["SIG"],
            2,
        )
        [event] = events(engine, "config.user.update")
        assert event.basis["kind"] == "configuration"
        assert event.basis["changed"] == ["agency_id", "programmes", "roles"]
        assert event.basis["old"]["roles"] == ["contact_person"]
        stale = admin.post(url, {**data, "programmes": ["SSPF"]})
        assert _status(stale) == 409
        assert "har ändrats av någon annan" in _text(stale)
        again = user_named(engine, user.username)
        assert again is not None
        assert again.programmes == ["SIG"]

    def test_bad_roles_on_an_edit_change_nothing(
        self, admin: Admin, engine: Engine, world: World
    ) -> None:
        user = user_named(engine, world.usernames["school_contact"])
        assert user is not None
        response = admin.post(
            f"/admin/anvandare/{user.id}",
            {"agency": str(world.school.id), "roles": ["social_worker"], "version": "1"},
        )
        assert _status(response) == 422
        assert 'href="#roles"' in _text(response)
        same = user_named(engine, user.username)
        assert same is not None
        assert (same.roles, same.version) == (["contact_person"], 1)

    def test_disable_ends_sessions_and_enable_lets_the_user_back(
        self, admin: Admin, client: TestClient, engine: Engine, world: World
    ) -> None:
        user = user_named(engine, world.usernames["administrator"])
        other = user_named(engine, world.usernames["auditor"])
        assert user is not None
        assert other is not None
        url = f"/admin/anvandare/{other.id}/aktivering"
        assert _status(admin.post(url, {"active": "0", "version": "1"})) == 303
        disabled = user_named(engine, other.username)
        assert disabled is not None
        assert not disabled.is_active
        assert "Avstängt" in _text(admin.get(f"/admin/anvandare/{other.id}"))
        assert _status(admin.post(url, {"active": "1", "version": "1"})) == 409
        assert _status(admin.post(url, {"active": "1", "version": "2"})) == 303
        [off] = events(engine, "config.user.disable")
        assert off.basis["kind"] == "configuration"
        assert len(events(engine, "config.user.enable")) == 1

    def test_reset_totp_makes_the_user_enrol_again(
        self, admin: Admin, engine: Engine, world: World
    ) -> None:
        with new_session(engine) as session:
            user = UserRepository(session).by_username(world.usernames["auditor"])
            assert user is not None
            user.totp_secret = "JBSWY3DPEHPK3PXP"
            user.totp_enabled_at = user.created_at
            session.add(user)
            session.commit()
            user_id = user.id
        url = f"/admin/anvandare/{user_id}/tvastegsverifiering"
        assert "Aktiverad" in _text(admin.get(f"/admin/anvandare/{user_id}"))
        assert _status(admin.post(url, {"version": "7"})) == 409
        response = admin.post(url, {"version": "1"})
        assert (_status(response), _location(response)) == (
            303,
            f"/admin/anvandare/{user_id}?sparad=tvasteg",
        )
        reset = user_named(engine, world.usernames["auditor"])
        assert reset is not None
        assert (reset.totp_secret, reset.totp_enabled_at) == (None, None)
        [event] = events(engine, "config.user.reset_second_factor")
        assert event.resource_id == str(user_id)

    def test_unlock_after_lockout(
        self, admin: Admin, client: TestClient, engine: Engine, world: World
    ) -> None:
        name = world.usernames["school_contact"]
        # Five failures in a row lock the name (backoff between them would slow a real test).
        with new_session(engine) as session:
            for seconds in range(5, 0, -1):
                session.add(
                    LoginAttempt(
                        username=name,
                        client_address="testclient",
                        succeeded=False,
                        attempted_at=utcnow() - timedelta(seconds=seconds),
                    )
                )
            session.commit()
        fresh = TestClient(client.app)
        refused = fresh.post(
            "/logga-in",
            data={
                "username": name,
                "password": PASSWORD,
                "csrf_token": csrf_from(fresh.get("/logga-in").text),
            },
            follow_redirects=False,
        )
        assert refused.status_code == 429
        user = user_named(engine, name)
        assert user is not None
        assert "Utelåst" in _text(admin.get("/admin/anvandare"))
        assert "Lås upp kontot" in _text(admin.get(f"/admin/anvandare/{user.id}"))
        url = f"/admin/anvandare/{user.id}/upplasning"
        assert _status(admin.post(url, {"version": "0"})) == 409
        assert _status(admin.post(url, {"version": "1"})) == 303
        assert "Lås upp kontot" not in _text(admin.get(f"/admin/anvandare/{user.id}"))
        assert len(events(engine, "config.user.unlock")) == 1
        login_page = fresh.get("/logga-in")
        login = fresh.post(
            "/logga-in",
            data={"username": name, "password": PASSWORD, "csrf_token": csrf_from(login_page.text)},
            follow_redirects=False,
        )
        assert _status(login) == 303

    def test_missing_user_is_404(self, admin: Admin) -> None:
        assert _status(admin.get(f"/admin/anvandare/{uuid.uuid4()}")) == 404


class TestIssuers:
    def test_no_issuer_says_everyone_uses_a_password(self, admin: Admin) -> None:
        assert "Ingen identitetsleverantör är inställd" in _text(admin.get("/admin/inloggning"))

    def test_issuers_are_shown_with_their_agency_and_roles(
        self, app: FastAPI, admin: Admin, world: World
    ) -> None:
        config = IssuerConfig(
            name="kommunen",
            label="Kommunens inloggning",
            issuer="https://idp.example.test",
            client_id="samsyn",
            client_secret="hemligt",
            agency=world.unit.name,
            role_claim="roles",
            role_map={"hl": Role.SOCIAL_WORKER},
            scopes="openid",
        )
        app.state.pages = dataclasses.replace(app.state.pages, federation=Federation((config,)))
        html = _text(admin.get("/admin/inloggning"))
        assert "Kommunens inloggning" in html
        assert "https://idp.example.test" in html
        assert f'href="/admin/organisationer/{world.unit.id}"' in html
        assert "Handläggare" in html
        assert "hemligt" not in html

        # The issuer finds its agency by name: renaming it would cut its users off.
        url = f"/admin/organisationer/{world.unit.id}"
        renamed = admin.post(url, {"name": "Nytt namn", "kind": "social_services", "version": "1"})
        assert _status(renamed) == 422
        assert 'href="#name"' in _text(renamed)
        assert "SAMSYN_OIDC_ISSUERS" in _text(renamed)
        area = {"name": world.unit.name, "kind": "social_services", "area": "Norr"}
        assert _status(admin.post(url, {**area, "version": "1"})) == 303


ADMIN_PAGES = [
    ("GET", "/admin"),
    ("GET", "/admin/organisationer"),
    ("GET", "/admin/organisationer/ny"),
    ("POST", "/admin/organisationer/ny"),
    ("GET", "/admin/anvandare"),
    ("GET", "/admin/anvandare/ny"),
    ("POST", "/admin/anvandare/ny"),
    ("GET", "/admin/inloggning"),
]


@pytest.mark.parametrize("who", ["social_worker", "school_contact", "auditor", "steering"])
def test_only_the_administrator_opens_the_administration(
    client: TestClient, world: World, engine: Engine, who: str
) -> None:
    browser = Admin(client, world, who)
    for method, url in ADMIN_PAGES:
        response = browser.get(url) if method == "GET" else browser.post(url, {"name": "X"})
        assert _status(response) == 403, (who, method, url)
    target = f"/admin/organisationer/{world.school.id}"
    assert _status(browser.post(target, {"name": "X", "kind": "school", "version": "1"})) == 403
    assert agency_named(engine, "X") is None


@pytest.mark.parametrize(
    ("who", "landing"),
    [
        ("social_worker", "/start"),
        ("coordinator", "/start"),
        ("school_contact", "/start"),
        ("administrator", "/admin"),
        ("auditor", "/granskning"),
        ("steering", "/uppfoljning"),
    ],
)
def test_each_role_lands_on_its_own_page(
    client: TestClient, world: World, who: str, landing: str
) -> None:
    Admin(client, world, who)
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, landing)
    page = client.get(landing)
    assert page.status_code == 200


def test_the_follow_up_page_says_when_nothing_is_published(
    client: TestClient, world: World
) -> None:
    Admin(client, world, "steering")
    html = client.get("/uppfoljning").text
    assert "Uppföljning av samverkansöverenskommelsen" in html
    assert "Inget är publicerat ännu." in html
    assert 'href="/uppfoljning"' in html  # in the steering group's navigation
    assert 'href="/uppfoljning/overenskommelser"' in html
    assert 'href="/uppfoljning/rapporter"' not in html  # the coordinator's
    assert 'href="/arenden"' not in html


def test_the_navigation_shows_the_administrator_administration(
    client: TestClient, world: World
) -> None:
    Admin(client, world)
    html = client.get("/admin").text
    assert 'href="/admin/installningar"' in html
    assert 'href="/granskning"' not in html
    assert 'href="/arenden"' not in html


def test_agency_kind_values_match_the_form(admin: Admin) -> None:
    html = _text(admin.get("/admin/organisationer/ny"))
    for kind in AgencyKind:
        assert f'value="{kind.value}"' in html
