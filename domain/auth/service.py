"""Logging in and out, and turning a session token back into an Actor.

Tokens are 256 random bits handed to the client once; the database keeps their SHA-256.
A session ends at its absolute deadline, after `idle` without use, or at logout.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session

from audit import log as audit
from audit.models import Outcome
from common.actor import Actor
from common.clock import utcnow
from common.errors import Conflict, NotFound, Unauthenticated
from common.roles import AgencyKind, Role, needs_second_factor
from domain import access
from domain.agencies.models import Agency
from domain.auth import totp
from domain.auth.lockout import LockoutPolicy, refused_until
from domain.auth.passwords import burn_time, hash_password, needs_rehash, verify_password
from domain.users.models import LoginAttempt, User, UserSession
from domain.users.repository import SessionRow, UserRepository

DEFAULT_LOCKOUT = LockoutPolicy()
# Writing last_seen_at on every request would turn every read into a write.
TOUCH_INTERVAL = timedelta(seconds=60)
# How long a login may wait between the password and the second factor.
PENDING_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class LoginResult:
    token: str
    user: User
    user_session: UserSession


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def actor_for(session: Session, user: User) -> Actor:
    row = UserRepository(session).with_agency(user.id)
    if row is None:
        raise Unauthenticated()
    return _actor(user, row[1])


def _actor(user: User, agency: Agency) -> Actor:
    return _actor_of(user.id, agency.id, agency.kind, user.roles, user.programmes)


def _actor_of(
    user_id: uuid.UUID,
    agency_id: uuid.UUID,
    agency_kind: str,
    roles: Iterable[str],
    programmes: Iterable[str],
) -> Actor:
    return Actor(
        user_id=user_id,
        agency_id=agency_id,
        agency_kind=AgencyKind(agency_kind),
        roles=frozenset(Role(role) for role in roles),
        programmes=frozenset(programmes),
    )


class RefusalReason(StrEnum):
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED_OUT = "locked_out"
    SECOND_FACTOR_MISSING = "second_factor_missing"
    SECOND_FACTOR_WRONG = "second_factor_wrong"
    ENROLMENT_REQUIRED = "enrolment_required"


@dataclass(frozen=True)
class LoginRefused:
    """Why a login did not go through; `retry_after` is set when too many attempts failed."""

    retry_after: datetime | None = None
    reason: RefusalReason = RefusalReason.BAD_CREDENTIALS


class PendingKind(StrEnum):
    """A login half done: the password is right, and the browser must now do this."""

    SECOND_FACTOR = "second_factor"  # type the code from the authenticator app
    ENROLMENT = "enrolment"  # enrol an authenticator app first: the role requires one


@dataclass(frozen=True)
class SecondStep:
    token: str
    kind: PendingKind


def login(
    session: Session,
    *,
    username: str,
    password: str,
    kind: str,
    policy: SessionPolicy,
    client_address: str,
    second_factor_required: bool = True,
    totp_code: str | None = None,
    lockout: LockoutPolicy = DEFAULT_LOCKOUT,
) -> LoginResult | LoginRefused | SecondStep:
    """Never raises for bad credentials, so the caller commits the attempt and its audit event.

    With a TOTP enrolled, or required for the user's roles (`second_factor_required`), the
    password alone gives no session: a browser gets a `SecondStep`; an API client must send
    `totp_code` with the password.
    """
    users = UserRepository(session)
    name = username.strip().lower()[:100]
    address = client_address[:64]
    now = utcnow()
    user = users.by_username(name)
    # A name or address already locked costs no password hash.
    until = _locked_until(users, name, address, now, lockout)
    if until is not None:
        _refusal_event(session, user, "locked_out", until=until.isoformat())
        return LoginRefused(retry_after=until, reason=RefusalReason.LOCKED_OUT)
    rehashed = None
    if user is None or not user.is_active or user.password_hash is None:
        burn_time(password)
        succeeded, reason = False, "unknown_or_inactive"
    else:
        succeeded, reason = verify_password(password, user.password_hash), "bad_password"
        if succeeded and needs_rehash(user.password_hash):
            rehashed = hash_password(password)  # computed before the lock below is taken
    # Attempts that raced this one were counted meanwhile: decide again under the lock, and
    # say nothing about the password if they used up what the policy allows.
    until = _locked_until(users, name, address, now, lockout, lock=True)
    if until is not None:
        _refusal_event(session, user, "locked_out", until=until.isoformat())
        return LoginRefused(retry_after=until, reason=RefusalReason.LOCKED_OUT)
    if rehashed is not None and user is not None:
        user.password_hash = rehashed
        session.add(user)
        session.flush()
    if not succeeded or user is None:
        users.add_attempt(
            LoginAttempt(username=name, client_address=address, succeeded=False, attempted_at=now)
        )
        _refusal_event(session, user, reason)
        return LoginRefused()
    actor = actor_for(session, user)
    if user.totp_enabled_at is not None:
        if totp_code is not None:
            if not _accept_code(users, user, totp_code, address, now):
                _refusal_event(session, user, "bad_second_factor")
                return LoginRefused(reason=RefusalReason.SECOND_FACTOR_WRONG)
            return _complete(session, user, actor, kind, policy, address, now, "totp")
        if kind == "browser":
            return _pending(session, user, actor, PendingKind.SECOND_FACTOR, now)
        _refusal_event(session, user, "second_factor_missing")
        return LoginRefused(reason=RefusalReason.SECOND_FACTOR_MISSING)
    if second_factor_required and needs_second_factor(actor.roles):
        if kind == "browser":
            return _pending(session, user, actor, PendingKind.ENROLMENT, now)
        _refusal_event(session, user, "enrolment_required")
        return LoginRefused(reason=RefusalReason.ENROLMENT_REQUIRED)
    return _complete(session, user, actor, kind, policy, address, now, "none")


def continue_login(
    session: Session,
    *,
    pending_token: str,
    code: str,
    policy: SessionPolicy,
    client_address: str,
    lockout: LockoutPolicy = DEFAULT_LOCKOUT,
) -> LoginResult | LoginRefused:
    """The second step: the code from the authenticator app. Wrong codes count as failed
    logins, so guessing codes meets the same backoff and lockout as guessing passwords."""
    users = UserRepository(session)
    user, pending = _pending_login(users, pending_token, PendingKind.SECOND_FACTOR)
    address = client_address[:64]
    now = utcnow()
    until = _locked_until(users, user.username, address, now, lockout, lock=True)
    if until is not None:
        users.end_session(pending.id, now)
        _refusal_event(session, user, "locked_out", until=until.isoformat())
        return LoginRefused(retry_after=until, reason=RefusalReason.LOCKED_OUT)
    if not _accept_code(users, user, code, address, now):
        _refusal_event(session, user, "bad_second_factor")
        return LoginRefused(reason=RefusalReason.SECOND_FACTOR_WRONG)
    users.end_session(pending.id, now)
    actor = actor_for(session, user)
    return _complete(session, user, actor, "browser", policy, address, now, "totp")


def enrolling_user(session: Session, pending_token: str) -> User:
    """The user behind a login waiting for enrolment, or Unauthenticated."""
    user, _ = _pending_login(UserRepository(session), pending_token, PendingKind.ENROLMENT)
    return user


def begin_enrolment(session: Session, user: User, actor: Actor | None = None) -> str:
    """A new TOTP secret for `user`, stored encrypted and returned to be shown once.

    Until a code confirms it the secret changes nothing; beginning again replaces it.
    """
    if user.totp_enabled_at is not None:
        raise Conflict("Tvåstegsverifiering är redan aktiverad för kontot.")
    if user.is_federated:
        raise Conflict(
            "Du loggar in via din organisations inloggning, som sköter tvåstegsverifieringen."
        )
    secret = totp.new_secret()
    user.totp_secret = secret
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        action="auth.totp.enrolment_started",
        resource_type="user",
        resource_id=user.id,
        user_id=user.id,
    )
    return secret


def confirm_enrolment(session: Session, user: User, code: str, actor: Actor | None = None) -> bool:
    """Turn the second factor on if `code` matches the secret being enrolled."""
    if user.totp_enabled_at is not None:
        raise Conflict("Tvåstegsverifiering är redan aktiverad för kontot.")
    if user.totp_secret is None:
        raise Conflict("Ingen aktivering pågår. Börja om.")
    now = utcnow()
    step = totp.matching_step(user.totp_secret, code, now=now, last_step=None)
    if step is None:
        audit.record(
            session,
            actor,
            action="auth.totp.enable",
            resource_type="user",
            resource_id=user.id,
            user_id=user.id,
            outcome=Outcome.DENIED,
            basis={"reason": "bad_second_factor"},
        )
        return False
    user.totp_enabled_at = now
    user.totp_last_step = step
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        action="auth.totp.enable",
        resource_type="user",
        resource_id=user.id,
        user_id=user.id,
    )
    return True


def finish_enrolment_login(
    session: Session,
    *,
    pending_token: str,
    code: str,
    policy: SessionPolicy,
    client_address: str,
) -> LoginResult | None:
    """Enrolment during login: a matching code confirms the app and completes the login."""
    users = UserRepository(session)
    user, pending = _pending_login(users, pending_token, PendingKind.ENROLMENT)
    if not confirm_enrolment(session, user, code):
        return None
    now = utcnow()
    users.end_session(pending.id, now)
    actor = actor_for(session, user)
    return _complete(session, user, actor, "browser", policy, client_address[:64], now, "totp")


def reset_second_factor(session: Session, *, username: str, actor: Actor | None = None) -> User:
    """For a lost phone: the account must enrol again, and every session of it ends."""
    users = UserRepository(session)
    user = users.by_username(username.strip().lower())
    if user is None:
        raise NotFound()
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.add(user)
    session.flush()
    ended = users.end_all_sessions(user.id, utcnow())
    audit.record(
        session,
        actor,
        action="config.user.reset_second_factor",
        resource_type="user",
        resource_id=user.id,
        basis={"sessions": ended},
    )
    return user


def _locked_until(
    users: UserRepository,
    name: str,
    address: str,
    now: datetime,
    lockout: LockoutPolicy,
    *,
    lock: bool = False,
) -> datetime | None:
    """When the name or address may try again, if not now. With `lock`, the name's and the
    address's lock rows are held to the end of the transaction first, so the attempts read
    here include those of every login that decided before this one, and a concurrent login
    decides only after this one has recorded its attempt."""
    if lock:
        users.lock_login_slots((f"name:{name}", f"address:{address}"), now)
    name_failures, address_failures = users.recent_failures(
        username=name, client_address=address, since=now - lockout.window
    )
    return refused_until(
        account_failures=name_failures, address_failures=address_failures, now=now, policy=lockout
    )


def _refusal_event(session: Session, user: User | None, reason: str, **details: str) -> None:
    audit.record(
        session,
        None,
        action="auth.login",
        resource_type="user",
        resource_id=user.id if user else None,
        outcome=Outcome.DENIED,
        user_id=user.id if user else None,
        basis={"reason": reason, **details},
    )


def _accept_code(users: UserRepository, user: User, code: str, address: str, now: datetime) -> bool:
    """Check a login code; a wrong one is recorded as a failed attempt."""
    assert user.totp_secret is not None  # noqa: S101 - only called for enrolled users
    step = totp.matching_step(user.totp_secret, code, now=now, last_step=user.totp_last_step)
    if step is not None and users.claim_totp_step(user.id, step):
        return True
    users.add_attempt(
        LoginAttempt(
            username=user.username, client_address=address, succeeded=False, attempted_at=now
        )
    )
    return False


def _pending(
    session: Session, user: User, actor: Actor, kind: PendingKind, now: datetime
) -> SecondStep:
    token = secrets.token_urlsafe(32)
    pending = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        kind=kind.value,
        created_at=now,
        last_seen_at=now,
        expires_at=now + PENDING_LIFETIME,
    )
    UserRepository(session).add_session(pending)
    audit.record(
        session,
        actor,
        action="auth.password_accepted",
        resource_type="user_session",
        resource_id=pending.id,
        basis={"next": kind.value},
    )
    return SecondStep(token=token, kind=kind)


def _pending_login(
    users: UserRepository, token: str, kind: PendingKind
) -> tuple[User, UserSession]:
    pending = users.session_by_token_hash(_hash(token))
    if (
        pending is None
        or pending.kind != kind.value
        or pending.ended_at is not None
        or utcnow() >= pending.expires_at
    ):
        raise Unauthenticated("Inloggningen har gått ut. Börja om.")
    user = users.get(pending.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("Inloggningen har gått ut. Börja om.")
    return user, pending


def open_session(
    session: Session,
    user: User,
    actor: Actor,
    *,
    kind: str,
    policy: SessionPolicy,
    client_address: str,
    now: datetime,
    basis: dict[str, str],
    oidc_issuer_name: str | None = None,
    oidc_id_token: str | None = None,
) -> LoginResult:
    """The one way a login becomes a session, whatever proved who the user is (a password and
    maybe a TOTP code, or an OpenID provider): a successful attempt, which ends the name's run
    of failures; a random token kept as its hash; the `auth.login` event with `basis`."""
    users = UserRepository(session)
    users.add_attempt(
        LoginAttempt(
            username=user.username,
            client_address=client_address[:64],
            succeeded=True,
            attempted_at=now,
        )
    )
    token = secrets.token_urlsafe(32)
    user_session = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        kind=kind,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.absolute,
        oidc_issuer_name=oidc_issuer_name,
        oidc_id_token=oidc_id_token,
    )
    users.add_session(user_session)
    audit.record(
        session,
        actor,
        action="auth.login",
        resource_type="user_session",
        resource_id=user_session.id,
        basis=basis,
    )
    return LoginResult(token=token, user=user, user_session=user_session)


def _complete(
    session: Session,
    user: User,
    actor: Actor,
    kind: str,
    policy: SessionPolicy,
    address: str,
    now: datetime,
    second_factor: str,
) -> LoginResult:
    """A local account's login: the password (and the second factor) are checked."""
    return open_session(
        session,
        user,
        actor,
        kind=kind,
        policy=policy,
        client_address=address,
        now=now,
        basis={"session_kind": kind, "second_factor": second_factor},
    )


