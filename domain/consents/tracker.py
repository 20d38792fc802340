"""The coordinator's consent tracker: what needs doing about consent, case by case."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import STOCKHOLM, utcnow
from common.errors import FieldError
from common.roles import Permission
from consent.rules import (
    Decision,
    EffectiveConsent,
    Signer,
    SignerKind,
    SigningPolicy,
    birthday,
    signer_changes_within,
)
from consent.scope import SHARING_STATE
from domain.access import case_scope, effective_for
from domain.cases.repository import CaseRepository
from domain.cases.rules import Programme
from domain.configuration.service import signing_policy
from domain.consents.repository import CaseSituation, ScopeFacts
from domain.people.repository import YoungPersonRepository
from domain.users.repository import UserRepository

HORIZON_DAYS = 30
# Declined cases stay in view: a refusal is something to follow up (close the case, or record
# a new decision), and the tracker promises to list refusals.
WATCHED_STATES = ("consent_pending", "active", "paused", "declined")


class Concern:
    MISSING = "missing"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRING = "expiring"
    BIRTHDAY = "birthday"


CONCERN_LABELS = {  # in the order "by kind" sorts: what stops the case first
    Concern.REFUSED: "Samtycke nekat",
    Concern.WITHDRAWN: "Samtycke återkallat",
    Concern.MISSING: "Underskrift saknas",
    Concern.EXPIRING: "Samtycke löper ut",
    Concern.BIRTHDAY: "Födelsedag ändrar vem som ska skriva under",
}
CONCERN_ORDER = list(CONCERN_LABELS)


class Sort:
    DATE = "date"
    CASE = "case"
    CONCERN = "concern"
    YOUNG_PERSON = "young_person"


SORT_LABELS = {
    Sort.DATE: "Datum, äldst först",
    Sort.CASE: "Ärende",
    Sort.CONCERN: "Typ av bevakning",
    Sort.YOUNG_PERSON: "Ung person",
}
PROGRAMMES = tuple(p.value for p in Programme)


@dataclass(frozen=True)
class TrackerRow:
    case_id: uuid.UUID
    reference: str
    programme: str
    state: str
    state_reason: str
    young_person: str
    owner_id: uuid.UUID
    owner_name: str
    concern: str
    signer: str | None  # who the concern is about: "den unga" or a guardian by name
    detail: str
    # The date the concern is about: since when it holds (a refusal's first day, a
    # withdrawal, since when a signature is missing), or, when `upcoming`, when it will.
    on: date
    upcoming: bool


@dataclass(frozen=True)
class TrackerQuery:
    """The filters and order as the reader gave them (query parameters); empty is "all"."""

    programme: str = ""
    owner: str = ""
    concern: str = ""
    sort: str = ""


@dataclass(frozen=True)
class TrackerResult:
    rows: Sequence[TrackerRow]
    total: int  # rows before the filters
    cases: int  # distinct cases among `rows`
    owners: Sequence[tuple[uuid.UUID, str]]  # the case owners one can filter by, by name
    # Filters that were not understood and so not applied; each names its field.
    errors: Sequence[FieldError]
    applied: TrackerQuery  # the filters applied (those in `errors` emptied), the order used


def ending_on(situation: CaseSituation, effective: EffectiveConsent) -> date | None:
    """The last day of the consent in force: the soonest end among the records it rests on
    (None: not complete, or in force until further notice)."""
    if not effective.complete:
        return None
    ends = [f.valid_until for f in situation.facts if f.id in effective.basis and f.valid_until]
    return min(ends, default=None)


def missing_since(
    signer: Signer, situation: CaseSituation, *, opened_on: date, policy: SigningPolicy
) -> date:
    """Since when a required signer's consent has been missing: since the case opened, the
    young person's birthday that made them a signer, or the day after their last consent
    ran out, whichever is latest."""
    since = opened_on
    if signer.kind is SignerKind.YOUNG_PERSON:
        since = max(since, birthday(situation.birth_date, policy.young_person_from_age))
    ends = [
        f.valid_until
        for f in situation.facts
        if f.signer == signer and f.decision is Decision.GIVEN and f.valid_until is not None
    ]
    if ends:
        since = max(since, max(ends) + timedelta(days=1))
    return since


def refused_since(signer: Signer, situation: CaseSituation, *, today: date) -> date | None:
    """The first day of the refusal now in force for `signer` (the latest refusal recorded
    that has begun)."""
    refusals = [
        f
        for f in situation.facts
        if f.signer == signer and f.decision is Decision.REFUSED and f.valid_from <= today
    ]
    latest = max(refusals, key=lambda f: (f.recorded_at, f.id), default=None)
    return latest.valid_from if latest else None


def withdrawn_since(signer: Signer, situation: CaseSituation) -> date | None:
    """The day (Stockholm) of the signer's latest withdrawal."""
    withdrawals = [f.withdrawn_at for f in situation.facts if f.signer == signer and f.withdrawn_at]
    latest = max(withdrawals, default=None)
    return latest.astimezone(STOCKHOLM).date() if latest else None


