"""The administrator's configuration of referrals: the grounds catalogue, eligibility (age
bands per programme) and capacity. A change retires rows and adds new ones, never edits one:
referrals keep the grounds they were made with. Each kind carries a version (409 if stale)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import utcnow
from common.errors import FieldError, StaleVersion, ValidationFailed
from common.roles import AgencyKind, Permission
from domain.configuration.rules import ConfigKind
from domain.configuration.service import record_change
from domain.referrals.models import (
    CapacityRule,
    EligibilityRule,
    ReferralGround,
    SettingKind,
)
from domain.referrals.repository import ReferralSettingsRepository

CAPACITY_ROLES = ("contact_person", "coordinator", "social_worker")
PROGRAMMES = ("SSPF", "SIG")


@dataclass(frozen=True)
class GroundIn:
    label: str
    id: uuid.UUID | None = None


@dataclass(frozen=True)
class BandIn:
    programme: str
    label: str
    min_age: int
    max_age: int
    requires_crime_criteria: bool = False


@dataclass(frozen=True)
class CapacityIn:
    programme: str
    agency_kind: str
    role: str
    per_person: int


@dataclass(frozen=True)
class Settings:
    grounds: Sequence[ReferralGround]
    grounds_version: int
    eligibility: Sequence[EligibilityRule]
    eligibility_version: int
    capacity: Sequence[CapacityRule]
    capacity_version: int


def read_settings(session: Session, actor: Actor) -> Settings:
    actor.require(Permission.CONFIGURE)
    repository = ReferralSettingsRepository(session)
    return Settings(
        grounds=repository.grounds(),
        grounds_version=repository.setting(SettingKind.GROUNDS).version,
        eligibility=repository.eligibility(),
        eligibility_version=repository.setting(SettingKind.ELIGIBILITY).version,
        capacity=repository.capacity(),
        capacity_version=repository.setting(SettingKind.CAPACITY).version,
    )


def _claim(repository: ReferralSettingsRepository, actor: Actor, kind: str, version: int) -> None:
    setting = repository.setting(kind)
    if setting.version != version or not repository.bump(setting, by=actor.user_id, now=utcnow()):
        raise StaleVersion(current_version=setting.version)


_HISTORY_KINDS = {
    SettingKind.GROUNDS: ConfigKind.REFERRAL_GROUNDS,
    SettingKind.ELIGIBILITY: ConfigKind.ELIGIBILITY,
    SettingKind.CAPACITY: ConfigKind.CAPACITY,
}


def _bands(rows: Sequence[EligibilityRule]) -> list[dict[str, object]]:
    return [
        {
            "programme": row.programme,
            "label": row.label,
            "min_age": row.min_age,
            "max_age": row.max_age,
            "requires_crime_criteria": row.requires_crime_criteria,
        }
        for row in rows
    ]


def _rules(rows: Sequence[CapacityRule]) -> list[dict[str, object]]:
    return [
        {
            "programme": row.programme,
            "agency_kind": row.agency_kind,
            "role": row.role,
            "per_person": row.per_person,
        }
        for row in rows
    ]


def _audit(session: Session, actor: Actor, kind: str, *, old: object, new: object) -> None:
    """The audit event and the configuration history's row, in the change's transaction."""
    record_change(session, actor, kind=_HISTORY_KINDS[kind], subject=kind, old=old, new=new)
    audit.record(
        session,
        actor,
        action="referral_settings.change",
        resource_type="referral_settings",
        resource_id=kind,
        basis={"kind": "configuration"},
    )


def replace_grounds(
    session: Session, actor: Actor, *, version: int, grounds: Sequence[GroundIn]
) -> Settings:
    """The catalogue becomes `grounds`, in order. A listed id with the same label stays; with
    a new label it is retired and a new ground made; an unlisted active ground is retired."""
    actor.require(Permission.CONFIGURE)
    repository = ReferralSettingsRepository(session)
    before = list(repository.grounds())
    active = {row.id: row for row in before}
    errors: list[FieldError] = []
    for number, given in enumerate(grounds):
        label = given.label.strip()
        if not label or len(label) > 200:
            errors.append(
                FieldError(
                    f"items.{number}.label",
                    "Ange en grund (högst 200 tecken).",
                    "label must be 1-200 characters.",
                )
            )
        if given.id is not None and given.id not in active:
            errors.append(
                FieldError(f"items.{number}.id", "Okänd grund.", "Unknown or retired ground id.")
            )
    if not grounds:
        errors.append(FieldError("items", "Ange minst en grund.", "Give at least one ground."))
    if errors:
        raise ValidationFailed(errors)
    _claim(repository, actor, SettingKind.GROUNDS, version)
    now = utcnow()
    kept: set[uuid.UUID] = set()
    for position, given in enumerate(grounds):
        label = given.label.strip()
        old = active.get(given.id) if given.id else None
        if old is not None and old.label == label:
            kept.add(old.id)
            if old.position != position:
                old.position = position
                session.add(old)
            continue
        repository.add(ReferralGround(label=label, position=position, is_default=False))
    repository.retire([row for key, row in active.items() if key not in kept], now)
    after = read_settings(session, actor)
    _audit(
        session,
        actor,
        SettingKind.GROUNDS,
        old=[row.label for row in before],
        new=[row.label for row in after.grounds],
    )
    return after


def replace_eligibility(
    session: Session, actor: Actor, *, version: int, bands: Sequence[BandIn]
) -> Settings:
    actor.require(Permission.CONFIGURE)
    errors: list[FieldError] = []
    for number, band in enumerate(bands):
        if band.programme not in PROGRAMMES:
            errors.append(
                FieldError(
                    f"items.{number}.programme", "Välj SSPF eller SIG.", "Choose SSPF or SIG."
                )
            )
        if not 0 <= band.min_age <= band.max_age <= 30:
            errors.append(
                FieldError(
                    f"items.{number}.max_age",
                    "Åldrarna ska vara 0–30 och lägst först.",
                    "Ages must be 0-30 with min_age <= max_age.",
                )
            )
        if not band.label.strip() or len(band.label.strip()) > 100:
            errors.append(
                FieldError(f"items.{number}.label", "Ange en benämning.", "label is required.")
            )
    if errors:
        raise ValidationFailed(errors)
    repository = ReferralSettingsRepository(session)
    _claim(repository, actor, SettingKind.ELIGIBILITY, version)
    before = list(repository.eligibility())
    repository.retire(before, utcnow())
    repository.add(
        *(
            EligibilityRule(
                programme=band.programme,
                label=band.label.strip(),
                min_age=band.min_age,
                max_age=band.max_age,
                requires_crime_criteria=band.requires_crime_criteria,
            )
            for band in bands
        )
    )
    after = read_settings(session, actor)
    _audit(
        session,
        actor,
        SettingKind.ELIGIBILITY,
        old=_bands(before),
        new=_bands(after.eligibility),
    )
    return after


def replace_capacity(
    session: Session, actor: Actor, *, version: int, rules: Sequence[CapacityIn]
) -> Settings:
    actor.require(Permission.CONFIGURE)
    kinds = {kind.value for kind in AgencyKind}
    errors: list[FieldError] = []
    for number, rule in enumerate(rules):
        if rule.programme not in PROGRAMMES:
            errors.append(
                FieldError(
                    f"items.{number}.programme", "Välj SSPF eller SIG.", "Choose SSPF or SIG."
                )
            )
        if rule.agency_kind not in kinds:
            errors.append(
                FieldError(
                    f"items.{number}.agency_kind", "Okänd typ av aktör.", "Unknown agency kind."
                )
            )
        if rule.role not in CAPACITY_ROLES:
            errors.append(FieldError(f"items.{number}.role", "Okänd roll.", "Unknown role."))
        if not 1 <= rule.per_person <= 1000:
            errors.append(
                FieldError(
                    f"items.{number}.per_person",
                    "Ange 1–1000 ärenden per person.",
                    "per_person must be 1-1000.",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    repository = ReferralSettingsRepository(session)
    _claim(repository, actor, SettingKind.CAPACITY, version)
    before = list(repository.capacity())
    repository.retire(before, utcnow())
    repository.add(
        *(
            CapacityRule(
                programme=rule.programme,
                agency_kind=rule.agency_kind,
                role=rule.role,
                per_person=rule.per_person,
            )
            for rule in rules
        )
    )
    after = read_settings(session, actor)
    _audit(session, actor, SettingKind.CAPACITY, old=_rules(before), new=_rules(after.capacity))
    return after
