"""OpenID Connect federation against a real provider (tests/oidc_provider, oidc-provider 9).

Samsyn runs in-process (TestClient at http://testserver) with TOTP required, as in
production; the provider runs under node and is driven with httpx like a browser.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from api.main import create_app
from api.settings import Settings
from audit.models import AuditEvent
from common.clock import reset_clock, set_clock, utcnow
from common.db import new_session
from common.keys import KeySet
from domain.auth import federation
from domain.users.models import OidcLogin, User, UserSession
from domain.users.service import set_active
from tests.api.conftest import World, token_for
from tests.api.test_pages import csrf_from
from tests.builders import PASSWORD
from tests.openid_provider import OpenIdProvider, free_port, new_browser, s256

SCHOOL_LABEL = "Logga in med Skolans inloggning"
SOCIAL_LABEL = "Logga in med Socialtjänstens inloggning"
BASE = "http://testserver/"


def issuer_settings_for(issuer: str, world: World) -> dict[str, Any]:
    return {
        "name": "skola",
        "label": SCHOOL_LABEL,
        "issuer": issuer,
        "client_id": "samsyn",
        "agency": world.school.name,
        "role_claim": "groups",
        "role_map": {"sspf-kontakt": "contact_person", "logggranskare": "auditor"},
        "scopes": "openid profile groups",
        "audience": "urn:samsyn:skola:api",
    }


def issuer_settings(idp: OpenIdProvider, world: World, **school: Any) -> list[dict[str, Any]]:
    """ "skola" with an API audience (and `school` changes), "soc" without: its tokens are
    for browser logins only."""
    return [
        {**issuer_settings_for(idp.issuer("skola"), world), **school},
        {
            "name": "soc",
            "label": SOCIAL_LABEL,
            "issuer": idp.issuer("soc"),
            "client_id": "samsyn",
            "agency": world.unit.name,
            "role_claim": "groups",
            "role_map": {"handlaggare": "social_worker"},
            "scopes": "openid profile groups",
        },
    ]


def make_app(
    engine: Engine, keys: KeySet, tmp_path: Path, idp: OpenIdProvider, world: World, **school: Any
) -> FastAPI:
    """Production rules for logging in: TOTP is required for local accounts."""
    settings = Settings(data_dir=tmp_path, oidc_issuers=issuer_settings(idp, world, **school))
    return create_app(
        settings,
        keys=keys,
        engine=engine,
        run_sequencer=False,
        run_consent_sweep=False,
        second_factor_required=True,
        env=idp.secret_env(),
    )


@pytest.fixture
def app(engine: Engine, keys: KeySet, tmp_path: Path, idp: OpenIdProvider, world: World) -> FastAPI:
    return make_app(engine, keys, tmp_path, idp, world)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def start(client: TestClient, name: str = "skola", nasta: str = "/arenden") -> str:
    response = client.get(f"/oidc/{name}/login", params={"nasta": nasta}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def log_in(
    client: TestClient, idp: OpenIdProvider, login: str, name: str = "skola", **kwargs: Any
) -> Response:
    callback = idp.sign_in(start(client, name), login, until=BASE, **kwargs)
    return client.get(callback, follow_redirects=False)


def user_of(engine: Engine, idp: OpenIdProvider, login: str) -> User | None:
    with new_session(engine) as session:
        return session.exec(select(User).where(User.oidc_subject == idp.sub(login))).first()


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with new_session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.action == action)
                .order_by(col(AuditEvent.occurred_at))
            ).all()
        )


def refusals(engine: Engine) -> list[dict[str, Any]]:
    return [e.basis for e in events(engine, "auth.login") if e.outcome == "denied"]


def only_login(engine: Engine) -> OidcLogin:
    with new_session(engine) as session:
        rows = session.exec(select(OidcLogin)).all()
        assert len(rows) == 1
        return rows[0]


def change_login(engine: Engine, **values: str) -> None:
    with new_session(engine) as session:
        row = session.exec(select(OidcLogin)).one()
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()


def is_logged_in(client: TestClient) -> bool:
    return client.get("/start", follow_redirects=False).status_code == 200


class TestLoginPage:
    def test_one_button_per_issuer(self, client: TestClient) -> None:
        page = client.get("/logga-in", params={"nasta": "/arenden"}).text
        assert SCHOOL_LABEL in page
        assert SOCIAL_LABEL in page
        assert 'href="/oidc/skola/login?nasta=/arenden"' in page
        assert 'href="/oidc/soc/login?nasta=/arenden"' in page

    def test_unknown_issuer_is_404(self, client: TestClient) -> None:
        for path in ("/oidc/okand/login", "/oidc/okand/callback?state=x&code=y"):
            assert client.get(path, follow_redirects=False).status_code == 404


class TestRedirect:
    def test_authorization_request_carries_pkce_state_and_nonce(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        url = urlsplit(start(client))
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert f"{url.scheme}://{url.netloc}{url.path}" == idp.issuer("skola") + "/auth"
        assert query["response_type"] == "code"
        assert query["client_id"] == "samsyn"
        assert query["redirect_uri"] == "http://testserver/oidc/skola/callback"
        assert query["scope"] == "openid profile groups"
        assert query["code_challenge_method"] == "S256"
        stored = only_login(engine)
        # The verifier stays with us; only its S256 challenge travels.
        assert query["code_challenge"] == s256(stored.code_verifier)
        assert stored.code_verifier not in url.query
        assert query["nonce"] == stored.nonce
        assert stored.state_hash != query["state"]  # kept as a hash
        assert len(query["state"]) >= 32

    def test_the_binding_cookie_is_httponly_lax_and_limited_to_oidc(
        self, client: TestClient
    ) -> None:
        response = client.get("/oidc/skola/login", follow_redirects=False)
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("samsyn_oidc=")
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/oidc/" in cookie


class TestProvisioning:
    def test_first_login_creates_the_user_in_the_issuers_agency(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine, world: World
    ) -> None:
        response = log_in(client, idp, "kontakt-karin")
        # 200 with a same-site page, not a redirect: a Strict cookie set on a cross-site
        # redirect would not be sent with the request that follows it.
        assert response.status_code == 200
        assert '<meta http-equiv="refresh" content="0; url=/arenden">' in response.text
        assert 'href="/arenden"' in response.text
        session_cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("samsyn_session=")
        )
        assert "HttpOnly" in session_cookie
        assert "SameSite=strict" in session_cookie
        user = user_of(engine, idp, "kontakt-karin")
        assert user is not None
        assert (user.agency_id, user.roles, user.display_name) == (
            world.school.id,
            ["contact_person"],
            "Karin Kontaktsson (test)",
        )
        assert user.oidc_issuer == idp.issuer("skola")
        assert user.username == f"skola:{idp.sub('kontakt-karin')}"
        assert user.password_hash is None
        assert user.totp_secret is None
        login = events(engine, "auth.login")[-1]
        assert (login.outcome, login.user_id, login.basis) == (
            "allowed",
            user.id,
            {"method": "oidc", "issuer": "skola", "second_factor": "idp"},
        )
        created = [e for e in events(engine, "config.user.create") if e.resource_id == str(user.id)]
        assert [(e.basis["by"], e.basis["issuer"], e.basis["roles"]) for e in created] == [
            ("federation", "skola", ["contact_person"])
        ]

    def test_a_federated_contact_person_is_never_asked_for_a_local_code(
        self, client: TestClient, idp: OpenIdProvider
    ) -> None:
        log_in(client, idp, "kontakt-karin")
        assert client.get("/arenden", follow_redirects=False).status_code == 200
        me = client.get("/start")
        assert "Karin Kontaktsson (test)" in me.text
        assert "/konto/tvastegsverifiering" not in me.text

    def test_a_social_worker_from_the_social_services_issuer(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine, world: World
    ) -> None:
        assert log_in(client, idp, "handlaggare-hanna", name="soc").status_code == 200
        user = user_of(engine, idp, "handlaggare-hanna")
        assert user is not None
        assert (user.agency_id, user.roles) == (world.unit.id, ["social_worker"])

    def test_a_later_login_takes_the_roles_from_the_claim(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        log_in(client, idp, "granskare-gustav")
        first = user_of(engine, idp, "granskare-gustav")
        assert first is not None
        assert first.roles == ["auditor"]
        idp.set_groups("granskare-gustav", ["sspf-kontakt", "logggranskare"])
        log_in(client, idp, "granskare-gustav")
        second = user_of(engine, idp, "granskare-gustav")
        assert second is not None
        assert second.id == first.id
        assert second.roles == ["auditor", "contact_person"]
        changed = events(engine, "config.user.roles")
        assert [(e.basis["from"], e.basis["to"]) for e in changed] == [
            (["auditor"], ["auditor", "contact_person"])
        ]

    def test_no_role_at_first_login_creates_nothing(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        response = log_in(client, idp, "utan-roll")
        assert response.status_code == 403
        assert federation.NO_ROLE in response.text
        assert "samsyn_session" not in response.headers.get("set-cookie", "")
        assert user_of(engine, idp, "utan-roll") is None
        assert refusals(engine) == [{"method": "oidc", "issuer": "skola", "reason": "no_role"}]


class TestRoleRemoved:
    def test_the_account_is_disabled_and_every_session_ends(
        self, app: FastAPI, idp: OpenIdProvider, engine: Engine
    ) -> None:
        with TestClient(app) as first, TestClient(app) as second:
            log_in(first, idp, "kontakt-karin")
            assert is_logged_in(first)
            idp.set_groups("kontakt-karin", ["personal"])
            refused = log_in(second, idp, "kontakt-karin")
            assert refused.status_code == 403
            assert federation.NO_ROLE in refused.text
            assert not is_logged_in(first)  # the earlier session ended
        user = user_of(engine, idp, "kontakt-karin")
        assert user is not None
        assert (user.is_active, user.disabled_by_federation) == (False, True)
        with new_session(engine) as session:
            sessions = session.exec(select(UserSession).where(UserSession.user_id == user.id))
            assert all(s.ended_at is not None for s in sessions)
        disabled = events(engine, "config.user.disable")
        assert [(e.user_id, e.basis["reason"], e.basis["sessions"]) for e in disabled] == [
            (user.id, "no_role", 1)
        ]
        assert refusals(engine)[-1]["reason"] == "no_role"

    def test_a_role_again_re_enables_what_the_federation_disabled(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        log_in(client, idp, "kontakt-karin")
        idp.set_groups("kontakt-karin", "personal")
        assert log_in(client, idp, "kontakt-karin").status_code == 403
        idp.set_groups("kontakt-karin", "sspf-kontakt")
        assert log_in(client, idp, "kontakt-karin").status_code == 200
        assert is_logged_in(client)
        user = user_of(engine, idp, "kontakt-karin")
        assert user is not None
        assert (user.is_active, user.disabled_by_federation) == (True, False)
        assert [e.basis["by"] for e in events(engine, "config.user.enable")] == ["federation"]

    def test_an_account_an_administrator_disabled_stays_disabled(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        log_in(client, idp, "kontakt-karin")
        user = user_of(engine, idp, "kontakt-karin")
        assert user is not None
        with new_session(engine) as session:
            set_active(session, username=user.username, active=False)
            session.commit()
        assert not is_logged_in(client)
        refused = log_in(client, idp, "kontakt-karin")
        assert refused.status_code == 403
        assert federation.DISABLED in refused.text
        # Losing the role and getting it back does not undo the administrator's decision.
        idp.set_groups("kontakt-karin", [])
        log_in(client, idp, "kontakt-karin")
        idp.set_groups("kontakt-karin", ["sspf-kontakt"])
        assert log_in(client, idp, "kontakt-karin").status_code == 403
        after = user_of(engine, idp, "kontakt-karin")
        assert after is not None
        assert (after.is_active, after.disabled_by_federation) == (False, False)
        assert [r["reason"] for r in refusals(engine)] == [
            "account_disabled",
            "no_role",
            "account_disabled",
        ]


class TestBadCallbacks:
    def test_an_unknown_state_is_refused_and_audited(
        self, client: TestClient, engine: Engine
    ) -> None:
        start(client)
        response = client.get("/oidc/skola/callback", params={"state": "gissat", "code": "x"})
        assert response.status_code == 400
        assert federation.RESTART in response.text
        assert "samsyn_session" not in response.headers.get("set-cookie", "")
        assert refusals(engine) == [{"method": "oidc", "issuer": "skola", "reason": "bad_state"}]

    def test_a_callback_works_once(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        callback = idp.sign_in(start(client), "kontakt-karin", until=BASE)
        binding = client.cookies["samsyn_oidc"]
        assert client.get(callback).status_code == 200
        client.cookies.clear()
        # Replayed with the same browser binding: the state was used up by the first callback.
        replay = client.get(callback, headers={"Cookie": f"samsyn_oidc={binding}"})
        assert replay.status_code == 400
        assert not is_logged_in(client)
        assert refusals(engine)[-1]["reason"] == "bad_state"

    def test_another_browser_cannot_finish_the_login(
        self, app: FastAPI, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        """Login CSRF: a callback URL sent to someone else logs nobody in."""
        callback = idp.sign_in(start(client), "kontakt-karin", until=BASE)
        with TestClient(app) as victim:
            start(victim)  # even with a login of its own in progress
            response = victim.get(callback)
            assert response.status_code == 400
            assert not is_logged_in(victim)
        assert user_of(engine, idp, "kontakt-karin") is None

    def test_the_state_is_for_its_own_issuer(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        callback = urlsplit(idp.sign_in(start(client), "kontakt-karin", until=BASE))
        elsewhere = urlunsplit(callback._replace(path="/oidc/soc/callback"))
        assert client.get(elsewhere).status_code == 400
        assert refusals(engine)[-1] == {"method": "oidc", "issuer": "soc", "reason": "bad_state"}

    def test_the_nonce_is_checked(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        callback = idp.sign_in(start(client), "kontakt-karin", until=BASE)
        change_login(engine, nonce="ett-annat-nonce")
        response = client.get(callback)
        assert response.status_code == 401
        assert federation.UNVERIFIED in response.text
        assert refusals(engine)[-1]["reason"] == "bad_id_token"
        assert user_of(engine, idp, "kontakt-karin") is None

    def test_the_code_needs_the_pkce_verifier(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        callback = idp.sign_in(start(client), "kontakt-karin", until=BASE)
        change_login(engine, code_verifier="x" * 64)
        assert client.get(callback).status_code == 401
        assert refusals(engine)[-1]["reason"] == "token_exchange_failed"
        assert user_of(engine, idp, "kontakt-karin") is None

    def test_a_response_naming_another_issuer_is_refused(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        """RFC 9207 mix-up defence: the provider names itself in `iss`."""
        callback = urlsplit(idp.sign_in(start(client), "kontakt-karin", until=BASE))
        query = {k: v[0] for k, v in parse_qs(callback.query).items()}
        assert query["iss"] == idp.issuer("skola")
        query["iss"] = idp.issuer("okand")
        assert client.get(urlunsplit(callback._replace(query=urlencode(query)))).status_code == 401
        assert refusals(engine)[-1]["reason"] == "issuer_mismatch"

    def test_cancelling_at_the_provider(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        response = log_in(client, idp, "kontakt-karin", abort=True)
        assert response.status_code == 401
        assert federation.CANCELLED in response.text
        assert "Användaren avbröt" not in response.text  # the provider's words are not shown
        assert refusals(engine) == [
            {
                "method": "oidc",
                "issuer": "skola",
                "reason": "provider_error",
                "error": "access_denied",
            }
        ]

    def test_an_expired_login_is_refused(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        callback = idp.sign_in(start(client), "kontakt-karin", until=BASE)
        later = utcnow() + federation.LOGIN_LIFETIME + timedelta(seconds=1)
        set_clock(lambda: later)
        try:
            assert client.get(callback).status_code == 400
        finally:
            reset_clock()
        assert refusals(engine)[-1]["reason"] == "bad_state"


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestBearerTokens:
    @pytest.fixture
    def karin_token(self, client: TestClient, idp: OpenIdProvider) -> str:
        log_in(client, idp, "kontakt-karin")  # the account exists from a browser login
        client.cookies.clear()
        return str(idp.access_token("skola", "kontakt-karin")["access_token"])

    def test_a_providers_access_token_is_accepted(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        me = client.get("/api/v1/auth/me", headers=bearer(karin_token))
        assert me.status_code == 200, me.text
        assert (me.json()["username"], me.json()["roles"]) == (
            f"skola:{idp.sub('kontakt-karin')}",
            ["contact_person"],
        )
        assert client.get("/api/v1/cases", headers=bearer(karin_token)).status_code == 200

    def test_no_account_is_created_from_a_bearer_token(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        token = idp.access_token("skola", "granskare-gustav")["access_token"]
        assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
        assert user_of(engine, idp, "granskare-gustav") is None

    def test_wrong_audience(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        other = idp.access_token("skola", "kontakt-karin", resource="urn:annan:skola:api")
        assert _claims(other["access_token"])["aud"] == "urn:annan:skola:api"
        assert (
            client.get("/api/v1/auth/me", headers=bearer(other["access_token"])).status_code == 401
        )

    def test_expired(self, client: TestClient, karin_token: str) -> None:
        expires = _claims(karin_token)["exp"]
        later = utcnow() + timedelta(seconds=expires - utcnow().timestamp() + 120)
        set_clock(lambda: later)
        try:
            assert client.get("/api/v1/auth/me", headers=bearer(karin_token)).status_code == 401
        finally:
            reset_clock()
        assert client.get("/api/v1/auth/me", headers=bearer(karin_token)).status_code == 200

    def test_an_issuer_samsyn_does_not_trust(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        token = idp.access_token("okand", "okand-olle", resource="urn:samsyn:okand:api")
        assert (
            client.get("/api/v1/auth/me", headers=bearer(token["access_token"])).status_code == 401
        )

    def test_a_tampered_token(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        header, _payload, signature = karin_token.split(".")
        changed = {**_claims(karin_token), "exp": _claims(karin_token)["exp"] + 3600}
        tampered = ".".join([header, _b64(changed), signature])
        assert client.get("/api/v1/auth/me", headers=bearer(tampered)).status_code == 401

    def test_a_token_signed_by_someone_else(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        claims = _claims(karin_token)
        stranger = RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        for header, key in (
            ({"alg": "RS256", "typ": "at+jwt", "kid": "okand"}, stranger),
            ({"alg": "HS256", "typ": "at+jwt"}, OctKey.import_key(b"0" * 32)),
        ):
            forged = jwt.encode(header, claims, key, algorithms=[header["alg"]])
            assert client.get("/api/v1/auth/me", headers=bearer(forged)).status_code == 401
        unsigned = ".".join([_b64({"alg": "none", "typ": "at+jwt"}), _b64(claims), ""])
        assert client.get("/api/v1/auth/me", headers=bearer(unsigned)).status_code == 401

    def test_an_id_token_is_no_access_token(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        log_in(client, idp, "handlaggare-hanna", name="soc")
        client.cookies.clear()
        for name, login in (("soc", "handlaggare-hanna"), ("skola", "kontakt-karin")):
            id_token = idp.access_token(name, login)["id_token"]
            assert _claims(id_token)["aud"] == "samsyn"
            assert client.get("/api/v1/auth/me", headers=bearer(id_token)).status_code == 401

    def test_the_providers_access_tokens_are_rfc_9068(
        self, idp: OpenIdProvider, karin_token: str
    ) -> None:
        header = json.loads(base64.urlsafe_b64decode(karin_token.split(".")[0] + "=="))
        assert header["typ"] == "at+jwt"
        assert _claims(karin_token)["aud"] == "urn:samsyn:skola:api"

    def test_an_id_token_without_a_nonce_is_no_access_token(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        """The code flow needs no nonce; such an ID token once passed for an access token of
        an issuer whose API audience was the client id (the old default)."""
        log_in(client, idp, "handlaggare-hanna", name="soc")
        client.cookies.clear()
        for name, login in (("soc", "handlaggare-hanna"), ("skola", "kontakt-karin")):
            id_token = idp.access_token(name, login, nonce=False)["id_token"]
            assert "nonce" not in _claims(id_token)
            assert client.get("/api/v1/auth/me", headers=bearer(id_token)).status_code == 401

    def test_an_id_token_from_a_refresh_grant_is_no_access_token(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        log_in(client, idp, "handlaggare-hanna", name="soc")
        client.cookies.clear()
        for name, login in (("soc", "handlaggare-hanna"), ("skola", "kontakt-karin")):
            resource = f"urn:samsyn:{name}:api"
            # oidc-provider repeats the first request's nonce in a refreshed ID token; the
            # first request here has none, as an API client's need not.
            first = idp.access_token(name, login, offline=True, nonce=False)
            renewed = idp.refresh(name, first["refresh_token"], resource=resource)
            assert "nonce" not in _claims(renewed["id_token"])
            me = client.get("/api/v1/auth/me", headers=bearer(renewed["id_token"]))
            assert me.status_code == 401
            if name == "skola":  # the refreshed access token itself is fine
                me = client.get("/api/v1/auth/me", headers=bearer(renewed["access_token"]))
                assert me.status_code == 200

    def test_an_issuer_without_an_api_audience_takes_no_bearer_tokens(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        log_in(client, idp, "handlaggare-hanna", name="soc")
        client.cookies.clear()
        token = idp.access_token("soc", "handlaggare-hanna")["access_token"]
        assert _claims(token)["aud"] == "urn:samsyn:soc:api"
        assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401

    def test_a_key_the_provider_withdrew_stops_working_within_the_hour(
        self, client: TestClient, idp: OpenIdProvider, karin_token: str
    ) -> None:
        assert client.get("/api/v1/auth/me", headers=bearer(karin_token)).status_code == 200
        idp.rotate_keys("skola")
        # Within the hour the keys fetched before still count: no request reaches the provider.
        assert client.get("/api/v1/auth/me", headers=bearer(karin_token)).status_code == 200
        later = utcnow() + timedelta(minutes=61)
        set_clock(lambda: later)
        try:
            assert _claims(karin_token)["exp"] > later.timestamp()  # not expired: withdrawn
            assert client.get("/api/v1/auth/me", headers=bearer(karin_token)).status_code == 401
            fresh = idp.access_token("skola", "kontakt-karin")["access_token"]
            assert client.get("/api/v1/auth/me", headers=bearer(fresh)).status_code == 200
        finally:
            reset_clock()

    def test_a_disabled_account_is_refused(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine, karin_token: str
    ) -> None:
        user = user_of(engine, idp, "kontakt-karin")
        assert user is not None
        with new_session(engine) as session:
            set_active(session, username=user.username, active=False)
            session.commit()
        assert client.get("/api/v1/auth/me", headers=bearer(karin_token)).status_code == 401

    def test_a_refused_token_is_audited(
        self, client: TestClient, engine: Engine, karin_token: str
    ) -> None:
        header, payload, _ = karin_token.split(".")
        client.get("/api/v1/auth/me", headers=bearer(f"{header}.{payload}.AAAA"))
        denied = events(engine, "GET /api/v1/auth/me")
        assert [(e.outcome, e.basis) for e in denied] == [
            ("denied", {"status": 401, "error": "unauthenticated"})
        ]

    def test_it_cannot_be_revoked_here(self, client: TestClient, karin_token: str) -> None:
        response = client.post("/api/v1/auth/logout", headers=bearer(karin_token))
        assert response.status_code == 400
        assert client.get("/api/v1/auth/me", headers=bearer(karin_token)).status_code == 200

    def test_opaque_tokens_still_work(self, client: TestClient, world: World) -> None:
        # The app requires TOTP; the administrator's role does not read case data.
        headers = token_for(client, world.usernames["administrator"])
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_the_login_table_does_not_grow_without_bound(client: TestClient, engine: Engine) -> None:
    start(client)
    long_ago = utcnow() - timedelta(hours=2)
    with new_session(engine) as session:
        row = session.exec(select(OidcLogin)).one()
        row.expires_at = long_ago
        session.add(row)
        session.commit()
    start(client)
    with new_session(engine) as session:
        assert len(session.exec(select(OidcLogin)).all()) == 1


def test_the_issuer_must_have_its_agency(
    engine: Engine, keys: KeySet, tmp_path: Path, idp: OpenIdProvider, world: World
) -> None:
    """A role a school may not hold is a configuration error, found before anyone logs in."""
    configured = issuer_settings(idp, world)
    configured[0]["role_map"] = {"sspf-kontakt": "social_worker"}
    configured[1]["agency"] = "Finns inte"
    settings = Settings(data_dir=tmp_path, oidc_issuers=configured)
    with new_session(engine) as session:
        problems = federation.check_issuers(session, settings.oidc_issuer_configs(idp.secret_env()))
    assert len(problems) == 2
    assert "'skola'" in problems[0]
    assert "social services" in problems[0]
    assert "'soc'" in problems[1]
    assert "no agency named 'Finns inte'" in problems[1]


def test_a_provider_that_cannot_be_reached(
    engine: Engine, keys: KeySet, tmp_path: Path, world: World
) -> None:
    """The login page says so in Swedish; a bearer token is simply not accepted."""
    nowhere = f"http://127.0.0.1:{free_port()}/skola"
    configured = [{**issuer_settings_for(nowhere, world), "audience": "urn:x"}]
    app = create_app(
        Settings(data_dir=tmp_path, oidc_issuers=configured),
        keys=keys,
        engine=engine,
        run_sequencer=False,
        run_consent_sweep=False,
        env={"SAMSYN_OIDC_CLIENT_SECRET_SKOLA": "hemligt"},
    )
    with TestClient(app) as client:
        response = client.get("/oidc/skola/login", follow_redirects=False)
        assert response.status_code == 502
        assert "Det går inte att nå identitetsleverantören" in response.text
        claims = {"iss": nowhere, "aud": "urn:x", "sub": "x", "exp": 2**40}
        token = ".".join([_b64({"alg": "RS256", "kid": "k"}), _b64(claims), "AAAA"])
        assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


class TestLoginRequirements:
    """Per-issuer acr, amr and claim requirements. At the test provider Karin logs in with a
    password only (acr urn:samsyn:test:pwd, amr ["pwd"]) and belongs to org "skolan"; Gustav
    adds a one-time code (urn:samsyn:test:mfa, ["pwd", "otp"]) and belongs to "polisen"."""

    def test_a_login_without_a_second_factor_is_refused(
        self, engine: Engine, keys: KeySet, tmp_path: Path, idp: OpenIdProvider, world: World
    ) -> None:
        app = make_app(engine, keys, tmp_path, idp, world, required_amr=["pwd", "otp"])
        with TestClient(app) as client:
            refused = log_in(client, idp, "kontakt-karin")
            assert refused.status_code == 403
            assert federation.SECOND_FACTOR_MISSING in refused.text
            assert "samsyn_session" not in refused.headers.get("set-cookie", "")
            assert not is_logged_in(client)
            assert log_in(client, idp, "granskare-gustav").status_code == 200
            assert is_logged_in(client)
        assert user_of(engine, idp, "kontakt-karin") is None
        assert refusals(engine) == [
            {
                "method": "oidc",
                "issuer": "skola",
                "reason": "amr_missing",
                "acr": "urn:samsyn:test:pwd",
                "amr": "pwd",
            }
        ]

    def test_an_acr_not_accepted_is_refused_and_the_request_asks_for_one(
        self, engine: Engine, keys: KeySet, tmp_path: Path, idp: OpenIdProvider, world: World
    ) -> None:
        app = make_app(engine, keys, tmp_path, idp, world, required_acr=["urn:samsyn:test:mfa"])
        with TestClient(app) as client:
            query = parse_qs(urlsplit(start(client)).query)
            assert query["acr_values"] == ["urn:samsyn:test:mfa"]
            refused = log_in(client, idp, "kontakt-karin")
            assert refused.status_code == 403
            assert federation.SECOND_FACTOR_MISSING in refused.text
            assert log_in(client, idp, "granskare-gustav").status_code == 200
        assert [r["reason"] for r in refusals(engine)] == ["acr_not_accepted"]

    def test_someone_from_another_organisation_at_the_same_provider_is_refused(
        self, engine: Engine, keys: KeySet, tmp_path: Path, idp: OpenIdProvider, world: World
    ) -> None:
        """A provider serving several agencies: police staff must not become school staff."""
        app = make_app(engine, keys, tmp_path, idp, world, required_claims={"org": "skolan"})
        with TestClient(app) as client:
            refused = log_in(client, idp, "granskare-gustav")
            assert refused.status_code == 403
            assert federation.WRONG_ORGANISATION in refused.text
            assert log_in(client, idp, "kontakt-karin").status_code == 200
        assert user_of(engine, idp, "granskare-gustav") is None
        assert refusals(engine) == [
            {"method": "oidc", "issuer": "skola", "reason": "claim_mismatch", "claim": "org"}
        ]

    def test_bearer_tokens_meet_the_same_second_factor_requirement(
        self, engine: Engine, keys: KeySet, tmp_path: Path, idp: OpenIdProvider, world: World
    ) -> None:
        relaxed = make_app(engine, keys, tmp_path, idp, world)
        with TestClient(relaxed) as client:  # both accounts exist from a browser login
            log_in(client, idp, "kontakt-karin")
            log_in(client, idp, "granskare-gustav")
        karin = idp.access_token("skola", "kontakt-karin")["access_token"]
        gustav = idp.access_token("skola", "granskare-gustav")["access_token"]
        assert _claims(karin)["amr"] == ["pwd"]
        strict = make_app(engine, keys, tmp_path, idp, world, required_amr=["otp"])
        with TestClient(strict) as client:
            assert client.get("/api/v1/auth/me", headers=bearer(karin)).status_code == 401
            assert client.get("/api/v1/auth/me", headers=bearer(gustav)).status_code == 200


def _continue_url(page: str) -> str:
    match = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', page)
    assert match is not None, page
    return html.unescape(match.group(1))


class TestLogout:
    """RP-Initiated Logout: "Logga ut" ends the provider's session too, so the next click on
    the provider's button asks for the password again (a shared school computer)."""

    def test_without_it_the_provider_logs_the_same_person_in_again(
        self, client: TestClient, idp: OpenIdProvider
    ) -> None:
        with new_browser() as browser:
            first: list[str] = []
            callback = idp.sign_in(
                start(client), "kontakt-karin", until=BASE, browser=browser, pages=first
            )
            client.get(callback)
            client.cookies.clear()  # only Samsyn forgets: the provider's session is open
            again: list[str] = []
            callback = idp.sign_in(
                start(client), "kontakt-karin", until=BASE, browser=browser, pages=again
            )
            assert client.get(callback).status_code == 200
        assert "login" in first
        assert again == []  # no password asked: whoever clicks is Karin

    def test_logging_out_ends_the_providers_session_too(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        with new_browser() as browser:
            callback = idp.sign_in(start(client), "kontakt-karin", until=BASE, browser=browser)
            client.get(callback)
            page = client.get("/arenden")
            out = client.post("/logga-ut", data={"csrf_token": csrf_from(page.text)})
            # A page that goes on by itself: the form's CSP would stop a cross-site redirect.
            assert out.status_code == 200
            assert out.headers["cache-control"] == "no-store"  # it carries the ID token
            assert not is_logged_in(client)
            url = _continue_url(out.text)
            assert f'href="{html.escape(url)}"' in out.text
            parts = urlsplit(url)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
                idp.issuer("skola") + "/session/end"
            )
            assert query["post_logout_redirect_uri"] == "http://testserver/oidc/skola/logged-out"
            assert query["client_id"] == "samsyn"
            assert len(query["state"]) >= 32
            assert _claims(query["id_token_hint"])["sub"] == idp.sub("kontakt-karin")
            back = idp.sign_out(url, until=BASE, browser=browser)
            assert parse_qs(urlsplit(back).query)["state"] == [query["state"]]
            landed = client.get(back, follow_redirects=False)
            assert landed.status_code == 303
            assert landed.headers["location"] == "/logga-in?utloggad=1"
            pages: list[str] = []
            callback = idp.sign_in(
                start(client), "kontakt-karin", until=BASE, browser=browser, pages=pages
            )
            assert "login" in pages  # the provider asks for the password again
        with new_session(engine) as session:
            stored = session.exec(select(UserSession)).all()
        assert [s.oidc_issuer_name for s in stored] == ["skola"]
        assert stored[0].oidc_id_token is None  # not kept once the session ended
        assert [e.basis for e in events(engine, "auth.logout")] == [{"provider": "skola"}]

    def test_the_id_token_is_stored_encrypted(
        self, client: TestClient, idp: OpenIdProvider, engine: Engine
    ) -> None:
        log_in(client, idp, "kontakt-karin")
        with new_session(engine) as session:
            [(raw,)] = session.execute(text("SELECT oidc_id_token FROM user_session")).all()
            [decrypted] = session.exec(select(UserSession.oidc_id_token)).all()
        assert decrypted is not None
        assert _claims(decrypted)["sub"] == idp.sub("kontakt-karin")
        assert decrypted not in raw
        assert decrypted.split(".")[1] not in raw

    def test_logging_out_everywhere_ends_the_providers_session_too(
        self, client: TestClient, idp: OpenIdProvider
    ) -> None:
        log_in(client, idp, "kontakt-karin")
        page = client.get("/arenden")
        out = client.post("/logga-ut-overallt", data={"csrf_token": csrf_from(page.text)})
        assert out.status_code == 200
        assert _continue_url(out.text).startswith(idp.issuer("skola") + "/session/end?")
        assert not is_logged_in(client)

    def test_a_local_account_logs_out_here_only(self, client: TestClient, world: World) -> None:
        # The administrator's role does not read case data: no TOTP needed for the page.
        page = client.get("/logga-in")
        client.post(
            "/logga-in",
            data={
                "csrf_token": csrf_from(page.text),
                "username": world.usernames["administrator"],
                "password": PASSWORD,
                "nasta": "/start",
            },
        )
        page = client.get("/start")
        out = client.post(
            "/logga-ut", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False
        )
        assert (out.status_code, out.headers["location"]) == (303, "/logga-in?utloggad=1")