@dataclass(frozen=True)
class _Found:
    concern: str
    signer: Signer | None
    detail: str
    on: date
    upcoming: bool


def _concerns(
    situation: CaseSituation,
    *,
    opened_on: date,
    now: datetime,
    today: date,
    days: int,
    policy: SigningPolicy,
) -> list[_Found]:
    effective = effective_for(situation, at=now, today=today, policy=policy)
    found: list[_Found] = []
    for signer in sorted(effective.refused, key=_signer_order):
        since = refused_since(signer, situation, today=today) or opened_on
        found.append(_Found(Concern.REFUSED, signer, "har nekat samtycke", since, False))
    for signer in sorted(effective.withdrawn, key=_signer_order):
        since = withdrawn_since(signer, situation) or opened_on
        found.append(_Found(Concern.WITHDRAWN, signer, "har återkallat samtycket", since, False))
    for signer in sorted(effective.missing, key=_signer_order):
        since = missing_since(signer, situation, opened_on=opened_on, policy=policy)
        detail = "samtycket har gått ut" if signer in effective.lapsed else "har inte skrivit under"
        found.append(_Found(Concern.MISSING, signer, detail, since, False))
    soonest = ending_on(situation, effective)
    if soonest is not None and soonest <= today + timedelta(days=days):
        found.append(
            _Found(
                Concern.EXPIRING, None, f"gäller till och med {soonest.isoformat()}", soonest, True
            )
        )
    found.extend(
        _Found(Concern.BIRTHDAY, None, change.description, change.on, True)
        for change in signer_changes_within(
            birth_date=situation.birth_date, today=today, days=days, policy=policy
        )
    )
    return found


def _signer_order(signer: Signer) -> tuple[int, str]:
    return (0 if signer.guardian_id is None else 1, str(signer.guardian_id or ""))


def _parse(
    query: TrackerQuery, owners: dict[uuid.UUID, str]
) -> tuple[TrackerQuery, list[FieldError]]:
    """The filters understood, and an error naming each one that was not (it is dropped)."""
    errors: list[FieldError] = []
    programme, owner, concern, sort = query.programme, query.owner, query.concern, query.sort
    if programme and programme not in PROGRAMMES:
        errors.append(
            FieldError("programme", "Välj program i listan: SSPF eller SIG. Filtret används inte.")
        )
        programme = ""
    if owner:
        try:
            known = uuid.UUID(owner) in owners
        except ValueError:
            known = False
        if not known:
            errors.append(
                FieldError("owner", "Välj en ansvarig handläggare i listan. Filtret används inte.")
            )
            owner = ""
    if concern and concern not in CONCERN_LABELS:
        errors.append(
            FieldError("concern", "Välj typ av bevakning i listan. Filtret används inte.")
        )
        concern = ""
    if sort and sort not in SORT_LABELS:
        errors.append(FieldError("sort", "Välj sortering i listan. Listan sorteras på datum."))
        sort = ""
    return TrackerQuery(programme, owner, concern, sort or Sort.DATE), errors


def _sort_key(sort: str) -> Callable[[TrackerRow], tuple[object, ...]]:
    def by_date(row: TrackerRow) -> tuple[object, ...]:
        return (row.on, row.reference, CONCERN_ORDER.index(row.concern))

    if sort == Sort.CASE:
        return lambda row: (row.reference, CONCERN_ORDER.index(row.concern), row.on)
    if sort == Sort.CONCERN:
        return lambda row: (CONCERN_ORDER.index(row.concern), row.on, row.reference)
    if sort == Sort.YOUNG_PERSON:
        return lambda row: (row.young_person.casefold(), row.reference, *by_date(row))
    return by_date


