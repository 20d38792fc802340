"""The HTML pages through the same app: login, CSRF, cookies, headers, 404 page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from common.clock import reset_clock, set_clock
from frontend.render import safe_next
from tests.api.conftest import World
from tests.builders import PASSWORD, valid_personnummer

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def log_in(client: TestClient, username: str) -> None:
    page = client.get("/logga-in")
    response = client.post(
        "/logga-in",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
            "nasta": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


class TestLogin:
    def test_login_page_is_swedish_and_strictly_headed(self, client: TestClient) -> None:
        page = client.get("/logga-in")
        assert page.status_code == 200
        assert '<html lang="sv">' in page.text
        assert "Logga in" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "no-referrer"

    def test_session_cookie_is_httponly_and_strict(self, client: TestClient, world: World) -> None:
        page = client.get("/logga-in")
        response = client.post(
            "/logga-in",
            data={
                "username": world.usernames["social_worker"],
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
            },
            follow_redirects=False,
        )
        cookie = response.headers["set-cookie"]
        assert "samsyn_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie

    def test_wrong_password_shows_the_form_again(self, client: TestClient, world: World) -> None:
        page = client.get("/logga-in")
        response = client.post(
            "/logga-in",
            data={
                "username": world.usernames["social_worker"],
                "password": "fel",
                "csrf_token": csrf_from(page.text),
            },
        )
        assert response.status_code == 401
        assert "Fel användarnamn eller lösenord" in response.text

    def test_post_without_csrf_token_is_refused(self, client: TestClient, world: World) -> None:
        client.get("/logga-in")
        response = client.post(
            "/logga-in", data={"username": world.usernames["social_worker"], "password": PASSWORD}
        )
        assert response.status_code == 403
        assert "samsyn_session" not in response.headers.get("set-cookie", "")

    def test_pages_need_login(self, client: TestClient) -> None:
        response = client.get("/arenden", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/logga-in?nasta=/arenden"

    def test_idle_session_ends(self, client: TestClient, world: World) -> None:
        log_in(client, world.usernames["social_worker"])
        assert client.get("/arenden").status_code == 200
        later = datetime.now(UTC) + timedelta(minutes=31)
        set_clock(lambda: later)
        try:
            assert client.get("/arenden", follow_redirects=False).status_code == 303
        finally:
            reset_clock()

    def test_logout_ends_the_session(self, client: TestClient, world: World) -> None:
        log_in(client, world.usernames["social_worker"])
        page = client.get("/arenden")
        client.post("/logga-ut", data={"csrf_token": csrf_from(page.text)})
        assert client.get("/arenden", follow_redirects=False).status_code == 303


class TestRegisterAndOpen:
    def test_register_open_and_find_in_list(self, client: TestClient, world: World) -> None:
        log_in(client, world.usernames["social_worker"])
        form = client.get("/unga/ny")
        pnr = valid_personnummer()
        response = client.post(
            "/unga/ny",
            data={
                "csrf_token": csrf_from(form.text),
                "personnummer": pnr,
                "first_name": "Saga",
                "last_name": "Exempeldotter",
                "gender": "female",
                "guardian1_name": "Eva Exempeldotter",
                "guardian1_custody": "on",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        person_page = client.get(response.headers["location"])
        assert "Saga Exempeldotter" in person_page.text
        # The name never reaches the tab, the history or a bookmark: the title is generic.
        title = re.search(r"<title>(.*?)</title>", person_page.text, re.S)
        assert title is not None
        assert "Saga" not in title.group(1)
        assert "Exempeldotter" not in title.group(1)
        opened = client.post(
            response.headers["location"] + "/arenden",
            data={"csrf_token": csrf_from(person_page.text), "programme": "SIG"},
        )
        assert opened.status_code == 200
        reference = re.search(r"SIG-\d{4}-\d{4}", opened.text)
        assert reference
        assert reference.group(0) in client.get("/arenden").text

    def test_invalid_personnummer_rerenders_with_the_field_named(
        self, client: TestClient, world: World
    ) -> None:
        log_in(client, world.usernames["social_worker"])
        form = client.get("/unga/ny")
        response = client.post(
            "/unga/ny",
            data={
                "csrf_token": csrf_from(form.text),
                "personnummer": "20110231-1236",
                "first_name": "Saga",
                "last_name": "Exempeldotter",
                "gender": "female",
            },
        )
        assert response.status_code == 422
        assert 'href="#personnummer"' in response.text
        assert "datum som inte finns" in response.text
        assert 'value="Saga"' in response.text  # what was typed is kept

    def test_out_of_scope_case_page_is_the_404_page(self, client: TestClient, world: World) -> None:
        log_in(client, world.usernames["other_social_worker"])
        missing = client.get(f"/arenden/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert "Sidan finns inte" in missing.text


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/arenden?status=active", True),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("/\t/evil.example", False),  # browsers drop the tab: "//evil.example"
        ("/\n/evil.example", False),
        ("https://evil.example", False),
        ("", False),
    ],
)
def test_only_local_paths_are_followed_after_login(target: str, kept: bool) -> None:
    assert safe_next(target) == (target if kept else "/")
