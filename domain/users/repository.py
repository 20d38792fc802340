from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, exists, func, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from common.db import execute_columns
from consent.guard import unscoped
from consent.models import BreakGlassGrant
from domain.agencies.models import Agency
from domain.users.models import LoginAttempt, LoginLock, OidcLogin, User, UserSession

LOGIN_LOCK_SLOTS = 4096


@dataclass(frozen=True)
class SessionRow:
    """A session as a request finds it by its token: its state, and who it belongs to (the
    user's roles and agency, from which the request's Actor is made)."""

    id: uuid.UUID
    kind: str
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    oidc_issuer_name: str | None
    oidc_id_token: str | None = field(repr=False)
    user_id: uuid.UUID
    display_name: str
    roles: list[str]
    programmes: list[str]
    is_active: bool
    agency_id: uuid.UUID
    agency_kind: str
    holds_break_glass: bool  # an unexpired emergency grant at the lookup (`domain.access`)


# Built once, and read as plain columns: every authenticated request looks its session up.
_SESSION_WITH_USER: Select[*tuple[Any, ...]] = (
    core_select(
        col(UserSession.id),
        col(UserSession.kind),
        col(UserSession.last_seen_at),
        col(UserSession.expires_at),
        col(UserSession.ended_at),
        col(UserSession.oidc_issuer_name),
        col(UserSession.oidc_id_token),
        col(User.id).label("user_id"),
        col(User.display_name),
        col(User.roles),
        col(User.programmes),
        col(User.is_active),
        col(Agency.id).label("agency_id"),
        col(Agency.kind).label("agency_kind"),
        exists()
        .where(
            col(BreakGlassGrant.user_id) == col(User.id),
            col(BreakGlassGrant.expires_at) > bindparam("now"),
        )
        .label("holds_break_glass"),
    )
    .join(User, col(User.id) == col(UserSession.user_id))
    .join(Agency, col(Agency.id) == col(User.agency_id))
    .where(col(UserSession.token_hash) == bindparam("token_hash"))
)
_SESSION_WITH_USER = unscoped(
    _SESSION_WITH_USER,
    "whether the user holds an emergency grant, not which: the scope reads them if so",
)


