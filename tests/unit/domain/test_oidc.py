"""Pure parts of the OpenID client: the role claim, the JWKS refetch policy, token shapes."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import RSAKey

from common.roles import Role
from domain.auth.oidc import IssuerConfig, JwksCache, OidcError, looks_like_jwt


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
