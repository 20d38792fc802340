"""Builds the actor's case scope: gathers the facts `consent.scope.decide` needs.

Every service reading case data starts here; consent changes take effect on the very next
request because nothing is cached.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Session

import consent.guard  # noqa: F401 - installs the guard against unscoped reads
from common.actor import Actor
from common.clock import STOCKHOLM, utcnow
from common.roles import AgencyKind, Role
from consent.policy import signing_policy
from consent.rules import EffectiveConsent, effective_consent, required_signers
from consent.scope import BreakGlass, CaseScope, PartnerCase, decide
from domain.consents.repository import CaseSituation, ConsentRepository


def effective_for(situation: CaseSituation, *, at: datetime, today: date) -> EffectiveConsent:
    required = required_signers(
        birth_date=situation.birth_date,
        on=today,
        guardians=situation.guardians,
        policy=signing_policy(),
    )
    return effective_consent(required=required, facts=situation.facts, at=at, today=today)


def effective_now(
    session: Session, case_id: uuid.UUID, *, at: datetime | None = None
) -> EffectiveConsent:
    """The consent in effect for one case now (or at `at`)."""
    moment = at or utcnow()
    situation = ConsentRepository(session).situations([case_id])[case_id]
    return effective_for(situation, at=moment, today=moment.astimezone(STOCKHOLM).date())


def case_scope(session: Session, actor: Actor, *, at: datetime | None = None) -> CaseScope:
    partner_cases: dict[uuid.UUID, PartnerCase] = {}
    moment = at or utcnow()
    repository = ConsentRepository(session)
    break_glass: dict[uuid.UUID, BreakGlass] = {}
    if actor.agency_kind is AgencyKind.SOCIAL_SERVICES:
        break_glass = {
            grant.case_id: BreakGlass(grant_id=grant.id, expires_at=grant.expires_at)
            for grant in repository.active_break_glass(actor.user_id, moment)
        }
    if actor.has_role(Role.CONTACT_PERSON):
        today = moment.astimezone(STOCKHOLM).date()
        situations = repository.situations(repository.active_team_case_ids(actor.user_id))
        partner_cases = {
            case_id: PartnerCase(state=s.state, consent=effective_for(s, at=moment, today=today))
            for case_id, s in situations.items()
        }
    return decide(actor, partner_cases=partner_cases, break_glass=break_glass)
