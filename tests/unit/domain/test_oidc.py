"""Pure parts of the OpenID client: the role claim, the login requirements, the JWKS refetch
policy, and what an access token must look like (checked with keys made here)."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from common.clock import utcnow
from common.roles import Role
from domain.auth.oidc import (
    JWKS_MAX_AGE_SECONDS,
    IssuerConfig,
    JwksCache,
    OidcError,
    OpenIdClient,
    looks_like_jwt,
)


def config(**changes: Any) -> IssuerConfig:
    values: dict[str, Any] = {
        "name": "skola",
        "label": "Logga in med Skolans inloggning",
        "issuer": "https://idp.example.se",
        "client_id": "samsyn",
        "client_secret": "hemlis-som-inte-syns",
        "agency": "Skolan",
        "role_claim": "groups",
        "role_map": {"sspf-kontakt": Role.CONTACT_PERSON, "granskare": Role.AUDITOR},
        "scopes": "openid profile",
        "audience": "urn:samsyn:api",
    }
    return IssuerConfig(**{**values, **changes})


class TestRolesFromClaims:
    @pytest.mark.parametrize(
        ("claim", "roles"),
        [
            ("sspf-kontakt", ["contact_person"]),
            (["granskare", "sspf-kontakt", "okänd"], ["auditor", "contact_person"]),
            (["sspf-kontakt", "sspf-kontakt"], ["contact_person"]),
            ([], []),
            ("okänd", []),
            (None, []),
            (42, []),
            ({"sspf-kontakt": True}, []),
            ([["sspf-kontakt"]], []),
        ],
    )
    def test_a_string_or_a_list_of_strings_is_mapped(self, claim: object, roles: list[str]) -> None:
        assert config().roles_from({"groups": claim}) == roles

    def test_another_claim_grants_nothing(self) -> None:
        assert config().roles_from({"roles": ["sspf-kontakt"]}) == []


def test_the_client_secret_is_not_in_the_repr() -> None:
    assert "hemlis" not in repr(config())


def test_the_api_audience_is_never_the_client_id() -> None:
    """An ID token's audience is the client id: such an API audience lets it pass."""
    with pytest.raises(ValueError, match="audience must not be the client id"):
        config(audience="samsyn")


class TestLoginRequirements:
    @pytest.mark.parametrize(
        ("claims", "problem"),
        [
            ({"acr": "mfa", "amr": ["pwd", "otp"]}, None),
            ({"acr": "hög", "amr": ["otp", "pwd", "hwk"]}, None),
            ({"acr": "pwd", "amr": ["pwd", "otp"]}, "acr_not_accepted"),
            ({"amr": ["pwd", "otp"]}, "acr_not_accepted"),
            ({"acr": "mfa", "amr": ["pwd"]}, "amr_missing"),
            ({"acr": "mfa", "amr": ["otp"]}, "amr_missing"),  # every listed method must appear
            ({"acr": "mfa", "amr": "pwd otp"}, "amr_missing"),  # amr is a JSON array
            ({"acr": "mfa"}, "amr_missing"),
        ],
    )
    def test_acr_any_of_and_amr_all_of(self, claims: dict[str, Any], problem: str | None) -> None:
        strict = config(required_acr=("mfa", "hög"), required_amr=("pwd", "otp"))
        assert strict.authentication_problem(claims) == problem

    def test_nothing_required_accepts_any_login(self) -> None:
        assert config().authentication_problem({}) is None

    @pytest.mark.parametrize(
        ("claims", "absent_ok", "problem"),
        [
            ({"org": "skolan"}, False, None),
            ({"org": ["polisen", "skolan"]}, False, None),
            ({"org": "polisen"}, False, "org"),
            ({"org": ["polisen"]}, False, "org"),
            ({}, False, "org"),
            ({}, True, None),
            ({"org": "polisen"}, True, "org"),
        ],
    )
    def test_a_required_claim(
        self, claims: dict[str, Any], absent_ok: bool, problem: str | None
    ) -> None:
        school = config(required_claims={"org": "skolan"})
        assert school.claim_problem(claims, absent_ok=absent_ok) == problem


