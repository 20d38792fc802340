"""The coordinator's consent tracker: what needs doing about consent, case by case."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import STOCKHOLM, utcnow
from common.roles import Permission
from consent.rules import EffectiveConsent, SigningPolicy, signer_changes_within
from consent.scope import SHARING_STATE
from domain.access import case_scope, effective_for
from domain.cases.repository import CaseRepository
from domain.configuration.service import signing_policy
from domain.consents.repository import CaseSituation, ScopeFacts

HORIZON_DAYS = 30
WATCHED_STATES = ("consent_pending", "active", "paused")


class Concern:
    MISSING = "missing"
    EXPIRING = "expiring"
    BIRTHDAY = "birthday"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


CONCERN_LABELS = {
    Concern.MISSING: "Underskrift saknas",
    Concern.EXPIRING: "Samtycke löper ut",
    Concern.BIRTHDAY: "Födelsedag ändrar vem som ska skriva under",
    Concern.REFUSED: "Samtycke nekat",
    Concern.WITHDRAWN: "Samtycke återkallat",
}


@dataclass(frozen=True)
class TrackerRow:
    case_id: uuid.UUID
    reference: str
    state: str
    state_reason: str
    young_person: str
    concern: str
    detail: str
    on: date | None


def ending_on(situation: CaseSituation, effective: EffectiveConsent) -> date | None:
    """The last day of the consent in force: the soonest end among the records it rests on
    (None: not complete, or in force until further notice)."""
    if not effective.complete:
        return None
    ends = [f.valid_until for f in situation.facts if f.id in effective.basis and f.valid_until]
    return min(ends, default=None)


def _concerns(
    situation: CaseSituation, *, now: datetime, today: date, days: int, policy: SigningPolicy
) -> list[tuple[str, str, date | None]]:
    effective = effective_for(situation, at=now, today=today, policy=policy)
    found: list[tuple[str, str, date | None]] = []
    for concern, signers in (
        (Concern.MISSING, effective.missing),
        (Concern.REFUSED, effective.refused),
        (Concern.WITHDRAWN, effective.withdrawn),
    ):
        found.extend(
            (concern, "den unga" if s.guardian_id is None else "en vårdnadshavare", None)
            for s in signers
        )
    soonest = ending_on(situation, effective)
    if soonest is not None and soonest <= today + timedelta(days=days):
        found.append((Concern.EXPIRING, f"gäller till och med {soonest.isoformat()}", soonest))
    found.extend(
        (Concern.BIRTHDAY, change.description, change.on)
        for change in signer_changes_within(
            birth_date=situation.birth_date, today=today, days=days, policy=policy
        )
    )
    return found


def consent_tracker(
    session: Session, actor: Actor, *, days: int = HORIZON_DAYS
) -> Sequence[TrackerRow]:
    """Rows for every open case in the actor's scope that lacks a signature, has consent
    expiring or a signer-changing birthday within `days`, or a refusal or withdrawal."""
    actor.require(Permission.RECORD_CONSENT)
    now = utcnow()
    today = now.astimezone(STOCKHOLM).date()
    scope = case_scope(session, actor)
    cases, _ = CaseRepository(session, scope).list_with_people(
        states=WATCHED_STATES, offset=0, limit=10_000
    )
    managed = [(c, p) for c, p in cases if scope.manages(c)]
    situations = ScopeFacts(session).situations([c.id for c, _ in managed])
    policy = signing_policy(session, at=now)
    rows = [
        TrackerRow(
            case.id,
            case.reference,
            case.state,
            case.state_reason,
            person.full_name,
            concern,
            detail,
            on,
        )
        for case, person in managed
        for concern, detail, on in _concerns(
            situations[case.id], now=now, today=today, days=days, policy=policy
        )
    ]
    shown = {r.case_id for r in rows}
    for case, _ in managed:  # the tracker shows names: each case shown is a read
        if case.id in shown:
            audit.record(
                session,
                actor,
                action="consent.tracker",
                resource_type="case",
                resource_id=case.id,
                case_id=case.id,
                basis=scope.basis_for(case),
            )
    rows.sort(key=lambda r: (r.on or today, r.reference))
    return rows


@dataclass(frozen=True)
class EndingConsent:
    """A case of the reader's whose consent ends within the horizon (the start page)."""

    case_id: uuid.UUID
    reference: str
    ends_on: date


def consents_ending(
    session: Session, actor: Actor, *, days: int = HORIZON_DAYS
) -> Sequence[EndingConsent]:
    """Active cases the actor is on the team of (or coordinates) whose consent in force ends
    within `days`, soonest first. A contact person's list is that of the consent that lets
    them see the case, so it tells them when their own access ends; nothing else of the
    consent is shown."""
    now = utcnow()
    today = now.astimezone(STOCKHOLM).date()
    scope = case_scope(session, actor)
    cases = CaseRepository(session, scope).of_member(
        actor.user_id, states=[SHARING_STATE], programmes=scope.programmes
    )
    situations = ScopeFacts(session).situations([case.id for case in cases])
    policy = signing_policy(session, at=now)
    rows = []
    for case in cases:
        situation = situations[case.id]
        effective = effective_for(situation, at=now, today=today, policy=policy)
        ends = ending_on(situation, effective)
        if ends is not None and ends <= today + timedelta(days=days):
            rows.append(EndingConsent(case.id, case.reference, ends))
            audit.record(
                session,
                actor,
                action="consent.ending",
                resource_type="case",
                resource_id=case.id,
                case_id=case.id,
                basis=scope.basis_for(case),
            )
    rows.sort(key=lambda row: (row.ends_on, row.reference))
    return rows
