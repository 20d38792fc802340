"""The consent rules of DESIGN §2: who must sign, effective consent at an instant, and what the
case lifecycle should do about it. Pure: no database, no web framework, no `domain` imports
(consent sits below domain in the layering, so the few things it needs are defined here).

Effective consent for a signer at instant `at` (local date `today`):

1. Only records recorded at or before `at` exist.
2. The record *in force* is the latest recorded one whose validity period contains `today`: a
   later record (a correction) supersedes an earlier one where their periods overlap. On equal
   `recorded_at` the refusal wins (then the larger id), so the choice never depends on order.
3. A withdrawal at instant `w` ends what the signer had said up to `w`: the withdrawn record and
   every record of that signer recorded at or before `w`. Only a record recorded after `w` can
   give consent again. (So an older record with a longer period cannot come back to life once
   the withdrawn correction that superseded it runs out.)
4. The signer is then *given* (the record in force is GIVEN and not ended by a withdrawal),
   *refused* (it is REFUSED and not itself withdrawn), *withdrawn* (it is GIVEN but ended by a
   withdrawal, or a withdrawn refusal; or nothing is in force and the signer's latest GIVEN
   record was ended by a withdrawal) or else *missing* (nothing in force).

Consent is complete when at least one signer is required and every required signer is given;
its scope is the intersection of the scopes of the records in force.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


class Category(StrEnum):
    BASIC = "basic"
    SCHOOL = "school"
    SOCIAL = "social"
    POLICE = "police"
    LEISURE = "leisure"
    HEALTH = "health"
    RISK = "risk"
    PLAN = "plan"


CATEGORY_LABELS: dict[Category, str] = {
    Category.BASIC: "Grunduppgifter",
    Category.SCHOOL: "Skola",
    Category.SOCIAL: "Socialtjänst",
    Category.POLICE: "Polis",
    Category.LEISURE: "Fritid",
    Category.HEALTH: "Hälsa",
    Category.RISK: "Riskbedömning",
    Category.PLAN: "Planering och möten",
}


class SignerKind(StrEnum):
    YOUNG_PERSON = "young_person"
    GUARDIAN = "guardian"


class Decision(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"


@dataclass(frozen=True)
class Signer:
    kind: SignerKind
    guardian_id: uuid.UUID | None = None  # set iff kind is GUARDIAN

    def __post_init__(self) -> None:
        if (self.kind is SignerKind.GUARDIAN) != (self.guardian_id is not None):
            raise ValueError("guardian_id is set for a guardian and only for a guardian")

    @classmethod
    def guardian(cls, guardian_id: uuid.UUID) -> Signer:
        return cls(SignerKind.GUARDIAN, guardian_id)


YOUNG_PERSON = Signer(SignerKind.YOUNG_PERSON)


@dataclass(frozen=True)
class SigningPolicy:
    """Who must sign, per municipality (DESIGN §2). Defaults: guardians with custody while the
    young person is under `adult_age`; the young person too from `young_person_from_age`;
    the young person alone from `adult_age`."""

    young_person_from_age: int = 15
    adult_age: int = 18

    def __post_init__(self) -> None:
        if not 0 < self.young_person_from_age <= self.adult_age:
            raise ValueError(
                "SigningPolicy needs 0 < young_person_from_age <= adult_age, got "
                f"{self.young_person_from_age} and {self.adult_age}"
            )


@dataclass(frozen=True)
class GuardianInfo:
    id: uuid.UUID
    has_custody: bool


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years; someone born 29 February turns a year older on 1 March in other years.

    The same rule as `domain.people.personnummer.age_on` (a test keeps the two in step).
    """
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def birthday(birth_date: date, age: int) -> date:
    """The first day on which someone born on `birth_date` is `age` years old."""
    year = birth_date.year + age
    try:
        return birth_date.replace(year=year)
    except ValueError:  # 29 February in a year that has none
        return date(year, 3, 1)


def required_signers(
    *,
    birth_date: date,
    on: date,
    guardians: Sequence[GuardianInfo],
    policy: SigningPolicy,
) -> frozenset[Signer]:
    """Who must sign on `on`: every guardian with custody while the young person is under
    `policy.adult_age`, and the young person from `policy.young_person_from_age`.

    No guardian with custody under `adult_age` leaves only the young person (if old enough) or
    nobody; an empty requirement is never satisfied (see `effective_consent`).
    """
    age = age_on(birth_date, on)
    signers: set[Signer] = set()
    if age < policy.adult_age:
        signers.update(Signer.guardian(g.id) for g in guardians if g.has_custody)
    if age >= policy.young_person_from_age:
        signers.add(YOUNG_PERSON)
    return frozenset(signers)


