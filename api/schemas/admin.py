"""The administrator's JSON API: agencies and user accounts. No case data."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from domain.agencies.models import Agency
from domain.users.service import Account

_VERSION = "The version this change is based on (from GET); a stale one gets 409"


class AgencyIn(BaseModel):
    name: str = Field(max_length=400)
    kind: str = Field(max_length=32, description="social_services, school, police, leisure, other")
    area: str | None = Field(default=None, max_length=400, description="The area it serves")


class AgencyUpdateIn(AgencyIn):
    version: int = Field(description=_VERSION)


class ActivationIn(BaseModel):
    active: bool = Field(description="false deactivates, true reactivates")
    version: int = Field(description=_VERSION)


class VersionIn(BaseModel):
    version: int = Field(description=_VERSION)


class AgencyOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    area: str | None
    active: bool
    deactivated_at: datetime | None
    version: int

    @classmethod
    def of(cls, agency: Agency) -> AgencyOut:
        return cls(
            id=agency.id,
            name=agency.name,
            kind=agency.kind,
            area=agency.area,
            active=agency.deactivated_at is None,
            deactivated_at=agency.deactivated_at,
            version=agency.version,
        )


class AgencyListOut(BaseModel):
    items: list[AgencyOut]


class UserIn(BaseModel):
    username: str = Field(max_length=200)
    display_name: str = Field(max_length=400)
    agency_id: uuid.UUID
    roles: list[str] = Field(max_length=10)
    programmes: list[str] = Field(default_factory=list, max_length=10)
    password: str | None = Field(
        default=None,
        max_length=500,
        description="An initial password; none: the account cannot log in with a password",
    )


class UserUpdateIn(BaseModel):
    agency_id: uuid.UUID
    roles: list[str] = Field(max_length=10)
    programmes: list[str] = Field(default_factory=list, max_length=10)
    version: int = Field(description=_VERSION)


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    agency_id: uuid.UUID
    agency_name: str
    roles: list[str]
    programmes: list[str]
    active: bool
    federated: bool
    second_factor_enrolled: bool
    last_login_at: datetime | None
    locked_until: datetime | None = Field(description="Set while failed logins lock it out")
    version: int

    @classmethod
    def of(cls, account: Account) -> UserOut:
        user = account.user
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            agency_id=account.agency.id,
            agency_name=account.agency.name,
            roles=list(user.roles),
            programmes=list(user.programmes),
            active=user.is_active,
            federated=user.is_federated,
            second_factor_enrolled=user.totp_enabled_at is not None,
            last_login_at=account.last_login_at,
            locked_until=account.locked_until,
            version=user.version,
        )


class UserListOut(BaseModel):
    items: list[UserOut]
