"""The one place that decides which cases an actor may see, and on what basis.

A `CaseScope` can only be made by `decide`; repositories of case data take one and cannot be
built without it. Deny by default: an actor with no basis gets an empty scope.

Bases:
- `own_agency`: social-services staff see the cases their own unit owns;
- `programme_coordinator`: a coordinator sees every case of the programme;
- `consent`: a contact person sees a case only while on its team, while the case is active,
  and while the effective consent (every required signer, intersected) covers their agency
  and at least the basic category; the categories it covers bound what they see in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from common.actor import Actor
from common.roles import AgencyKind, Role
from consent.rules import Category, EffectiveConsent

_TOKEN = object()
SHARING_STATE = "active"  # paused, closed and declined cases are shared with nobody outside


class Basis:
    OWN_AGENCY = "own_agency"
    PROGRAMME_COORDINATOR = "programme_coordinator"
    CONSENT = "consent"
    BREAK_GLASS = "break_glass"
    SYSTEM = "system"  # a change the system made by rule, with no person behind it


@dataclass(frozen=True)
class PartnerCase:
    """What the decision needs to know about one case a contact person is on the team of."""

    state: str
    consent: EffectiveConsent


@dataclass(frozen=True)
class PartnerGrant:
    categories: frozenset[Category]
    records: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class BreakGlass:
    grant_id: uuid.UUID
    expires_at: datetime


@dataclass(frozen=True)
class CaseScope:
    actor: Actor
    all_cases: bool
    owner_agency_ids: frozenset[uuid.UUID]
    partner_grants: Mapping[uuid.UUID, PartnerGrant] = field(default_factory=dict)
    break_glass: Mapping[uuid.UUID, BreakGlass] = field(default_factory=dict)
    _token: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._token is not _TOKEN:
            raise TypeError("CaseScope is made by consent.scope.decide, nowhere else")

    @property
    def extra_case_ids(self) -> frozenset[uuid.UUID]:
        """Cases visible outside the actor's own unit: by consent, or by break-glass."""
        return frozenset(self.partner_grants) | frozenset(self.break_glass)

    def sees_everything_in(self, *, owner_agency_id: uuid.UUID) -> bool:
        """Social services reading its own or the programme's case: no category limits."""
        return self.all_cases or owner_agency_id in self.owner_agency_ids

    def categories_for(
        self, *, case_id: uuid.UUID, owner_agency_id: uuid.UUID
    ) -> frozenset[Category]:
        if self.sees_everything_in(owner_agency_id=owner_agency_id) or case_id in self.break_glass:
            return frozenset(Category)
        grant = self.partner_grants.get(case_id)
        return grant.categories if grant else frozenset()

    def basis_for(
        self, *, owner_agency_id: uuid.UUID, case_id: uuid.UUID | None = None
    ) -> dict[str, Any]:
        """The disclosure basis recorded in the audit event for a read this scope allowed."""
        if owner_agency_id in self.owner_agency_ids:
            return {"kind": Basis.OWN_AGENCY, "agency_id": str(owner_agency_id)}
        if self.all_cases:
            return {"kind": Basis.PROGRAMME_COORDINATOR}
        emergency = self.break_glass.get(case_id) if case_id else None
        if emergency is not None:
            return {"kind": Basis.BREAK_GLASS, "grant_id": str(emergency.grant_id)}
        grant = self.partner_grants.get(case_id) if case_id else None
        if grant is not None:
            return {
                "kind": Basis.CONSENT,
                "consent_records": [str(record) for record in grant.records],
                "categories": sorted(grant.categories),
            }
        raise LookupError("no basis: the read should not have been allowed")


def decide(
    actor: Actor,
    *,
    partner_cases: Mapping[uuid.UUID, PartnerCase],
    break_glass: Mapping[uuid.UUID, BreakGlass] | None = None,
) -> CaseScope:
    """`partner_cases`: the cases the actor is currently on the team of, as a contact person.
    `break_glass`: unexpired emergency grants, honoured for social-services staff only."""
    in_social_services = actor.agency_kind is AgencyKind.SOCIAL_SERVICES
    own = (
        frozenset({actor.agency_id})
        if in_social_services and actor.has_role(Role.SOCIAL_WORKER)
        else frozenset()
    )
    grants: dict[uuid.UUID, PartnerGrant] = {}
    if actor.has_role(Role.CONTACT_PERSON):
        for case_id, case in partner_cases.items():
            consent = case.consent
            if case.state == SHARING_STATE and consent.covers(actor.agency_id, Category.BASIC):
                grants[case_id] = PartnerGrant(categories=consent.categories, records=consent.basis)
    return CaseScope(
        actor=actor,
        all_cases=in_social_services and actor.has_role(Role.COORDINATOR),
        owner_agency_ids=own,
        partner_grants=grants,
        break_glass=dict(break_glass or {}) if in_social_services else {},
        _token=_TOKEN,
    )