@dataclass(frozen=True)
class ConsentFact:
    """One immutable consent record, as the rules see it."""

    id: uuid.UUID
    signer: Signer
    decision: Decision
    valid_from: date
    valid_until: date | None  # inclusive; None = until further notice
    agencies: frozenset[uuid.UUID]
    categories: frozenset[Category]
    recorded_at: datetime  # tz-aware; a later record for the same signer supersedes earlier ones
    withdrawn_at: datetime | None = None  # from a separate withdrawal record; effective then

    def __post_init__(self) -> None:
        _require_aware(self.recorded_at, "recorded_at")
        if self.withdrawn_at is not None:
            _require_aware(self.withdrawn_at, "withdrawn_at")
            if self.withdrawn_at < self.recorded_at:
                raise ValueError("a consent record cannot be withdrawn before it was recorded")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def withdrawn_by(self, at: datetime) -> bool:
        return self.withdrawn_at is not None and self.withdrawn_at <= at


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True)
class EffectiveConsent:
    """The consent in effect at one instant. Scope and basis are empty unless `complete`; every
    required signer who is not given is in exactly one of `missing`, `refused`, `withdrawn`."""

    complete: bool  # every required signer is given (and at least one signer is required)
    agencies: frozenset[uuid.UUID]  # intersection over the records in force
    categories: frozenset[Category]  # intersection likewise
    basis: tuple[uuid.UUID, ...]  # ids of the records in force, sorted
    missing: frozenset[Signer]  # required signers with no record in force at t
    refused: frozenset[Signer]  # required signers whose record in force at t is REFUSED
    withdrawn: frozenset[Signer]  # required signers whose consent a withdrawal has ended
    # The part of `missing` whose given consent has run out (valid_until before today), as
    # opposed to signers who never signed (a birthday or a new guardian made them required).
    lapsed: frozenset[Signer] = frozenset()

    def covers(self, agency_id: uuid.UUID, category: Category) -> bool:
        return self.complete and agency_id in self.agencies and category in self.categories


class _Status(StrEnum):
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    MISSING = "missing"


def _supersession_key(fact: ConsentFact) -> tuple[datetime, int, uuid.UUID]:
    """Later recorded wins; on a tie the refusal wins, then the larger id (deterministic)."""
    return (fact.recorded_at, 1 if fact.decision is Decision.REFUSED else 0, fact.id)


def _signer_status(
    facts: Iterable[ConsentFact], *, at: datetime, today: date
) -> ConsentFact | _Status:
    """The record giving this signer's consent at `at`, or why there is none."""
    known = [fact for fact in facts if fact.recorded_at <= at]
    withdrawals = [fact.withdrawn_at for fact in known if fact.withdrawn_at is not None]
    cut = max((w for w in withdrawals if w <= at), default=None)

    def ended(fact: ConsentFact) -> bool:
        return cut is not None and fact.recorded_at <= cut

    in_force = max(
        (fact for fact in known if fact.valid_on(today)), key=_supersession_key, default=None
    )
    if in_force is None:
        latest_given = max(
            (fact for fact in known if fact.decision is Decision.GIVEN),
            key=_supersession_key,
            default=None,
        )
        if latest_given is not None and ended(latest_given):
            return _Status.WITHDRAWN
        return _Status.MISSING
    if in_force.decision is Decision.REFUSED:
        if in_force.withdrawn_by(at):
            return _Status.WITHDRAWN
        return _Status.REFUSED
    if ended(in_force):
        return _Status.WITHDRAWN
    return in_force


def effective_consent(
    *,
    required: frozenset[Signer],
    facts: Sequence[ConsentFact],
    at: datetime,
    today: date,
) -> EffectiveConsent:
    """The consent in effect at instant `at`; `today` is the local (Stockholm) date of `at`.

    Facts for signers who are not required are ignored. See the module docstring for the rules.
    """
    _require_aware(at, "at")
    by_signer: dict[Signer, list[ConsentFact]] = {signer: [] for signer in required}
    for fact in facts:
        if fact.signer in by_signer:
            by_signer[fact.signer].append(fact)

    given: list[ConsentFact] = []
    missing: set[Signer] = set()
    lapsed: set[Signer] = set()
    refused: set[Signer] = set()
    withdrawn: set[Signer] = set()
    for signer, own in by_signer.items():
        status = _signer_status(own, at=at, today=today)
        if isinstance(status, ConsentFact):
            given.append(status)
        elif status is _Status.REFUSED:
            refused.add(signer)
        elif status is _Status.WITHDRAWN:
            withdrawn.add(signer)
        else:
            missing.add(signer)
            if any(_ran_out(fact, at=at, today=today) for fact in own):
                lapsed.add(signer)

    complete = bool(required) and len(given) == len(required)
    if complete:
        agencies = frozenset.intersection(*(fact.agencies for fact in given))
        categories = frozenset.intersection(*(fact.categories for fact in given))
        basis = tuple(sorted(fact.id for fact in given))
    else:
        agencies, categories, basis = frozenset(), frozenset(), ()
    return EffectiveConsent(
        complete=complete,
        agencies=agencies,
        categories=categories,
        basis=basis,
        missing=frozenset(missing),
        refused=frozenset(refused),
        withdrawn=frozenset(withdrawn),
        lapsed=frozenset(lapsed),
    )


