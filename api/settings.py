"""Configuration from the environment (prefix SAMSYN_). See the README's table."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.files import private_directory
from common.roles import Role
from domain.auth.oidc import IssuerConfig

OIDC_SECRET_PREFIX = "SAMSYN_OIDC_CLIENT_SECRET_"  # noqa: S105 - a variable name


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class OidcIssuerSettings(BaseModel):
    """One trusted OpenID provider, from the JSON list in `SAMSYN_OIDC_ISSUERS`.

    The client secret is never part of it: it comes from `SAMSYN_OIDC_CLIENT_SECRET_<NAME>`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)
    label: str = Field(min_length=1, max_length=100)
    issuer: str = Field(min_length=1, max_length=300)
    client_id: str = Field(min_length=1, max_length=200)
    agency: str = Field(min_length=1, max_length=200)
    role_claim: str = Field(min_length=1, max_length=100)
    role_map: dict[str, Role] = Field(min_length=1)
    scopes: str = "openid profile"
    # The API audience of the provider's access tokens for Samsyn; unset: no bearer tokens.
    audience: str | None = Field(default=None, min_length=1, max_length=300)
    required_acr: list[str] = Field(default_factory=list, max_length=20)
    required_amr: list[str] = Field(default_factory=list, max_length=20)
    required_claims: dict[str, str] = Field(default_factory=dict, max_length=20)

    @model_validator(mode="after")
    def _audience_is_not_the_client_id(self) -> OidcIssuerSettings:
        if self.audience is not None and self.audience == self.client_id:
            raise ValueError(
                "audience must be the API's own resource identifier, not the client id "
                "(an ID token is issued to the client id)"
            )
        return self

    @field_validator("issuer")
    @classmethod
    def _issuer_is_a_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an http(s) URL, e.g. https://login.example.se")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or a fragment")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes_ask_for_openid(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError('must include "openid"')
        return " ".join(value.split())

    @property
    def secret_variable(self) -> str:
        return OIDC_SECRET_PREFIX + self.name.upper().replace("-", "_")

    def with_secret(self, env: Mapping[str, str]) -> IssuerConfig:
        secret = env.get(self.secret_variable, "")
        if not secret:
            raise ValueError(
                f"OpenID issuer {self.name!r}: set the client secret in {self.secret_variable}"
            )
        return IssuerConfig(
            name=self.name,
            label=self.label,
            issuer=self.issuer,
            client_id=self.client_id,
            client_secret=secret,
            agency=self.agency,
            role_claim=self.role_claim,
            role_map=dict(self.role_map),
            scopes=self.scopes,
            audience=self.audience,
            required_acr=tuple(self.required_acr),
            required_amr=tuple(self.required_amr),
            required_claims=dict(self.required_claims),
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAMSYN_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("data")
    database_url: str | None = None
    key_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    demo: bool = False
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=10, ge=1)
    api_token_idle_minutes: int = Field(default=15, ge=1)
    api_token_absolute_minutes: int = Field(default=60, ge=1)
    cookie_secure: bool | None = None
    totp_required: bool | None = None
    consent_young_person_from_age: int = Field(default=15, ge=1, le=18)
    consent_adult_age: int = Field(default=18, ge=1, le=21)
    audit_origin: str = Field(default="samsyn/audit", pattern=r"^[A-Za-z0-9._/-]{1,100}$")
    audit_export_dir: Path | None = None
    audit_sequencer_interval_ms: int = Field(default=200, ge=50, le=60_000)
    # The log's verifier key (C2SP vkey, `samsyn audit public-key`), for `samsyn audit verify`
    # on a machine that does not hold the signing key. Public: not a secret.
    audit_verifier_key: str | None = None
    # /healthz reports the audit log degraded when an event has waited this long for its
    # position, or the export directory's note has lagged behind the log this long.
    audit_stall_seconds: int = Field(default=120, ge=5, le=86_400)
    # How often cases are moved for consent that time changed (expiry, birthdays); 0 = never.
    consent_sweep_interval_seconds: int = Field(default=300, ge=0, le=86_400)
    # Requests handled at once by one server process; more wait for a place, in arrival order
    # (api.middleware.RequestLimit). One process runs Python on one core at a time.
    max_concurrent_requests: int = Field(default=32, ge=1, le=1_000)
    oidc_issuers: list[OidcIssuerSettings] = Field(default_factory=list)
    public_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses or
    # networks, comma-separated. Empty: none, the client address is the connection's peer.
    trusted_proxies: str = Field(default="", max_length=2000)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/24)"
                ) from None
        return ",".join(entries)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @field_validator("oidc_issuers")
    @classmethod
    def _issuers_are_distinct(cls, issuers: list[OidcIssuerSettings]) -> list[OidcIssuerSettings]:
        for label, values in (
            ("name", [i.name for i in issuers]),
            ("secret variable", [i.secret_variable for i in issuers]),
            ("issuer", [i.issuer.rstrip("/") for i in issuers]),
        ):
            seen: set[str] = set()
            for value in values:
                if value in seen:
                    raise ValueError(f"two OpenID issuers have the same {label}: {value!r}")
                seen.add(value)
        return issuers

    @model_validator(mode="after")
    def _production_needs_a_real_database(self) -> Settings:
        if self.env is Environment.PRODUCTION and not self.database_url:
            raise ValueError("production needs SAMSYN_DATABASE_URL (PostgreSQL)")
        if self.env is Environment.PRODUCTION and self.resolved_database_url.startswith("sqlite"):
            raise ValueError("production refuses SQLite: set SAMSYN_DATABASE_URL to PostgreSQL")
        if self.is_production and self.demo:
            raise ValueError(
                "production refuses the demo (SAMSYN_DEMO / --demo): its accounts have a "
                "published password and no second factor"
            )
        if self.totp_required is False and not self.demo:
            raise ValueError("SAMSYN_TOTP_REQUIRED=false is allowed only in the demo")
        if self.is_production:
            for issuer in self.oidc_issuers:
                if urlsplit(issuer.issuer).scheme != "https":
                    raise ValueError(f"OpenID issuer {issuer.name!r}: production needs https")
        return self

    def oidc_issuer_configs(self, env: Mapping[str, str]) -> tuple[IssuerConfig, ...]:
        """The issuers with their client secrets from `env`; a missing secret is an error."""
        return tuple(issuer.with_secret(env) for issuer in self.oidc_issuers)

    @property
    def second_factor_required(self) -> bool:
        """TOTP for every role that reads case data; only the demo may go without."""
        return self.totp_required if self.totp_required is not None else not self.demo

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'samsyn.db').resolve()}"

    def prepare_data_dir(self) -> None:
        """Outside production the data directory holds the SQLite database and the generated
        keys: create it 0700, or tighten it to 0700 if others may enter it."""
        if not self.is_production:
            private_directory(self.data_dir)

    @property
    def resolved_key_dir(self) -> Path:
        return self.key_dir or self.data_dir / "keys"

    @property
    def secure_cookies(self) -> bool:
        """`Secure` everywhere but plain-HTTP local development."""
        return self.cookie_secure if self.cookie_secure is not None else self.is_production

    @property
    def browser_session_idle(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)

    @property
    def browser_session_absolute(self) -> timedelta:
        return timedelta(hours=self.session_absolute_hours)
