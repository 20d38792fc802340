"""Builds the actor's case scope: gathers the facts `consent.scope.decide` needs.

Every service reading case data starts here. The scope is built once per request: it is kept
with the request's session (one session per request) and dropped when the session writes a
consent-gated row (a consent, a team change, a case move) or its transaction ends, so a change
takes effect within the same request and on the very next one.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Table, event
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from common.actor import Actor
from common.clock import STOCKHOLM, utcnow
from common.guard import ACCESS, GATED
from common.roles import AgencyKind, Role
from consent.rules import EffectiveConsent, SigningPolicy, effective_consent, required_signers
from consent.scope import BreakGlass, CaseScope, PartnerCase, decide
from domain.configuration.service import policy_or_default, signing_policy
from domain.consents.repository import CaseSituation, ScopeFacts


def effective_for(
    situation: CaseSituation, *, at: datetime, today: date, policy: SigningPolicy
) -> EffectiveConsent:
    """`policy` is the signing policy in force at `at` (`signing_policy(session, at=at)`)."""
    required = required_signers(
        birth_date=situation.birth_date, on=today, guardians=situation.guardians, policy=policy
    )
    return effective_consent(required=required, facts=situation.facts, at=at, today=today)


def effective_now(
    session: Session, case_id: uuid.UUID, *, at: datetime | None = None
) -> EffectiveConsent:
    """The consent in effect for one case now (or at `at`)."""
    situation = ScopeFacts(session).situations([case_id])[case_id]
    moment = at or utcnow()
    return _effective(situation, moment, signing_policy(session, at=moment))


def effective_with(
    session: Session, situation: CaseSituation, case_id: uuid.UUID
) -> EffectiveConsent:
    """The consent in effect now for a case whose state, birth date and guardians the caller
    has already read (`situation` without facts): only the consent records are read, with
    the signing policy in the same statement."""
    moment = utcnow()
    facts, stored = ScopeFacts(session).facts_with_policy([case_id], moment)
    situation.facts.extend(fact for _, fact in facts)
    return _effective(situation, moment, policy_or_default(stored))


def _effective(
    situation: CaseSituation, moment: datetime, policy: SigningPolicy
) -> EffectiveConsent:
    return effective_for(
        situation, at=moment, today=moment.astimezone(STOCKHOLM).date(), policy=policy
    )


_SCOPES = "samsyn_case_scopes"
_NO_BREAK_GLASS = "samsyn_holds_no_break_glass"


def case_scope(session: Session, actor: Actor, *, at: datetime | None = None) -> CaseScope:
    """The actor's scope now (kept for the session), or at `at` (computed afresh)."""
    if at is not None:
        return _decide(session, actor, at)
    scopes: dict[Actor, CaseScope] = session.info.setdefault(_SCOPES, {})
    scope = scopes.get(actor)
    if scope is None:
        no_grants = actor.user_id in session.info.get(_NO_BREAK_GLASS, ())
        scope = scopes[actor] = _decide(session, actor, utcnow(), no_break_glass=no_grants)
    return scope


def holds_no_break_glass(session: Session, actor: Actor) -> None:
    """Note that the actor held no unexpired emergency grant a moment ago, as the request's
    session lookup found (`auth.resolve`): the scope of now then does not ask again, one
    round trip less on every request. Forgotten with the scopes, so a grant this session
    writes, or a later transaction, is read as before; a scope at a past moment never uses
    it (a grant may have expired since)."""
    noted: set[uuid.UUID] = session.info.setdefault(_NO_BREAK_GLASS, set())
    noted.add(actor.user_id)


def _forget_scopes(session: OrmSession) -> None:
    session.info.pop(_SCOPES, None)
    session.info.pop(_NO_BREAK_GLASS, None)


def _is_gated(table: object) -> bool:
    return isinstance(table, Table) and table.info.get(ACCESS) == GATED


@event.listens_for(Session, "after_flush")
def _forget_after_gated_flush(session: Session, _context: object) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        if _is_gated(getattr(type(instance), "__table__", None)):
            _forget_scopes(session)
            return


@event.listens_for(Session, "do_orm_execute")
def _forget_after_gated_write(state: ORMExecuteState) -> None:
    if not state.is_select and _is_gated(getattr(state.statement, "table", None)):
        _forget_scopes(state.session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_at_transaction_end(session: Session, *_args: object) -> None:
    _forget_scopes(session)


def _decide(
    session: Session, actor: Actor, moment: datetime, *, no_break_glass: bool = False
) -> CaseScope:
    partner_cases: dict[uuid.UUID, PartnerCase] = {}
    repository = ScopeFacts(session)
    break_glass: dict[uuid.UUID, BreakGlass] = {}
    if actor.agency_kind is AgencyKind.SOCIAL_SERVICES and not no_break_glass:
        break_glass = repository.active_break_glass(actor.user_id, moment)
    if actor.has_role(Role.CONTACT_PERSON):
        today = moment.astimezone(STOCKHOLM).date()
        situations = repository.situations(repository.active_team_case_ids(actor.user_id))
        policy = signing_policy(session, at=moment)
        partner_cases = {
            case_id: PartnerCase(
                state=s.state, consent=effective_for(s, at=moment, today=today, policy=policy)
            )
            for case_id, s in situations.items()
        }
    return decide(actor, partner_cases=partner_cases, break_glass=break_glass)
