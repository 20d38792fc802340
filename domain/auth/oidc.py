"""OpenID Connect as a relying party: discovery, the authorization code flow with PKCE, and
validation of ID tokens and JWT access tokens against the provider's JWKS.

The protocol and the cryptography come from libraries: authlib builds the authorization
request and exchanges the code, joserfc verifies signatures, and authlib's `CodeIDToken`
checks an ID token's claims (iss, aud, exp, nonce, azp, at_hash). Nothing here reads or
writes the database; `domain.auth.federation` does that.

Errors are `OidcError` with a short `reason` for the audit log. Their messages never carry a
token, a code or a secret.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode

from common.clock import utcnow
from common.roles import Role

# Asymmetric signatures only: never "none", never HS* (a public key must not become an HMAC
# secret).
ALLOWED_ALGORITHMS = ("RS256", "ES256", "PS256")
HTTP_TIMEOUT_SECONDS = 10.0
DISCOVERY_LIFETIME_SECONDS = 3600.0
# Keys are trusted for at most this long after the provider last published them: a key the
# provider removed stops verifying within the hour, even if no unknown key id ever arrives.
JWKS_MAX_AGE_SECONDS = 3600.0
# An unknown key id may mean the provider rotated its keys: fetch the JWKS again, but at most
# this often, so tokens with made-up key ids cannot make us hammer the provider. A failed
# fetch is not retried more often either.
JWKS_REFETCH_INTERVAL_SECONDS = 60.0
CLOCK_SKEW_SECONDS = 60
# The media types of an RFC 9068 access token (§2.1, §4). A plain "JWT", or no type at all, is
# what an ID token carries: never an API grant.
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})


class OidcError(Exception):
    """A login or token that must be refused; `reason` is a short code for the audit log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuerConfig:
    """A trusted OpenID provider and how its users map onto Samsyn (see README)."""

    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    agency: str
    role_claim: str
    role_map: Mapping[str, Role]
    scopes: str
    # The API audience (a resource indicator, RFC 8707) the provider's access tokens for
    # Samsyn name; None: this issuer's tokens are not accepted on the API.
    audience: str | None = None
    # An accepted `acr` of the login (any one of them); empty: any or none.
    required_acr: tuple[str, ...] = ()
    # Methods that must all appear in the login's `amr`; empty: none required.
    required_amr: tuple[str, ...] = ()
    # Claims that must have this value (or, for a list claim, contain it).
    required_claims: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.audience is not None and self.audience == self.client_id:
            # The ID token's audience is the client id: an API audience equal to it would
            # let an ID token pass for an access token.
            raise ValueError(f"OpenID issuer {self.name!r}: audience must not be the client id")

    def authentication_problem(self, claims: Mapping[str, Any]) -> str | None:
        """Why the login these claims describe is not strong enough, or None: the reason
        `acr_not_accepted` or `amr_missing` for the audit log."""
        if self.required_acr and claims.get("acr") not in self.required_acr:
            return "acr_not_accepted"
        if self.required_amr:
            amr = claims.get("amr")
            methods = {m for m in amr if isinstance(m, str)} if isinstance(amr, list) else set()
            if not set(self.required_amr) <= methods:
                return "amr_missing"
        return None

    def claim_problem(self, claims: Mapping[str, Any], *, absent_ok: bool = False) -> str | None:
        """The first required claim these claims do not satisfy, or None; with `absent_ok` a
        claim that is not there at all is no problem (an access token may leave it out)."""
        for name, wanted in sorted(self.required_claims.items()):
            value = claims.get(name)
            if value is None and absent_ok:
                continue
            if value == wanted or (isinstance(value, list) and wanted in value):
                continue
            return name
        return None

    def roles_from(self, claims: Mapping[str, Any]) -> list[str]:
        """The Samsyn roles the role claim grants: a string or a list of strings, mapped."""
        value = claims.get(self.role_claim)
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return sorted(
            {self.role_map[v].value for v in values if isinstance(v, str) and v in self.role_map}
        )


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None = None


@dataclass(frozen=True)
class Tokens:
    id_token: str = field(repr=False)
    access_token: str = field(repr=False)


def new_secret() -> str:
    """A random value for state, nonce and the PKCE code verifier (48 characters)."""
    return str(generate_token(48))


def _http() -> httpx2.Client:
    return httpx2.Client(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)