def _ran_out(fact: ConsentFact, *, at: datetime, today: date) -> bool:
    return (
        fact.decision is Decision.GIVEN
        and fact.recorded_at <= at
        and fact.valid_until is not None
        and fact.valid_until < today
    )


# The case lifecycle states of DESIGN §2 (the same strings as `domain.cases.rules.CaseState`;
# a test keeps the two in step).
REFERRED = "referred"
CONSENT_PENDING = "consent_pending"
ACTIVE = "active"
PAUSED = "paused"
DECLINED = "declined"
CLOSED = "closed"
CASE_STATES: tuple[str, ...] = (REFERRED, CONSENT_PENDING, ACTIVE, PAUSED, DECLINED, CLOSED)


class MoveReason(StrEnum):
    """Why a case changed state, stored with each change (`case_state_change.reason`)."""

    OPENED = "opened"
    MANUAL = "manual"
    CONSENT_COMPLETE = "consent_complete"
    CONSENT_REFUSED = "consent_refused"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_EXPIRED = "consent_expired"
    SIGNER_MISSING = "signer_missing"
    CONSENT_INCOMPLETE = "consent_incomplete"


MOVE_REASON_LABELS: dict[MoveReason, str] = {
    MoveReason.OPENED: "Ärendet öppnades",
    MoveReason.MANUAL: "Ändrat för hand",
    MoveReason.CONSENT_COMPLETE: "Samtycket blev komplett",
    MoveReason.CONSENT_REFUSED: "Samtycke nekades",
    MoveReason.CONSENT_WITHDRAWN: "Samtycke återkallades",
    MoveReason.CONSENT_EXPIRED: "Samtycket löpte ut",
    MoveReason.SIGNER_MISSING: "Ny underskrift krävs (t.ex. efter en födelsedag)",
    MoveReason.CONSENT_INCOMPLETE: "Samtycket är inte komplett",
}


@dataclass(frozen=True)
class Move:
    target: str
    reason: MoveReason


def why_incomplete(consent: EffectiveConsent) -> MoveReason:
    """The most telling reason consent is not complete: refusal, withdrawal, expiry, then a
    signature never given."""
    if consent.refused:
        return MoveReason.CONSENT_REFUSED
    if consent.withdrawn:
        return MoveReason.CONSENT_WITHDRAWN
    if consent.lapsed:
        return MoveReason.CONSENT_EXPIRED
    if consent.missing:
        return MoveReason.SIGNER_MISSING
    return MoveReason.CONSENT_INCOMPLETE


def consent_move(*, current: str, paused_by_hand: bool, consent: EffectiveConsent) -> Move | None:
    """The lifecycle move the consent now calls for, with its reason, or None for no change.

    Closed and declined cases are never reopened automatically. A refusal declines a case that
    has not started (referred, consent pending) and pauses one that has (active). A referred case
    otherwise waits for the social worker to start the consent process by hand. Complete consent
    starts a pending case and resumes one the rules paused, never one paused by hand
    (`paused_by_hand`); an active case without complete consent (withdrawal, expiry, a birthday
    that made a new signer required) is paused.
    """
    if current not in CASE_STATES:
        raise ValueError(f"unknown case state {current!r}")
    if current in (CLOSED, DECLINED):
        return None
    if consent.refused and current in (REFERRED, CONSENT_PENDING):
        return Move(DECLINED, MoveReason.CONSENT_REFUSED)
    if current == REFERRED:
        return None
    if consent.complete:
        if current == CONSENT_PENDING or (current == PAUSED and not paused_by_hand):
            return Move(ACTIVE, MoveReason.CONSENT_COMPLETE)
        return None
    if current == ACTIVE:
        return Move(PAUSED, why_incomplete(consent))
    return None


@dataclass(frozen=True)
class SignerChange:
    on: date
    description: str  # Swedish, for the warning shown ahead of the birthday


def signer_changes_within(
    *, birth_date: date, today: date, days: int, policy: SigningPolicy
) -> list[SignerChange]:
    """The birthdays in (today, today + days] at which the policy changes who must sign: the
    young person joins the guardians at `young_person_from_age` and signs alone from
    `adult_age`. (When the two ages are equal there is one change.) In date order."""
    if days < 0:
        raise ValueError("days must not be negative")
    end = today + timedelta(days=days)
    candidates: list[SignerChange] = []
    if policy.young_person_from_age < policy.adult_age:
        candidates.append(
            SignerChange(
                on=birthday(birth_date, policy.young_person_from_age),
                description=(
                    f"fyller {policy.young_person_from_age}: den unga ska också skriva under"
                ),
            )
        )
    candidates.append(
        SignerChange(
            on=birthday(birth_date, policy.adult_age),
            description=f"fyller {policy.adult_age}: den unga skriver under ensam",
        )
    )
    return [change for change in candidates if today < change.on <= end]