def resolve(
    session: Session, *, token: str, kind: str, policy: SessionPolicy
) -> tuple[Actor, SessionRow]:
    """The actor behind a token, or Unauthenticated; expiry is checked on every request."""
    users = UserRepository(session)
    now = utcnow()
    found = users.session_with_user(_hash(token), now)
    if (
        found is None
        or found.kind != kind
        or found.ended_at is not None
        or now >= found.expires_at
        or now - found.last_seen_at >= policy.idle
    ):
        raise Unauthenticated("Din session har gått ut. Logga in igen.")
    if not found.is_active:
        raise Unauthenticated()
    if now - found.last_seen_at >= TOUCH_INTERVAL:
        users.touch_session(found.id, now)
    actor = _actor_of(
        found.user_id, found.agency_id, found.agency_kind, found.roles, found.programmes
    )
    if not found.holds_break_glass:
        access.holds_no_break_glass(session, actor)
    return actor, found


def logout_everywhere(session: Session, actor: Actor) -> int:
    """End every session and API token of the actor's account; how many were ended."""
    ended = UserRepository(session).end_all_sessions(actor.user_id, utcnow())
    audit.record(
        session,
        actor,
        action="auth.logout_everywhere",
        resource_type="user",
        resource_id=actor.user_id,
        basis={"sessions": ended},
    )
    return ended


@dataclass(frozen=True)
class ProviderSession:
    """What ending a federated session at its OpenID provider needs (RP-Initiated Logout)."""

    issuer_name: str
    id_token: str = field(repr=False)


def provider_session(user_session: SessionRow) -> ProviderSession | None:
    if user_session.oidc_issuer_name and user_session.oidc_id_token:
        return ProviderSession(user_session.oidc_issuer_name, user_session.oidc_id_token)
    return None


def logout(session: Session, actor: Actor, user_session: SessionRow) -> ProviderSession | None:
    """End the session; for one that came from an OpenID provider, what the caller needs to
    end the provider's session too (the stored ID token is deleted here)."""
    provider = provider_session(user_session)
    UserRepository(session).end_session(user_session.id, utcnow())
    audit.record(
        session,
        actor,
        action="auth.logout",
        resource_type="user_session",
        resource_id=user_session.id,
        basis={"provider": provider.issuer_name} if provider else None,
    )
    return provider
