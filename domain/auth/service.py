"""Logging in and out, and turning a session token back into an Actor.

Tokens are 256 random bits handed to the client once; the database keeps their SHA-256.
A session ends at its absolute deadline, after `idle` without use, or at logout.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from audit import log as audit
from audit.models import Outcome
from common.actor import Actor
from common.clock import utcnow
from common.errors import Unauthenticated
from common.roles import AgencyKind, Role
from domain.auth.lockout import LockoutPolicy, refused_until
from domain.auth.passwords import burn_time, verify_password
from domain.users.models import LoginAttempt, User, UserSession
from domain.users.repository import UserRepository

DEFAULT_LOCKOUT = LockoutPolicy()
# Writing last_seen_at on every request would turn every read into a write.
TOUCH_INTERVAL = timedelta(seconds=60)


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
    _, agency = row
    return Actor(
        user_id=user.id,
        agency_id=agency.id,
        agency_kind=AgencyKind(agency.kind),
        roles=frozenset(Role(role) for role in user.roles),
    )


@dataclass(frozen=True)
class LoginRefused:
    """Wrong credentials (`retry_after` None), or too many failures: try again after it."""

    retry_after: datetime | None = None


def login(
    session: Session,
    *,
    username: str,
    password: str,
    kind: str,
    policy: SessionPolicy,
    client_address: str,
    lockout: LockoutPolicy = DEFAULT_LOCKOUT,
) -> LoginResult | LoginRefused:
    """Never raises for bad credentials, so the caller commits the attempt and its audit event."""
    users = UserRepository(session)
    name = username.strip().lower()[:100]
    address = client_address[:64]
    now = utcnow()
    name_failures, address_failures = users.recent_failures(
        username=name, client_address=address, since=now - lockout.window
    )
    until = refused_until(
        account_failures=name_failures, address_failures=address_failures, now=now, policy=lockout
    )
    user = users.by_username(name)
    if until is not None:
        audit.record(
            session,
            None,
            action="auth.login",
            resource_type="user",
            resource_id=user.id if user else None,
            outcome=Outcome.DENIED,
            user_id=user.id if user else None,
            basis={"reason": "locked_out", "until": until.isoformat()},
        )
        return LoginRefused(retry_after=until)
    if user is None or not user.is_active or user.password_hash is None:
        burn_time(password)
        succeeded, reason = False, "unknown_or_inactive"
    else:
        succeeded, reason = verify_password(password, user.password_hash), "bad_password"
    users.add_attempt(
        LoginAttempt(username=name, client_address=address, succeeded=succeeded, attempted_at=now)
    )
    if not succeeded or user is None:
        audit.record(
            session,
            None,
            action="auth.login",
            resource_type="user",
            resource_id=user.id if user else None,
            outcome=Outcome.DENIED,
            user_id=user.id if user else None,
            basis={"reason": reason},
        )
        return LoginRefused()
    token = secrets.token_urlsafe(32)
    user_session = UserSession(
        token_hash=_hash(token),
        user_id=user.id,
        kind=kind,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.absolute,
    )
    users.add_session(user_session)
    actor = actor_for(session, user)
    audit.record(
        session,
        actor,
        action="auth.login",
        resource_type="user_session",
        resource_id=user_session.id,
        basis={"session_kind": kind},
    )
    return LoginResult(token=token, user=user, user_session=user_session)


def resolve(
    session: Session, *, token: str, kind: str, policy: SessionPolicy
) -> tuple[Actor, UserSession]:
    """The actor behind a token, or Unauthenticated; expiry is checked on every request."""
    users = UserRepository(session)
    user_session = users.session_by_token_hash(_hash(token))
    now = utcnow()
    if (
        user_session is None
        or user_session.kind != kind
        or user_session.ended_at is not None
        or now >= user_session.expires_at
        or now - user_session.last_seen_at >= policy.idle
    ):
        raise Unauthenticated("Din session har gått ut. Logga in igen.")
    user = users.get(user_session.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated()
    if now - user_session.last_seen_at >= TOUCH_INTERVAL:
        users.touch_session(user_session, now)
    return actor_for(session, user), user_session


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


def logout(session: Session, actor: Actor, user_session: UserSession) -> None:
    UserRepository(session).end_session(user_session, utcnow())
    audit.record(
        session,
        actor,
        action="auth.logout",
        resource_type="user_session",
        resource_id=user_session.id,
    )
