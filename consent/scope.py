"""The one place that decides which cases an actor may see, and on what basis.

A `CaseScope` can only be made by `scope_for`; repositories of case data take one and cannot
be built without it. Deny by default: an actor with no basis gets an empty scope.

Bases today:
- `own_agency`: social-services staff see the cases their own unit owns;
- `programme_coordinator`: a coordinator sees every case of the programme;
- `team` : partners on a case's team, once consent covers them (the consent rules arrive
  with the consent records; until then partners see nothing).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from common.actor import Actor
from common.roles import AgencyKind, Role

_TOKEN = object()


class Basis:
    OWN_AGENCY = "own_agency"
    PROGRAMME_COORDINATOR = "programme_coordinator"


@dataclass(frozen=True)
class CaseScope:
    actor: Actor
    all_cases: bool
    owner_agency_ids: frozenset[uuid.UUID]
    team_case_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    _token: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._token is not _TOKEN:
            raise TypeError("CaseScope is made by consent.scope.scope_for, nowhere else")

    @property
    def is_empty(self) -> bool:
        return not (self.all_cases or self.owner_agency_ids or self.team_case_ids)

    def basis_for(self, *, owner_agency_id: uuid.UUID) -> dict[str, Any]:
        """The disclosure basis recorded in the audit event for a read this scope allowed."""
        if owner_agency_id in self.owner_agency_ids:
            return {"kind": Basis.OWN_AGENCY, "agency_id": str(owner_agency_id)}
        if self.all_cases:
            return {"kind": Basis.PROGRAMME_COORDINATOR}
        raise LookupError("no basis: the read should not have been allowed")


def scope_for(session: Session, actor: Actor) -> CaseScope:  # noqa: ARG001 - team grants will query
    in_social_services = actor.agency_kind is AgencyKind.SOCIAL_SERVICES
    own = (
        frozenset({actor.agency_id})
        if in_social_services and actor.has_role(Role.SOCIAL_WORKER)
        else frozenset()
    )
    return CaseScope(
        actor=actor,
        all_cases=in_social_services and actor.has_role(Role.COORDINATOR),
        owner_agency_ids=own,
        _token=_TOKEN,
    )
