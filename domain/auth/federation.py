"""Logging in through a trusted OpenID provider, and the accounts that come with it.

A federated account is linked by (issuer, sub). Its first login creates it in the issuer's
agency with the roles the role claim maps to; every later login sets the roles again from the
claim. When the claim grants no role any more the account is disabled, its sessions end and
the login is refused; a later login with a role re-enables it, but only if the federation
disabled it (an administrator's decision stands). The provider authenticates the user, second
factor included: a federated account never meets the local TOTP.

Every outcome is audited in the caller's transaction. Refusals are returned, not raised, so
the caller commits them together with their audit events.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from audit import log as audit
from audit.models import Outcome
from common.actor import Actor
from common.clock import utcnow
from common.errors import Unauthenticated, ValidationFailed
from domain.agencies.repository import AgencyRepository
from domain.auth.oidc import Federation, IssuerConfig, OidcError, OpenIdClient, new_secret
from domain.auth.service import LoginResult, SessionPolicy, actor_for, open_session
from domain.users import service as users_service
from domain.users.models import OidcLogin, User
from domain.users.repository import UserRepository

# Between the redirect to the provider and the callback.
LOGIN_LIFETIME = timedelta(minutes=10)
USERNAME_LENGTH = 100
_PROVIDER_ERROR_CODES = frozenset(
    {
        "access_denied",
        "login_required",
        "consent_required",
        "interaction_required",
        "account_selection_required",
        "invalid_request",
        "invalid_scope",
        "unauthorized_client",
        "unsupported_response_type",
        "server_error",
        "temporarily_unavailable",
    }
)

RESTART = (
    "Inloggningen kunde inte slutföras. Den kan ha gått ut eller redan ha använts. "
    "Börja om från inloggningssidan."
)
UNVERIFIED = (
    "Inloggningen kunde inte verifieras hos identitetsleverantören. Försök igen, och kontakta "
    "systemförvaltaren om felet kvarstår."
)
CANCELLED = "Inloggningen avbröts hos identitetsleverantören. Du är inte inloggad."
NO_ROLE = (
    "Ditt konto har ingen behörighet i Samsyn. Kontakta din organisations administratör om du "
    "behöver tillgång."
)
DISABLED = "Kontot är avstängt i Samsyn. Kontakta systemförvaltaren."
SECOND_FACTOR_MISSING = (
    "Din organisations inloggning gjordes utan den tvåstegsverifiering som Samsyn kräver. "
    "Logga in igen med tvåstegsverifiering, till exempel BankID eller en engångskod. Kontakta "
    "din organisations administratör om det inte går."
)
WRONG_ORGANISATION = (
    "Ditt konto hos identitetsleverantören hör inte till den organisation som den här "
    "inloggningen gäller. Välj din egen organisations inloggning, eller kontakta "
    "systemförvaltaren."
)
MISCONFIGURED = (
    "Inloggningen via din organisation är inte rätt inställd i Samsyn. Kontakta systemförvaltaren."
)

# reason -> (HTTP status of the error page, message)
REFUSALS: dict[str, tuple[int, str]] = {
    "bad_state": (400, RESTART),
    "provider_error": (401, CANCELLED),
    "issuer_mismatch": (401, UNVERIFIED),
    "missing_code": (400, RESTART),
    "discovery_failed": (502, UNVERIFIED),
    "jwks_unavailable": (502, UNVERIFIED),
    "token_exchange_failed": (401, UNVERIFIED),
    "userinfo_failed": (401, UNVERIFIED),
    "unknown_key": (401, UNVERIFIED),
    "malformed_token": (401, UNVERIFIED),
    "bad_signature": (401, UNVERIFIED),
    "bad_id_token": (401, UNVERIFIED),
    "acr_not_accepted": (403, SECOND_FACTOR_MISSING),
    "amr_missing": (403, SECOND_FACTOR_MISSING),
    "claim_mismatch": (403, WRONG_ORGANISATION),
    "no_role": (403, NO_ROLE),
    "account_disabled": (403, DISABLED),
    "agency_missing": (403, MISCONFIGURED),
    "agency_changed": (403, MISCONFIGURED),
    "role_not_allowed": (403, MISCONFIGURED),
}


@dataclass(frozen=True)
class FederatedLoginRefused:
    reason: str

    @property
    def status(self) -> int:
        return REFUSALS.get(self.reason, (401, UNVERIFIED))[0]

    @property
    def message(self) -> str:
        return REFUSALS.get(self.reason, (401, UNVERIFIED))[1]


@dataclass(frozen=True)
class FederatedLogin:
    result: LoginResult
    next_path: str


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and the value its binding cookie must carry back."""

    url: str
    browser_token: str


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def begin_login(
    session: Session,
    client: OpenIdClient,
    *,
    redirect_uri: str,
    next_path: str,
    browser_token: str | None = None,
) -> Authorization:
    """A fresh state, nonce and PKCE verifier, kept here until the callback; may raise
    `OidcError` when the provider cannot be reached."""
    now = utcnow()
    users = UserRepository(session)
    users.purge_oidc_logins(expired_before=now - timedelta(hours=1))
    state, nonce, verifier = new_secret(), new_secret(), new_secret()
    browser = browser_token or new_secret()
    url = client.authorization_url(
        redirect_uri=redirect_uri, state=state, nonce=nonce, code_verifier=verifier
    )
    users.add_oidc_login(
        OidcLogin(
            state_hash=_sha256(state),
            browser_hash=_sha256(browser),
            issuer_name=client.config.name,
            nonce=nonce,
            code_verifier=verifier,
            next_path=next_path[:500],
            created_at=now,
            expires_at=now + LOGIN_LIFETIME,
        )
    )
    return Authorization(url=url, browser_token=browser)