def consent_tracker(
    session: Session,
    actor: Actor,
    *,
    days: int = HORIZON_DAYS,
    query: TrackerQuery | None = None,
) -> TrackerResult:
    """Rows for every watched case in the actor's scope that lacks a signature, has a refusal
    or withdrawal, or has consent expiring or a signer-changing birthday within `days`;
    filtered and ordered by `query`. Only the cases shown are read (and audited)."""
    actor.require(Permission.RECORD_CONSENT)
    now = utcnow()
    today = now.astimezone(STOCKHOLM).date()
    scope = case_scope(session, actor)
    cases, _ = CaseRepository(session, scope).list_with_people(
        states=WATCHED_STATES, offset=0, limit=10_000
    )
    managed = [(c, p) for c, p in cases if scope.manages(c)]
    owner_names = {
        user_id: name
        for user_id, (name, _agency) in UserRepository(session)
        .names({c.owner_user_id for c, _ in managed})
        .items()
    }
    applied, errors = _parse(query or TrackerQuery(), owner_names)
    situations = ScopeFacts(session).situations_of([(c, p.birth_date) for c, p in managed])
    policy = signing_policy(session, at=now)
    people = YoungPersonRepository(session, scope)
    total = 0
    rows: list[TrackerRow] = []
    shown: list[audit.Target] = []
    for case, person in managed:
        found = _concerns(
            situations[case.id],
            opened_on=case.opened_at.astimezone(STOCKHOLM).date(),
            now=now,
            today=today,
            days=days,
            policy=policy,
        )
        total += len(found)
        if applied.programme and case.programme != applied.programme:
            continue
        if applied.owner and str(case.owner_user_id) != applied.owner:
            continue
        found = [f for f in found if not applied.concern or f.concern == applied.concern]
        if not found:
            continue
        guardians: dict[uuid.UUID | None, str] = {}
        if any(f.signer and f.signer.guardian_id for f in found):
            guardians = {g.id: f"{g.name} (vårdnadshavare)" for g in people.guardians_of(person)}
        rows.extend(
            TrackerRow(
                case_id=case.id,
                reference=case.reference,
                programme=case.programme,
                state=case.state,
                state_reason=case.state_reason,
                young_person=person.full_name,
                owner_id=case.owner_user_id,
                owner_name=owner_names.get(case.owner_user_id, ""),
                concern=f.concern,
                signer=None
                if f.signer is None
                else "den unga"
                if f.signer.guardian_id is None
                else guardians.get(f.signer.guardian_id, "en vårdnadshavare"),
                detail=f.detail,
                on=f.on,
                upcoming=f.upcoming,
            )
            for f in found
        )
        shown.append(
            audit.Target(resource_id=case.id, case_id=case.id, basis=scope.basis_for(case))
        )
    # the tracker shows names: each case shown is a read, with an event of its own
    audit.record_many(session, actor, action="consent.tracker", resource_type="case", targets=shown)
    rows.sort(key=_sort_key(applied.sort))
    return TrackerResult(
        rows=rows,
        total=total,
        cases=len({row.case_id for row in rows}),
        owners=sorted(owner_names.items(), key=lambda item: item[1].casefold()),
        errors=errors,
        applied=applied,
    )


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
    horizon = today + timedelta(days=days)
    cases = CaseRepository(session, scope).of_member(
        actor.user_id,
        states=[SHARING_STATE],
        programmes=scope.programmes,
        consent_valid_until=(today, horizon),
    )
    situations = ScopeFacts(session).situations([case.id for case in cases])
    policy = signing_policy(session, at=now)
    rows = []
    shown: list[audit.Target] = []
    for case in cases:
        situation = situations[case.id]
        effective = effective_for(situation, at=now, today=today, policy=policy)
        ends = ending_on(situation, effective)
        if ends is not None and ends <= horizon:
            rows.append(EndingConsent(case.id, case.reference, ends))
            shown.append(
                audit.Target(resource_id=case.id, case_id=case.id, basis=scope.basis_for(case))
            )
    audit.record_many(session, actor, action="consent.ending", resource_type="case", targets=shown)
    rows.sort(key=lambda row: (row.ends_on, row.reference))
    return rows