def _get_json(url: str, reason: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    try:
        with _http() as client:
            response = client.get(url, headers=dict(headers or {}))
        response.raise_for_status()
        body = response.json()
    except (httpx2.HTTPError, ValueError) as exc:
        raise OidcError(reason, type(exc).__name__) from None
    if not isinstance(body, dict):
        raise OidcError(reason, "not a JSON object")
    return body


class JwksCache:
    """The provider's signing keys.

    Fetched at first use, again once they are `max_age` seconds old (a key the provider no
    longer publishes is dropped then), and again for an unknown key id, at most once per
    `refetch_interval` seconds. When the keys are too old and the provider cannot be reached,
    tokens are refused rather than verified with keys that may have been withdrawn.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        refetch_interval: float = JWKS_REFETCH_INTERVAL_SECONDS,
        max_age: float = JWKS_MAX_AGE_SECONDS,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._fetch = fetch
        self._interval = refetch_interval
        self._max_age = max_age
        self._monotonic = monotonic or _clock_seconds
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._tried_at: float | None = None
        self.fetches = 0

    def _age(self, since: float) -> float:
        age = self._monotonic() - since
        # A clock set back makes the keys look new for ever: treat them as old instead.
        return age if age >= 0 else float("inf")

    def _load(self) -> KeySet:
        self._tried_at = self._monotonic()
        self.fetches += 1
        document = self._fetch()
        raw = document.get("keys")
        if not isinstance(raw, list):
            raise OidcError("jwks_unavailable", "no keys")
        usable = [
            key
            for key in raw
            if isinstance(key, dict)
            and key.get("kty") in ("RSA", "EC")
            and key.get("use", "sig") == "sig"
        ]
        try:
            keys = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError) as exc:
            raise OidcError("jwks_unavailable", type(exc).__name__) from None
        self._keys, self._fetched_at = keys, self._tried_at
        return keys

    def _may_retry(self) -> bool:
        return self._tried_at is None or self._age(self._tried_at) >= self._interval

    def _current(self) -> KeySet:
        """The keys, fetched again when they are too old; a failed fetch is retried only
        after `refetch_interval`, and until then tokens are refused."""
        if self._keys is not None and self._age(self._fetched_at) < self._max_age:
            return self._keys
        if not self._may_retry():
            raise OidcError("jwks_unavailable", "waiting to retry")
        return self._load()

    def _knows(self, keys: KeySet, kid: str | None) -> bool:
        if kid is None:
            return len(keys.keys) == 1
        return any(key.kid == kid for key in keys.keys)

    def keys_for(self, kid: str | None) -> KeySet:
        with self._lock:
            keys = self._current()
            if self._knows(keys, kid):
                return keys
            if self._may_retry():
                keys = self._load()
                if self._knows(keys, kid):
                    return keys
        raise OidcError("unknown_key")


def _clock_seconds() -> float:
    """Seconds on the application clock (`common.clock`), which tests can move."""
    return utcnow().timestamp()


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a compact JWS, not yet verified: only to pick the issuer's keys."""
    parts = token.split(".")
    if len(parts) != 3:
        raise OidcError("malformed_token")
    try:
        payload = json.loads(urlsafe_b64decode(parts[1].encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise OidcError("malformed_token", type(exc).__name__) from None
    if not isinstance(payload, dict):
        raise OidcError("malformed_token")
    return payload


def _optional_url(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    return str(value) if value else None


def looks_like_jwt(token: str) -> bool:
    parts = token.split(".")
    return len(parts) == 3 and all(parts)


def _now() -> int:
    return int(utcnow().timestamp())


class OpenIdClient:
    """One configured issuer: its metadata, its keys, and the relying party's requests."""

    def __init__(
        self, config: IssuerConfig, *, monotonic: Callable[[], float] | None = None
    ) -> None:
        self.config = config
        self._monotonic = monotonic or _clock_seconds
        self._lock = threading.Lock()
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self.jwks = JwksCache(self._fetch_jwks, monotonic=monotonic)

    # --- discovery ------------------------------------------------------------------------

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            fresh = self._monotonic() - self._metadata_at < DISCOVERY_LIFETIME_SECONDS
            if self._metadata is not None and fresh:
                return self._metadata
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = _get_json(url, "discovery_failed")
            # OpenID Connect Discovery §4.3: the document must name exactly this issuer.
            if document.get("issuer") != self.config.issuer:
                raise OidcError("discovery_failed", "issuer differs")
            try:
                self._metadata = ProviderMetadata(
                    issuer=document["issuer"],
                    authorization_endpoint=str(document["authorization_endpoint"]),
                    token_endpoint=str(document["token_endpoint"]),
                    jwks_uri=str(document["jwks_uri"]),
                    userinfo_endpoint=_optional_url(document, "userinfo_endpoint"),
                    end_session_endpoint=_optional_url(document, "end_session_endpoint"),
                )
            except KeyError as exc:
                raise OidcError("discovery_failed", f"missing {exc.args[0]}") from None
            self._metadata_at = self._monotonic()
            return self._metadata

    def _fetch_jwks(self) -> Mapping[str, Any]:
        return _get_json(self.metadata().jwks_uri, "jwks_unavailable")

    # --- the authorization code flow ------------------------------------------------------

    def _oauth(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            scope=self.config.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT_SECONDS,
        )

    def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        endpoint = self.metadata().authorization_endpoint
        extra = (
            {"acr_values": " ".join(self.config.required_acr)} if self.config.required_acr else {}
        )
        with self._oauth(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                endpoint, state=state, nonce=nonce, code_verifier=code_verifier, **extra
            )
        return str(url)

    def end_session_url(
        self, *, id_token_hint: str, post_logout_redirect_uri: str, state: str
    ) -> str | None:
        """Where to send the browser to end its session at the provider too (OpenID Connect
        RP-Initiated Logout 1.0), or None when the provider offers no `end_session_endpoint`."""
        endpoint = self.metadata().end_session_endpoint
        if endpoint is None:
            return None
        query = urlencode(
            {
                "id_token_hint": id_token_hint,
                "client_id": self.config.client_id,
                "post_logout_redirect_uri": post_logout_redirect_uri,
                "state": state,
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> Tokens:
        endpoint = self.metadata().token_endpoint
        try:
            with self._oauth(redirect_uri) as client:
                token = client.fetch_token(
                    endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
        except (OAuthError, httpx2.HTTPError, ValueError) as exc:
            raise OidcError("token_exchange_failed", type(exc).__name__) from None
        id_token, access_token = token.get("id_token"), token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise OidcError("token_exchange_failed", "no id_token")
        return Tokens(id_token=id_token, access_token=access_token)

    def _verify(self, token: str) -> jwt.Token:
        try:
            return jwt.decode(
                token,
                lambda obj: self.jwks.keys_for(obj.headers().get("kid")),
                algorithms=list(ALLOWED_ALGORITHMS),
            )
        except OidcError:
            raise
        except (JoseError, ValueError, TypeError) as exc:
            raise OidcError("bad_signature", type(exc).__name__) from None

    def id_token_claims(self, id_token: str, *, nonce: str, access_token: str) -> dict[str, Any]:
        """The verified claims of the ID token answering our request with `nonce`."""
        verified = self._verify(id_token)
        claims = CodeIDToken(
            verified.claims,
            verified.header,
            options={
                "iss": {"essential": True, "value": self.config.issuer},
                "aud": {"essential": True, "value": self.config.client_id},
                "sub": {"essential": True},
                "nonce": {"essential": True, "value": nonce},
            },
            params={
                "nonce": nonce,
                "client_id": self.config.client_id,
                "access_token": access_token,
            },
        )
        try:
            claims.validate(now=_now(), leeway=CLOCK_SKEW_SECONDS)
        except (JoseError, ValueError) as exc:
            raise OidcError("bad_id_token", type(exc).__name__) from None
        return dict(claims)

    def userinfo(self, access_token: str, *, subject: str) -> dict[str, Any]:
        """Claims from the userinfo endpoint, for the same subject; {} without one."""
        endpoint = self.metadata().userinfo_endpoint
        if endpoint is None:
            return {}
        info = _get_json(
            endpoint, "userinfo_failed", headers={"Authorization": f"Bearer {access_token}"}
        )
        # OpenID Connect Core §5.3.2: a different `sub` must not be used.
        if info.get("sub") != subject:
            raise OidcError("userinfo_failed", "sub differs")
        return info

    # --- API bearer tokens ------------------------------------------------------------------

    def access_token_claims(self, token: str) -> dict[str, Any]:
        """An RFC 9068 access token for our API: its type, signature, iss, aud (the configured
        API audience, never the client id), exp and nbf, and the issuer's login requirements."""
        if self.config.audience is None:
            raise OidcError("no_api_audience")
        verified = self._verify(token)
        token_type = verified.header.get("typ")
        if not isinstance(token_type, str) or token_type.lower() not in ACCESS_TOKEN_TYPES:
            raise OidcError("not_an_access_token", "typ")
        if "nonce" in verified.claims:  # an ID token is proof of a login, not an API grant
            raise OidcError("not_an_access_token", "nonce")
        registry = jwt.JWTClaimsRegistry(
            now=_now,
            leeway=CLOCK_SKEW_SECONDS,
            iss={"essential": True, "value": self.config.issuer},
            aud={"essential": True, "value": self.config.audience},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            registry.validate(verified.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError("bad_claims", type(exc).__name__) from None
        if problem := self.config.authentication_problem(verified.claims):
            raise OidcError(problem)
        if self.config.claim_problem(verified.claims, absent_ok=True) is not None:
            raise OidcError("claim_mismatch")
        return dict(verified.claims)


class Federation:
    """The configured issuers, by name (URLs) and by issuer identifier (tokens)."""

    def __init__(self, issuers: tuple[IssuerConfig, ...] = ()) -> None:
        self.clients = {config.name: OpenIdClient(config) for config in issuers}
        self._by_issuer = {client.config.issuer: client for client in self.clients.values()}

    def __bool__(self) -> bool:
        return bool(self.clients)

    def get(self, name: str) -> OpenIdClient | None:
        return self.clients.get(name)

    def buttons(self) -> list[tuple[str, str]]:
        """(name, label) of each issuer, for the login page."""
        return [(name, client.config.label) for name, client in self.clients.items()]

    def access_token_claims(self, token: str) -> tuple[OpenIdClient, dict[str, Any]]:
        issuer = _unverified_claims(token).get("iss")
        client = self._by_issuer.get(issuer) if isinstance(issuer, str) else None
        if client is None:
            raise OidcError("unknown_issuer")
        return client, client.access_token_claims(token)