def finish_login(
    session: Session,
    client: OpenIdClient,
    *,
    params: Mapping[str, str],
    browser_token: str | None,
    redirect_uri: str,
    policy: SessionPolicy,
    client_address: str,
) -> FederatedLogin | FederatedLoginRefused:
    """The callback: check state and browser, exchange the code (with the PKCE verifier),
    verify the ID token (with the nonce), then provision the account and open a session."""
    config = client.config
    now = utcnow()
    users = UserRepository(session)
    login = users.claim_oidc_login(
        state_hash=_sha256(params.get("state", "")), issuer_name=config.name, now=now
    )
    if login is None or not hmac.compare_digest(login.browser_hash, _sha256(browser_token or "")):
        return _refuse(session, config, "bad_state")
    error = params.get("error")
    if error is not None:
        known = error if error in _PROVIDER_ERROR_CODES else "other"
        return _refuse(session, config, "provider_error", error=known)
    # RFC 9207: a provider that names itself in the response must name the one we asked.
    if "iss" in params and params["iss"] != config.issuer:
        return _refuse(session, config, "issuer_mismatch")
    code = params.get("code")
    if not code:
        return _refuse(session, config, "missing_code")
    try:
        tokens = client.exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=login.code_verifier
        )
        claims = client.id_token_claims(
            tokens.id_token, nonce=login.nonce, access_token=tokens.access_token
        )
        subject = str(claims["sub"])
        # acr and amr describe the login only as the signed ID token states them.
        if problem := config.authentication_problem(claims):
            acr, amr = _login_strength(claims)
            return _refuse(session, config, problem, acr=acr, amr=amr)
        claims = {**client.userinfo(tokens.access_token, subject=subject), **claims}
    except OidcError as exc:
        return _refuse(session, config, exc.reason)
    if (claim := config.claim_problem(claims)) is not None:
        return _refuse(session, config, "claim_mismatch", claim=claim)
    user = _provision(session, config, subject, claims)
    if isinstance(user, FederatedLoginRefused):
        return user
    result = open_session(
        session,
        user,
        actor_for(session, user),
        kind="browser",
        policy=policy,
        client_address=client_address,
        now=now,
        basis={"method": "oidc", "issuer": config.name, "second_factor": "idp"},
        oidc_issuer_name=config.name,
        oidc_id_token=tokens.id_token,
    )
    return FederatedLogin(result=result, next_path=login.next_path)


def _login_strength(claims: Mapping[str, Any]) -> tuple[str, str]:
    """The acr and amr a refused login had, for the audit log (method names, no identity)."""
    amr = claims.get("amr")
    methods = sorted(m for m in amr if isinstance(m, str)) if isinstance(amr, list) else []
    return str(claims.get("acr", ""))[:100], " ".join(methods)[:200]


