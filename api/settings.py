"""Configuration from the environment (prefix SAMSYN_). See the README's table."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


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
    audit_sequencer_interval_ms: int = Field(default=500, ge=50, le=60_000)
    # How often cases are moved for consent that time changed (expiry, birthdays); 0 = never.
    consent_sweep_interval_seconds: int = Field(default=300, ge=0, le=86_400)

    @model_validator(mode="after")
    def _production_needs_a_real_database(self) -> Settings:
        if self.env is Environment.PRODUCTION and not self.database_url:
            raise ValueError("production needs SAMSYN_DATABASE_URL (PostgreSQL)")
        if self.env is Environment.PRODUCTION and self.resolved_database_url.startswith("sqlite"):
            raise ValueError("production refuses SQLite: set SAMSYN_DATABASE_URL to PostgreSQL")
        if self.totp_required is False and not self.demo:
            raise ValueError("SAMSYN_TOTP_REQUIRED=false is allowed only in the demo")
        return self

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