class FakeProvider:
    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "k1"})]
        self.requests = 0

    def jwks(self) -> dict[str, Any]:
        self.requests += 1
        return {"keys": [key.as_dict(private=False) for key in self.keys]}

    def rotate(self, kid: str) -> None:
        self.keys.append(RSAKey.generate_key(2048, parameters={"kid": kid}))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Unreachable:
    """A provider whose JWKS can be fetched until it goes away."""

    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider
        self.down = False

    def __call__(self) -> dict[str, Any]:
        if self.down:
            self.provider.requests += 1
            raise OidcError("jwks_unavailable", "ConnectError")
        return self.provider.jwks()


class TestJwksCache:
    def test_keys_are_fetched_once(self) -> None:
        provider, clock = FakeProvider(), Clock()
        cache = JwksCache(provider.jwks, monotonic=clock)
        for _ in range(5):
            assert cache.keys_for("k1").get_by_kid("k1").kid == "k1"
        assert provider.requests == 1

    def test_an_unknown_kid_refetches_at_most_once_a_minute(self) -> None:
        provider, clock = FakeProvider(), Clock()
        cache = JwksCache(provider.jwks, monotonic=clock)
        cache.keys_for("k1")
        clock.now += 61
        for _ in range(10):  # tokens with made-up key ids
            with pytest.raises(OidcError, match="unknown_key"):
                cache.keys_for("påhittad")
        assert provider.requests == 2
        provider.rotate("k2")  # the provider rotates within the minute: wait for it
        clock.now += 30
        with pytest.raises(OidcError, match="unknown_key"):
            cache.keys_for("k2")
        clock.now += 31
        assert cache.keys_for("k2").get_by_kid("k2").kid == "k2"
        assert provider.requests == 3

    def test_a_key_the_provider_removed_stops_verifying_within_the_hour(self) -> None:
        """No unknown key id needs to arrive: the keys are fetched again when an hour old."""
        provider, clock = FakeProvider(), Clock()
        cache = JwksCache(provider.jwks, monotonic=clock)
        cache.keys_for("k1")
        provider.keys = [RSAKey.generate_key(2048, parameters={"kid": "k2"})]  # k1 withdrawn
        clock.now += JWKS_MAX_AGE_SECONDS - 1
        assert cache.keys_for("k1").get_by_kid("k1").kid == "k1"  # still within the hour
        assert provider.requests == 1
        clock.now += 1
        with pytest.raises(OidcError, match="unknown_key"):
            cache.keys_for("k1")
        assert cache.keys_for("k2").get_by_kid("k2").kid == "k2"
        assert provider.requests == 2

    def test_keys_too_old_are_not_used_while_the_provider_is_unreachable(self) -> None:
        provider, clock = FakeProvider(), Clock()
        fetch = Unreachable(provider)
        cache = JwksCache(fetch, monotonic=clock)
        cache.keys_for("k1")
        fetch.down = True
        clock.now += JWKS_MAX_AGE_SECONDS
        for _ in range(5):  # refused, and the provider is asked once, not for every token
            with pytest.raises(OidcError, match="jwks_unavailable"):
                cache.keys_for("k1")
        assert provider.requests == 2
        fetch.down = False
        clock.now += 60
        assert cache.keys_for("k1").get_by_kid("k1").kid == "k1"
        assert provider.requests == 3

    def test_a_clock_set_back_fetches_again(self) -> None:
        provider, clock = FakeProvider(), Clock()
        cache = JwksCache(provider.jwks, monotonic=clock)
        cache.keys_for("k1")
        clock.now -= 10
        cache.keys_for("k1")
        assert provider.requests == 2

    def test_encryption_and_symmetric_keys_are_ignored(self) -> None:
        document = {
            "keys": [
                {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
                {**RSAKey.generate_key(2048).as_dict(private=False), "kid": "enc", "use": "enc"},
                {**RSAKey.generate_key(2048).as_dict(private=False), "kid": "sig", "use": "sig"},
            ]
        }
        cache = JwksCache(lambda: document, monotonic=Clock())
        assert [key.kid for key in cache.keys_for("sig").keys] == ["sig"]
        for kid in ("hmac", "enc"):
            with pytest.raises(OidcError, match="unknown_key"):
                cache.keys_for(kid)


@pytest.mark.parametrize(
    ("token", "jwt"),
    [
        ("a.b.c", True),
        ("eyJ.eyJ.sig", True),
        ("opaque_token-without-dots", False),
        ("a.b", False),
        ("a..c", False),
        ("a.b.c.d.e", False),
    ],
)
def test_looks_like_jwt(token: str, jwt: bool) -> None:
    assert looks_like_jwt(token) is jwt


class TestAccessTokens:
    """What `access_token_claims` accepts, with a key the test holds instead of a provider."""

    @pytest.fixture
    def key(self) -> RSAKey:
        return RSAKey.generate_key(2048, parameters={"kid": "k1"})

    def client(self, key: RSAKey, **changes: Any) -> OpenIdClient:
        client = OpenIdClient(config(**changes))
        document = {"keys": [key.as_dict(private=False)]}
        client.jwks = JwksCache(lambda: document)
        return client

    def token(self, key: RSAKey, typ: str | None = "at+jwt", **claims: Any) -> str:
        now = int(utcnow().timestamp())
        payload = {
            "iss": "https://idp.example.se",
            "aud": "urn:samsyn:api",
            "sub": "användare-1",
            "client_id": "samsyn",
            "iat": now,
            "exp": now + 600,
            **claims,
        }
        header = {"alg": "RS256", "kid": "k1", **({"typ": typ} if typ is not None else {})}
        return jwt.encode(header, payload, key)

    @pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT"])
    def test_rfc_9068_types_are_accepted(self, key: RSAKey, typ: str) -> None:
        claims = self.client(key).access_token_claims(self.token(key, typ))
        assert claims["sub"] == "användare-1"

    @pytest.mark.parametrize("typ", [None, "JWT", "jwt", "id_token+jwt", "logout+jwt"])
    def test_other_types_are_refused(self, key: RSAKey, typ: str | None) -> None:
        """An ID token has no type or "JWT": never an API grant, whatever its audience."""
        with pytest.raises(OidcError, match="not_an_access_token"):
            self.client(key).access_token_claims(self.token(key, typ))

    def test_an_issuer_without_an_api_audience_takes_no_bearer_tokens(self, key: RSAKey) -> None:
        with pytest.raises(OidcError, match="no_api_audience"):
            self.client(key, audience=None).access_token_claims(self.token(key))

    def test_another_audience_is_refused(self, key: RSAKey) -> None:
        with pytest.raises(OidcError, match="bad_claims"):
            self.client(key).access_token_claims(self.token(key, aud="samsyn"))

    def test_required_amr_and_acr_hold_for_bearer_tokens(self, key: RSAKey) -> None:
        client = self.client(key, required_acr=("mfa",), required_amr=("otp",))
        client.access_token_claims(self.token(key, acr="mfa", amr=["pwd", "otp"]))
        for claims, reason in (
            ({"acr": "mfa", "amr": ["pwd"]}, "amr_missing"),
            ({"acr": "mfa"}, "amr_missing"),  # required means present
            ({"acr": "pwd", "amr": ["otp"]}, "acr_not_accepted"),
        ):
            with pytest.raises(OidcError, match=reason):
                client.access_token_claims(self.token(key, **claims))

    def test_a_required_claim_that_is_there_must_match(self, key: RSAKey) -> None:
        client = self.client(key, required_claims={"org": "skolan"})
        client.access_token_claims(self.token(key, org="skolan"))
        client.access_token_claims(self.token(key))  # absent: the account was checked at login
        with pytest.raises(OidcError, match="claim_mismatch"):
            client.access_token_claims(self.token(key, org="polisen"))
