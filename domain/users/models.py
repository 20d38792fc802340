from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from common.clock import utcnow
from common.db import EncryptedString, UTCDateTime
from common.ids import new_id


class User(SQLModel, table=True):
    """A staff member. Staff names are work identities, not the young people's data."""

    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    agency_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("agency.id", ondelete="RESTRICT"), nullable=False, index=True)
    )
    username: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    display_name: str = Field(sa_column=Column(String(200), nullable=False))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The programmes (SSPF, SIG) a coordinator coordinates: they see those cases and no other.
    programmes: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, default=list, server_default="[]"),
    )
    password_hash: str | None = Field(default=None, sa_column=Column(String(300), nullable=True))
    is_active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    # The TOTP secret, encrypted with the field key ring. Enrolment stores it before the
    # first code confirms it; only then does `totp_enabled_at` make it required at login.
    totp_secret: str | None = Field(
        default=None, sa_column=Column(EncryptedString("app_user.totp_secret"), nullable=True)
    )
    totp_enabled_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    # The last time step accepted: a code is never accepted twice (RFC 6238 §5.2).
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # A federated account is the identity (issuer URL, `sub`) of an OpenID provider; it has no
    # password and no TOTP here: the provider authenticates it.
    oidc_issuer: str | None = Field(default=None, sa_column=Column(String(300), nullable=True))
    oidc_subject: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    # Set when a login showed the provider no longer grants a role; a later login with a role
    # re-enables only such an account, never one an administrator disabled.
    disabled_by_federation: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, default=False, server_default=false()),
    )
    # Guards the administrator's edits (agency, roles, programmes, activation, second factor,
    # lockout): an edit based on an older read is refused.
    version: int = Field(
        default=1, sa_column=Column(Integer, nullable=False, default=1, server_default="1")
    )

    @property
    def is_federated(self) -> bool:
        return self.oidc_issuer is not None


class UserSession(SQLModel, table=True):
    """A login. Only the SHA-256 of the token is stored: a database leak yields no sessions."""

    __tablename__ = "user_session"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    user_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))  # "browser" or "api"
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # A login through an OpenID provider keeps the issuer's name and its ID token (encrypted)
    # until the session ends: logging out sends it back as `id_token_hint`, so the provider
    # ends its own session too (RP-Initiated Logout). Cleared when the session ends.
    oidc_issuer_name: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    oidc_id_token: str | None = Field(
        default=None,
        repr=False,
        sa_column=Column(EncryptedString("user_session.oidc_id_token"), nullable=True),
    )


class LoginLock(SQLModel, table=True):
    """Rows locked while a login's outcome is decided, so that concurrent attempts for one
    name or from one address are counted one after the other (see `domain.auth.service`).

    A name or address maps onto one of a fixed number of slots, so the table never grows."""

    __tablename__ = "login_lock"

    slot: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    taken_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class LoginAttempt(SQLModel, table=True):
    """For lockout and backoff. Keyed by the name typed, so unknown names behave like real ones."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "attempted_at"),
        Index("ix_login_attempt_client_at", "client_address", "attempted_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    username: str = Field(sa_column=Column(String(100), nullable=False))
    client_address: str = Field(sa_column=Column(String(64), nullable=False))
    succeeded: bool = Field(sa_column=Column(Boolean, nullable=False))
    attempted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class OidcLogin(SQLModel, table=True):
    """A browser's login at an OpenID provider, between the redirect there and the callback.

    Kept here, not in a cookie, so that it is used once (`used_at`) and shared by every
    replica. The state is stored as its SHA-256 and bound to the browser that began the login
    (`browser_hash`, the SHA-256 of a random cookie): a callback URL alone logs nobody in.
    """

    __tablename__ = "oidc_login"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    state_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    browser_hash: str = Field(sa_column=Column(String(64), nullable=False))
    issuer_name: str = Field(sa_column=Column(String(40), nullable=False))
    nonce: str = Field(sa_column=Column(String(100), nullable=False))
    code_verifier: str = Field(
        sa_column=Column(EncryptedString("oidc_login.code_verifier"), nullable=False)
    )
    next_path: str = Field(sa_column=Column(String(500), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
