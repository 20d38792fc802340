"""The municipality's consent ages, and the history of every configuration change.

The signing policy is read from the database where it is used (`signing_policy`), so a change
takes effect on the next request, without a restart. What "never rewrites what was recorded"
means here: consent records are never touched; the policy has a history (`consent_policy`
rows with `in_force_from` / `superseded_at`), and whether consent was complete at a moment is
judged by the policy in force *at that moment*. A change therefore acts from now on, like a
birthday that makes a new signer required (the sweep pauses such cases and the tracker lists
them), while the consent in effect at any earlier moment stays what it was. The first change
stores the settings' ages as the row in force until then, so later settings cannot reach back.

Every configuration change (here, in `domain.referrals.settings` and in
`domain.assessments.service`) calls `record_change` in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import utcnow
from common.errors import FieldError, StaleVersion, ValidationFailed
from common.roles import Permission
from consent import policy as process_policy
from consent.rules import SigningPolicy
from domain.configuration import rules
from domain.configuration.models import ConfigChange, ConsentPolicyRow
from domain.configuration.repository import ConfigurationRepository
from domain.configuration.rules import ConfigAction, ConfigKind
from domain.users.repository import UserRepository

SINCE_EVER = datetime(1970, 1, 1, tzinfo=UTC)


def signing_policy(session: Session, *, at: datetime | None = None) -> SigningPolicy:
    """The policy in force at `at` (default now): the municipality's, or before it first set
    one, the process default from the settings."""
    return policy_or_default(ConfigurationRepository(session).policy_at(at or utcnow()))


def policy_or_default(stored: SigningPolicy | None) -> SigningPolicy:
    """The policy stored (`ConfigurationRepository.policy_at`, or read together with other
    rows), or before the municipality first set one, the process default from the settings."""
    return process_policy.signing_policy() if stored is None else stored


@dataclass(frozen=True)
class ConsentAges:
    young_person_from_age: int
    adult_age: int
    version: int  # 0 while the settings' default applies (nothing stored yet)
    in_force_from: datetime | None


def _ages(row: ConsentPolicyRow | None) -> ConsentAges:
    if row is None:
        default = process_policy.signing_policy()
        return ConsentAges(default.young_person_from_age, default.adult_age, 0, None)
    return ConsentAges(row.young_person_from_age, row.adult_age, row.version, row.in_force_from)


def _value(ages: ConsentAges) -> dict[str, int]:
    return {"young_person_from_age": ages.young_person_from_age, "adult_age": ages.adult_age}


def read_consent_ages(session: Session, actor: Actor) -> ConsentAges:
    actor.require(Permission.CONFIGURE)
    return _ages(ConfigurationRepository(session).current_policy())


def set_consent_ages(
    session: Session,
    actor: Actor,
    *,
    young_person_from_age: int | str,
    adult_age: int | str,
    version: int,
) -> ConsentAges:
    """New consent ages from now on (`version` the one the edit was based on; 0 for the
    settings' default). Unchanged ages change nothing and leave no history."""
    actor.require(Permission.CONFIGURE)
    errors: list[FieldError] = []
    ages = rules.consent_ages(
        young_person_from_age=young_person_from_age, adult_age=adult_age, errors=errors
    )
    if errors or ages is None:
        raise ValidationFailed(errors)
    repository = ConfigurationRepository(session)
    current_row = repository.current_policy()
    current = _ages(current_row)
    if version != current.version:
        raise StaleVersion(current_version=current.version)
    young, adult = ages
    if (young, adult) == (current.young_person_from_age, current.adult_age):
        return current
    now = utcnow()
    if current_row is None:
        # The settings' ages become a row in force until now, so the past keeps them even if
        # the settings change later.
        frozen = ConsentPolicyRow(
            version=1,
            young_person_from_age=current.young_person_from_age,
            adult_age=current.adult_age,
            in_force_from=SINCE_EVER,
            superseded_at=now,
        )
        if not repository.add_policy(frozen):
            raise StaleVersion(current_version=None)
    elif not repository.supersede_policy(current_row, now):
        raise StaleVersion(current_version=None)
    row = ConsentPolicyRow(
        version=(current_row.version if current_row else 1) + 1,
        young_person_from_age=young,
        adult_age=adult,
        in_force_from=now,
        recorded_by=actor.user_id,
    )
    if not repository.add_policy(row):
        raise StaleVersion(current_version=None)
    changed = _ages(row)
    record_change(
        session,
        actor,
        kind=ConfigKind.CONSENT_AGES,
        subject=ConfigKind.CONSENT_AGES,
        old=_value(current),
        new=_value(changed),
        at=now,
    )
    audit.record(
        session,
        actor,
        action="config.consent_ages",
        resource_type="consent_policy",
        resource_id=row.id,
        basis={"kind": "configuration", "version": row.version},
    )
    return changed


def record_change(
    session: Session,
    actor: Actor,
    *,
    kind: ConfigKind,
    subject: str,
    old: Any,
    new: Any,
    at: datetime | None = None,
) -> ConfigChange | None:
    """One row of the configuration history, in the caller's transaction. `old` None is an
    addition, `new` None a retirement; equal values are no change and write nothing."""
    if old == new:
        return None
    action = (
        ConfigAction.ADD
        if old is None
        else ConfigAction.RETIRE
        if new is None
        else ConfigAction.CHANGE
    )
    change = ConfigChange(
        changed_at=at or utcnow(),
        changed_by=actor.user_id,
        kind=kind.value,
        subject=str(subject),
        action=action.value,
        old_value=rules.encode(old),
        new_value=rules.encode(new),
    )
    ConfigurationRepository(session).add(change)
    return change


@dataclass(frozen=True)
class HistoryEntry:
    change: ConfigChange
    who: str  # the user's display name, or the id when the user is gone
    agency: str
    what: str  # the kind in Swedish
    action: str  # in Swedish
    old: Any
    new: Any
    old_text: str
    new_text: str


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    total: int
    offset: int
    limit: int


def history(session: Session, actor: Actor, *, offset: int = 0, limit: int = 50) -> HistoryPage:
    """Every configuration change, newest first."""
    actor.require(Permission.CONFIGURE)
    repository = ConfigurationRepository(session)
    rows = repository.changes(offset=max(offset, 0), limit=min(max(limit, 1), 200))
    names = UserRepository(session).names({row.changed_by for row in rows})
    entries = []
    for row in rows:
        who, agency = names.get(row.changed_by, (str(row.changed_by), ""))
        old, new = rules.decode(row.old_value), rules.decode(row.new_value)
        entries.append(
            HistoryEntry(
                change=row,
                who=who,
                agency=agency,
                what=rules.KIND_LABELS.get(ConfigKind(row.kind), row.kind),
                action=rules.ACTION_LABELS.get(ConfigAction(row.action), row.action),
                old=old,
                new=new,
                old_text=rules.describe(row.kind, old),
                new_text=rules.describe(row.kind, new),
            )
        )
    return HistoryPage(entries, repository.count_changes(), max(offset, 0), limit)
