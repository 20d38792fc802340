"""Who is acting: built once per request by authentication, passed to every service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from common.errors import Forbidden
from common.roles import PERMISSIONS, AgencyKind, Permission, Role


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID
    agency_id: uuid.UUID
    agency_kind: AgencyKind
    roles: frozenset[Role]
    programmes: frozenset[str] = frozenset()  # the programmes a coordinator coordinates

    def can(self, permission: Permission) -> bool:
        return any(permission in PERMISSIONS[role] for role in self.roles)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden()

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def primary_role(self) -> Role:
        """The role recorded in audit events: the most privileged one the actor holds."""
        for role in Role:
            if role in self.roles:
                return role
        raise ValueError("actor without roles")