class UserRepository:
    """Staff accounts and their sessions. Not case data: no consent scope applies."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, user_id: uuid.UUID) -> User | None:
        return self._session.get(User, user_id)

    def by_username(self, username: str) -> User | None:
        return self._session.exec(select(User).where(User.username == username)).first()

    def by_federated_identity(self, issuer: str, subject: str) -> User | None:
        return self._session.exec(
            select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
        ).first()

    def with_agency(self, user_id: uuid.UUID) -> tuple[User, Agency] | None:
        statement = (
            select(User, Agency)
            .join(Agency, col(Agency.id) == col(User.agency_id))
            .where(User.id == user_id)
        )
        row = self._session.exec(statement).first()
        return None if row is None else (row[0], row[1])

    def list_all(self) -> Sequence[tuple[User, Agency]]:
        statement = (
            select(User, Agency)
            .join(Agency, col(Agency.id) == col(User.agency_id))
            .order_by(col(User.username))
        )
        return [(user, agency) for user, agency in self._session.exec(statement).all()]

    def names(self, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        """Display name and agency name per user, for the auditor's lists."""
        if not user_ids:
            return {}
        statement = (
            select(User.id, User.display_name, Agency.name)
            .join(Agency, col(Agency.id) == col(User.agency_id))
            .where(col(User.id).in_(user_ids))
        )
        return {row[0]: (row[1], row[2]) for row in self._session.exec(statement).all()}

    def add(self, user: User) -> None:
        self._session.add(user)
        self._session.flush()

    def update_if_version(self, user: User, version: int, **values: Any) -> bool:
        """Compare-and-set: write `values` and the next version only if the account is still
        at `version`; False when someone else changed it meanwhile."""
        result = self._session.execute(
            update(User)
            .where(col(User.id) == user.id, col(User.version) == version)
            .values(**values, version=version + 1)
            .execution_options(synchronize_session=False)
        )
        if int(result.rowcount) != 1:  # type: ignore[attr-defined]
            return False
        for name, value in {**values, "version": version + 1}.items():
            set_committed_value(user, name, value)
        return True

    def holds_social_services_roles(self, agency_id: uuid.UUID) -> bool:
        """Whether any account of the agency is a social worker or coordinator."""
        rows = self._session.exec(select(User.roles).where(User.agency_id == agency_id)).all()
        return any({"social_worker", "coordinator"} & set(roles) for roles in rows)

    def counts_by_agency(self) -> dict[uuid.UUID, int]:
        """Accounts per agency, active or not."""
        statement = select(User.agency_id, func.count()).group_by(col(User.agency_id))
        return {row[0]: int(row[1]) for row in self._session.exec(statement).all()}

    def last_logins(self, user_ids: set[uuid.UUID] | None = None) -> dict[uuid.UUID, datetime]:
        """When each account last logged in: its latest session's start (browser or API)."""
        statement = select(UserSession.user_id, func.max(UserSession.created_at)).group_by(
            col(UserSession.user_id)
        )
        if user_ids is not None:
            statement = statement.where(col(UserSession.user_id).in_(user_ids))
        return {row[0]: row[1] for row in self._session.exec(statement).all() if row[1]}

    def failures_since_success(
        self, *, since: datetime, usernames: set[str] | None = None
    ) -> dict[str, list[datetime]]:
        """Each name's failed attempts since `since` and after its last success, as
        `recent_failures` counts them for the lockout."""
        statement = (
            select(LoginAttempt.username, LoginAttempt.attempted_at, LoginAttempt.succeeded)
            .where(col(LoginAttempt.attempted_at) >= since)
            .order_by(col(LoginAttempt.attempted_at))
        )
        if usernames is not None:
            statement = statement.where(col(LoginAttempt.username).in_(usernames))
        failures: dict[str, list[datetime]] = {}
        for name, at, succeeded in self._session.exec(statement).all():
            failures[name] = [] if succeeded else [*failures.get(name, []), at]
        return failures

    def recent_failures(
        self, *, username: str, client_address: str, since: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        """Failed attempts since `since`: for the name (after its last success) and the address."""
        name_rows = self._session.exec(
            select(LoginAttempt.attempted_at, LoginAttempt.succeeded)
            .where(LoginAttempt.username == username, col(LoginAttempt.attempted_at) >= since)
            .order_by(col(LoginAttempt.attempted_at))
        ).all()
        name_failures: list[datetime] = []
        for at, succeeded in name_rows:
            name_failures = [] if succeeded else [*name_failures, at]
        address_failures = self._session.exec(
            select(LoginAttempt.attempted_at).where(
                LoginAttempt.client_address == client_address,
                col(LoginAttempt.succeeded).is_(False),
                col(LoginAttempt.attempted_at) >= since,
            )
        ).all()
        return name_failures, list(address_failures)

    def lock_login_slots(self, keys: Sequence[str], now: datetime) -> None:
        """Lock the rows of these keys (a name, an address) until the transaction ends: a
        concurrent login for the same name or from the same address waits here, and then
        reads the attempts this one records. Slots are taken in one order, so two logins never
        wait for each other. On SQLite the write takes the database's one write lock."""
        insert = (
            postgresql.insert
            if self._session.get_bind().dialect.name == "postgresql"
            else sqlite.insert
        )
        for slot in sorted({_slot(key) for key in keys}):
            statement = insert(LoginLock).values(slot=slot, taken_at=now)
            self._session.execute(
                statement.on_conflict_do_update(index_elements=["slot"], set_={"taken_at": now})
            )

    def add_attempt(self, attempt: LoginAttempt) -> None:
        self._session.add(attempt)
        self._session.flush()

    def claim_totp_step(self, user_id: uuid.UUID, step: int) -> bool:
        """Record `step` as used, unless it (or a later one) already was: one use per code,
        even when two logins race."""
        result = self._session.execute(
            update(User)
            .where(
                col(User.id) == user_id,
                or_(col(User.totp_last_step).is_(None), col(User.totp_last_step) < step),
            )
            .values(totp_last_step=step)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    def end_all_sessions(self, user_id: uuid.UUID, now: datetime) -> int:
        result = self._session.execute(
            update(UserSession)
            .where(col(UserSession.user_id) == user_id, col(UserSession.ended_at).is_(None))
            .values(ended_at=now, oidc_id_token=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def session_by_token_hash(self, token_hash: str) -> UserSession | None:
        return self._session.exec(
            select(UserSession).where(UserSession.token_hash == token_hash)
        ).first()

    def session_with_user(self, token_hash: str, now: datetime) -> SessionRow | None:
        """A session with its user and the user's agency, and whether the user holds an
        unexpired emergency grant at `now`, in one query: every request asks."""
        found = execute_columns(
            self._session, _SESSION_WITH_USER, {"token_hash": token_hash, "now": now}
        )
        row = found.first()
        return None if row is None else SessionRow(*row)

    def add_session(self, user_session: UserSession) -> None:
        self._session.add(user_session)
        self._session.flush()

    def touch_session(self, session_id: uuid.UUID, now: datetime) -> None:
        self._session.execute(
            update(UserSession).where(col(UserSession.id) == session_id).values(last_seen_at=now)
        )

    def end_session(self, session_id: uuid.UUID, now: datetime) -> None:
        self._session.execute(
            update(UserSession)
            .where(col(UserSession.id) == session_id, col(UserSession.ended_at).is_(None))
            .values(ended_at=now, oidc_id_token=None)
        )

    # --- logins in progress at an OpenID provider ----------------------------------------

    def add_oidc_login(self, login: OidcLogin) -> None:
        self._session.add(login)
        self._session.flush()

    def claim_oidc_login(
        self, *, state_hash: str, issuer_name: str, now: datetime
    ) -> OidcLogin | None:
        """Mark the login with this state used and return it, unless it is unknown, for another
        issuer, expired or already used: a state is good for one callback, even when two race."""
        result = self._session.execute(
            update(OidcLogin)
            .where(
                col(OidcLogin.state_hash) == state_hash,
                col(OidcLogin.issuer_name) == issuer_name,
                col(OidcLogin.used_at).is_(None),
                col(OidcLogin.expires_at) > now,
            )
            .values(used_at=now)
        )
        if int(result.rowcount) != 1:  # type: ignore[attr-defined]
            return None
        return self._session.exec(
            select(OidcLogin).where(OidcLogin.state_hash == state_hash)
        ).first()

    def purge_oidc_logins(self, *, expired_before: datetime) -> int:
        result = self._session.execute(
            delete(OidcLogin).where(col(OidcLogin.expires_at) < expired_before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _slot(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8", "replace")).digest()[:4]) % (
        LOGIN_LOCK_SLOTS
    )
