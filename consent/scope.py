"""The one place that decides which cases an actor may see, and on what basis.

A `CaseScope` can only be made by `decide`; repositories of case data take one and cannot be
built without it. Deny by default: an actor with no basis gets an empty scope.

Bases:
- `own_agency`: social-services staff see the cases their own unit owns;
- `programme_coordinator`: a coordinator sees every case of the programmes they coordinate;
- `consent`: a contact person sees a case only while on its team, while the case is active,
  and while the effective consent (every required signer, intersected) covers their agency
  and at least the basic category; the categories it covers bound what they see in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from common.actor import Actor
from common.roles import AgencyKind, Role
from consent.rules import Category, EffectiveConsent

_TOKEN = object()
TEAM_VISIBILITY = "team"  # an entry shared within consent; "own_agency" stays with its author
SHARING_STATE = "active"  # paused, closed and declined cases are shared with nobody outside


class Basis:
    OWN_AGENCY = "own_agency"
    PROGRAMME_COORDINATOR = "programme_coordinator"
    CONSENT = "consent"
    BREAK_GLASS = "break_glass"
    SYSTEM = "system"  # a change the system made by rule, with no person behind it


class CaseKey(Protocol):
    """What the scope needs to know of a case it judges (a `Case` row has it)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def owner_agency_id(self) -> uuid.UUID: ...
    @property
    def programme(self) -> str: ...


@dataclass(frozen=True)
class PartnerCase:
    """What the decision needs to know about one case a contact person is on the team of."""

    state: str
    consent: EffectiveConsent


@dataclass(frozen=True)
class PartnerGrant:
    categories: frozenset[Category]
    agencies: frozenset[uuid.UUID]  # every agency the consent covers (the reader's among them)
    records: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class BreakGlass:
    grant_id: uuid.UUID
    expires_at: datetime


@dataclass(frozen=True)
class CaseScope:
    """Which cases an actor may see and how much of each. Social services sees its own unit's
    cases (`owner_agency_ids`) and a coordinator the cases of their programmes (`programmes`),
    in full; a contact person the cases of `partner_grants`, within the consented categories;
    a break-glass reader the cases of `break_glass`, in full, read-only."""

    actor: Actor
    owner_agency_ids: frozenset[uuid.UUID]
    programmes: frozenset[str]
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

    def manages(self, case: CaseKey) -> bool:
        """Social services reading (and changing) its own unit's or its programme's case."""
        return case.owner_agency_id in self.owner_agency_ids or case.programme in self.programmes

    def sees_in_full(self, case: CaseKey) -> bool:
        """Every category, no partner view: the managing unit, or break-glass."""
        return self.manages(case) or case.id in self.break_glass

    def categories_for(self, case: CaseKey) -> frozenset[Category]:
        if self.sees_in_full(case):
            return frozenset(Category)
        grant = self.partner_grants.get(case.id)
        return grant.categories if grant else frozenset()

    def agencies_for(self, case: CaseKey) -> frozenset[uuid.UUID] | None:
        """The agencies whose part of the case the reader may see; None: all of them."""
        if self.sees_in_full(case):
            return None
        grant = self.partner_grants.get(case.id)
        return (grant.agencies | {case.owner_agency_id}) if grant else frozenset()

    def sees_entry(
        self, case: CaseKey, *, category: str, visibility: str, author_agency_id: uuid.UUID
    ) -> bool:
        """DESIGN §3: a shared entry (minute item, commitment, assessment …) of a case this
        scope reaches is seen when its author's agency is the reader's, or when it is shared
        with the team (`visibility` "team") in a category the reader may see of the case.
        An `own_agency` entry never leaves its author's agency, not even to social services."""
        if author_agency_id == self.actor.agency_id:
            return True
        return visibility == TEAM_VISIBILITY and category in self.categories_for(case)

    def basis_for(self, case: CaseKey) -> dict[str, Any]:
        """The disclosure basis recorded in the audit event for a read this scope allowed."""
        if case.owner_agency_id in self.owner_agency_ids:
            return {"kind": Basis.OWN_AGENCY, "agency_id": str(case.owner_agency_id)}
        if case.programme in self.programmes:
            return {"kind": Basis.PROGRAMME_COORDINATOR, "programme": case.programme}
        emergency = self.break_glass.get(case.id)
        if emergency is not None:
            return {"kind": Basis.BREAK_GLASS, "grant_id": str(emergency.grant_id)}
        grant = self.partner_grants.get(case.id)
        if grant is not None:
            return {
                "kind": Basis.CONSENT,
                "consent_records": [str(record) for record in grant.records],
                "categories": sorted(grant.categories),
            }
        raise LookupError("no basis: the read should not have been allowed")

    def basis_for_person(
        self, *, owner_agency_id: uuid.UUID, cases: Sequence[CaseKey]
    ) -> dict[str, Any]:
        """The basis for reading a young person: their registering unit, or the first of
        their cases this scope reaches (a coordinator's programme, or break-glass)."""
        if owner_agency_id in self.owner_agency_ids:
            return {"kind": Basis.OWN_AGENCY, "agency_id": str(owner_agency_id)}
        for case in cases:
            try:
                return self.basis_for(case)
            except LookupError:
                continue
        raise LookupError("no basis: the read should not have been allowed")


def decide(
    actor: Actor,
    *,
    partner_cases: Mapping[uuid.UUID, PartnerCase],
    break_glass: Mapping[uuid.UUID, BreakGlass] | None = None,
) -> CaseScope:
    """`partner_cases`: the cases the actor is currently on the team of, as a contact person.
    `break_glass`: unexpired emergency grants, honoured for social-services staff only.
    A coordinator sees every case of the programmes they coordinate (`actor.programmes`), no
    other (DESIGN §1)."""
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
                grants[case_id] = PartnerGrant(
                    categories=consent.categories,
                    agencies=consent.agencies,
                    records=consent.basis,
                )
    coordinated = (
        actor.programmes if in_social_services and actor.has_role(Role.COORDINATOR) else frozenset()
    )
    return CaseScope(
        actor=actor,
        owner_agency_ids=own,
        programmes=coordinated,
        partner_grants=grants,
        break_glass=dict(break_glass or {}) if in_social_services else {},
        _token=_TOKEN,
    )