def _provision(
    session: Session, config: IssuerConfig, subject: str, claims: Mapping[str, Any]
) -> User | FederatedLoginRefused:
    users = UserRepository(session)
    roles = config.roles_from(claims)
    user = users.by_federated_identity(config.issuer, subject)
    agency = AgencyRepository(session).by_name(config.agency)
    if agency is None:
        return _refuse(session, config, "agency_missing", user=user)
    display_name = _display_name(claims, subject)
    by = {"by": "federation", "issuer": config.name}
    if user is None:
        if not roles:
            return _refuse(session, config, "no_role")
        try:
            return users_service.create_federated_user(
                session,
                agency_id=agency.id,
                issuer=config.issuer,
                subject=subject,
                username=_username(config.name, subject),
                display_name=display_name,
                roles=roles,
                basis=by,
            )
        except ValidationFailed:
            return _refuse(session, config, "role_not_allowed")
    if user.agency_id != agency.id:
        return _refuse(session, config, "agency_changed", user=user)
    if not roles:
        if user.is_active:
            _disable(session, user, by)
        return _refuse(session, config, "no_role", user=user)
    if not user.is_active:
        if not user.disabled_by_federation:
            return _refuse(session, config, "account_disabled", user=user)
        user.is_active = True
        user.disabled_by_federation = False
        audit.record(
            session,
            None,
            action="config.user.enable",
            resource_type="user",
            resource_id=user.id,
            user_id=user.id,
            basis=by,
        )
    if roles != sorted(user.roles):
        if users_service.role_problems(session, agency.id, roles):
            return _refuse(session, config, "role_not_allowed", user=user)
        audit.record(
            session,
            None,
            action="config.user.roles",
            resource_type="user",
            resource_id=user.id,
            user_id=user.id,
            basis={**by, "from": sorted(user.roles), "to": roles},
        )
        user.roles = roles
    user.display_name = display_name
    session.add(user)
    session.flush()
    return user


def _disable(session: Session, user: User, by: dict[str, str]) -> None:
    user.is_active = False
    user.disabled_by_federation = True
    session.add(user)
    session.flush()
    ended = UserRepository(session).end_all_sessions(user.id, utcnow())
    audit.record(
        session,
        None,
        action="config.user.disable",
        resource_type="user",
        resource_id=user.id,
        user_id=user.id,
        basis={**by, "reason": "no_role", "sessions": ended},
    )


def _display_name(claims: Mapping[str, Any], subject: str) -> str:
    for claim in ("name", "preferred_username"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return subject[:200]


def _username(name: str, subject: str) -> str:
    """`<issuer name>:<sub>`; a sub too long (or not printable) becomes its SHA-256. Local
    usernames cannot contain ":", so the two never collide."""
    username = f"{name}:{subject}"
    if len(username) <= USERNAME_LENGTH and subject.isprintable():
        return username
    return f"{name}:#{_sha256(subject)}"[:USERNAME_LENGTH]


def _refuse(
    session: Session,
    config: IssuerConfig,
    reason: str,
    *,
    user: User | None = None,
    **details: str,
) -> FederatedLoginRefused:
    audit.record(
        session,
        None,
        action="auth.login",
        resource_type="user",
        resource_id=user.id if user else None,
        outcome=Outcome.DENIED,
        user_id=user.id if user else None,
        basis={"method": "oidc", "issuer": config.name, "reason": reason, **details},
    )
    return FederatedLoginRefused(reason=reason)


def check_issuers(session: Session, issuers: tuple[IssuerConfig, ...]) -> list[str]:
    """Problems with the issuers' agencies and role maps, in words for the operator."""
    problems = []
    for config in issuers:
        agency = AgencyRepository(session).by_name(config.agency)
        if agency is None:
            problems.append(f"OpenID issuer {config.name!r}: no agency named {config.agency!r}")
            continue
        roles = sorted({role.value for role in config.role_map.values()})
        if users_service.role_problems(session, agency.id, roles):
            problems.append(
                f"OpenID issuer {config.name!r}: roles {roles} are not allowed for the "
                f"{agency.kind} agency {config.agency!r} (social_worker and coordinator "
                "belong to social services only)"
            )
    return problems


def actor_for_bearer(session: Session, federation: Federation, token: str) -> Actor:
    """The actor behind a provider's JWT access token. No account is created here: the user
    must have logged in through the browser once, and be active; roles are those of that
    account (set from the role claim at each browser login)."""
    try:
        client, claims = federation.access_token_claims(token)
    except OidcError:
        raise Unauthenticated() from None
    user = UserRepository(session).by_federated_identity(client.config.issuer, str(claims["sub"]))
    if user is None or not user.is_active:
        raise Unauthenticated()
    return actor_for(session, user)
