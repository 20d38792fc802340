"""Every query on referrals and their configuration.

A referral is not a case, so it has its own scope, built here from the reader's `CaseScope`
and nothing else: the inbox (`_inbox`) holds the referrals received by the reader's own
social-services unit (`receiving_units`) or wishing a programme the reader coordinates
(`programmes`); a sender reads only their own rows (`_own`), through the narrow
view the service builds. Both mark their statements for the statement guard.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, func, or_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from common.db import seal
from common.roles import AgencyKind, Permission
from consent.guard import scoped, unscoped
from consent.models import TeamMember
from consent.scope import CaseScope
from domain.agencies.models import Agency
from domain.cases.models import Case
from domain.meetings.models import Meeting
from domain.meetings.rules import MeetingStatus, MinutesState
from domain.people.models import YoungPerson
from domain.referrals.models import (
    CapacityRule,
    EligibilityRule,
    Referral,
    ReferralGround,
    ReferralSetting,
)
from domain.referrals.rules import ReferralStatus, days_between
from domain.scoping import ScopedRepository
from domain.users.models import User

S = TypeVar("S", bound=Select[*tuple[Any, ...]])

_ENCRYPTED = {
    "personnummer": "referral.personnummer",
    "name": "referral.name",
    "note": "referral.note",
    "text": "referral.text",
    "decline_reason": "referral.decline_reason",
}


def receiving_units(scope: CaseScope) -> frozenset[uuid.UUID]:
    """The inbox a reader works: their own unit's, when they are social-services staff who
    triage (social workers and coordinators alike)."""
    actor = scope.actor
    if actor.agency_kind is AgencyKind.SOCIAL_SERVICES and actor.can(Permission.TRIAGE_REFERRALS):
        return frozenset({actor.agency_id})
    return frozenset()


class ReferralRepository(ScopedRepository):
    def _visible(self) -> ColumnElement[bool]:
        scope = self._scope
        clauses: list[ColumnElement[bool]] = []
        units = receiving_units(scope)
        if units:
            clauses.append(col(Referral.receiving_agency_id).in_(units))
        if scope.programmes:
            clauses.append(col(Referral.programme).in_(scope.programmes))
        return or_(*clauses) if clauses else false()

    def _inbox(self, statement: S) -> S:
        return scoped(statement.where(self._visible()))

    def _own(self, statement: S) -> S:
        return scoped(statement.where(col(Referral.sender_user_id) == self._scope.actor.user_id))

    def inbox(self, statuses: Sequence[str] | None = None) -> Sequence[Referral]:
        statement = select(Referral).order_by(col(Referral.created_at).desc(), col(Referral.id))
        if statuses:
            statement = statement.where(col(Referral.status).in_(statuses))
        return self._session.exec(self._inbox(statement)).all()

    def get(self, referral_id: uuid.UUID) -> Referral | None:
        statement = select(Referral).where(Referral.id == referral_id)
        return self._session.exec(self._inbox(statement)).first()

    def about_same_person(self, referral: Referral) -> Sequence[Referral]:
        """Other visible referrals with the same blind index (never a name comparison)."""
        if referral.personnummer_index is None:
            return []
        statement = (
            select(Referral)
            .where(
                Referral.personnummer_index == referral.personnummer_index,
                Referral.id != referral.id,
            )
            .order_by(col(Referral.created_at))
        )
        return self._session.exec(self._inbox(statement)).all()

    def waiting(self, programme: str | None = None) -> Sequence[Referral]:
        statement = select(Referral).where(Referral.status == ReferralStatus.WAITING.value)
        if programme:
            statement = statement.where(Referral.programme == programme)
        statement = statement.order_by(col(Referral.waiting_since), col(Referral.id))
        return self._session.exec(self._inbox(statement)).all()

    def mine(self) -> Sequence[Referral]:
        statement = select(Referral).order_by(col(Referral.created_at).desc(), col(Referral.id))
        return self._session.exec(self._own(statement)).all()

    def first_held_meeting(self, case_id: uuid.UUID, after: datetime) -> datetime | None:
        """The start of the case's first meeting with final minutes from `after` on."""
        statement = select(func.min(Meeting.starts_at)).where(
            Meeting.case_id == case_id,
            Meeting.status != MeetingStatus.CANCELLED.value,
            Meeting.minutes_state == MinutesState.FINAL.value,
            col(Meeting.starts_at) >= after,
        )
        found: datetime | None = self._session.exec(self._by_case(statement, Meeting.case_id)).one()
        return found

    def add(self, referral: Referral) -> None:
        self._session.add(referral)
        self._session.flush()

    def change(self, referral: Referral, values: dict[str, Any]) -> bool:
        """Compare-and-set on the version `referral` was read at; False when someone else
        decided first. Encrypted values are sealed for the row."""
        expected = referral.version
        stored = dict(values, version=expected + 1)
        sealed = {
            name: None if stored[name] is None else seal(context, referral.id, stored[name])
            for name, context in _ENCRYPTED.items()
            if name in stored
        }
        result = self._session.execute(
            update(Referral)
            .where(col(Referral.id) == referral.id, col(Referral.version) == expected)
            .values(**{**stored, **sealed})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        for name, value in stored.items():
            set_committed_value(referral, name, value)
        return True

    def current_version(self, referral: Referral) -> int:
        self._session.refresh(referral, ["version"])
        return referral.version


def person_by_index(session: Session, index: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(young person id, registering unit) behind a blind index: to route a referral to the
    unit that knows the young person and to link it at triage. Never shown to the sender."""
    statement = unscoped(
        select(YoungPerson.id, YoungPerson.owner_agency_id).where(
            YoungPerson.personnummer_index == index
        ),
        "routing a referral by blind index: ids only, shown to no sender",
    )
    row = session.exec(statement).first()
    return (row[0], row[1]) if row else None


def record_first_meeting(session: Session, case_id: uuid.UUID, starts_at: datetime) -> None:
    """A meeting of the case got final minutes: the referrals linked to the case made before
    it, with no earlier first meeting, store it and the days to it. A figure kept for the
    follow-up by whoever finalised the minutes, who need not see the referral."""
    statement = unscoped(
        select(Referral.id, Referral.created_at).where(
            Referral.case_id == case_id,
            col(Referral.created_at) <= starts_at,
            or_(
                col(Referral.first_meeting_at).is_(None),
                col(Referral.first_meeting_at) > starts_at,
            ),
        ),
        "the days to the first meeting, stored for the follow-up: ids and times only",
    )
    for referral_id, created_at in session.exec(statement).all():
        session.execute(
            update(Referral)
            .where(col(Referral.id) == referral_id)
            .values(
                first_meeting_at=starts_at,
                days_to_first_meeting=days_between(created_at, starts_at),
            )
            .execution_options(synchronize_session=False)
        )


class ReferralSettingsRepository:
    """The configuration: organisation data, readable by everyone who needs it."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def grounds(self, *, include_retired: bool = False) -> Sequence[ReferralGround]:
        statement = select(ReferralGround).order_by(
            col(ReferralGround.position), col(ReferralGround.created_at)
        )
        if not include_retired:
            statement = statement.where(col(ReferralGround.retired_at).is_(None))
        return self._session.exec(statement).all()

    def grounds_by_id(self, ids: Sequence[str]) -> dict[str, ReferralGround]:
        """Any ground ever used, retired or not: a referral keeps its grounds."""
        wanted = []
        for value in ids:
            try:
                wanted.append(uuid.UUID(value))
            except ValueError:
                continue
        if not wanted:
            return {}
        rows = self._session.exec(
            select(ReferralGround).where(col(ReferralGround.id).in_(wanted))
        ).all()
        return {str(row.id): row for row in rows}

    def eligibility(self) -> Sequence[EligibilityRule]:
        statement = (
            select(EligibilityRule)
            .where(col(EligibilityRule.retired_at).is_(None))
            .order_by(col(EligibilityRule.programme), col(EligibilityRule.min_age))
        )
        return self._session.exec(statement).all()

    def capacity(self) -> Sequence[CapacityRule]:
        statement = (
            select(CapacityRule)
            .where(col(CapacityRule.retired_at).is_(None))
            .order_by(col(CapacityRule.programme), col(CapacityRule.agency_kind))
        )
        return self._session.exec(statement).all()

    def setting(self, kind: str) -> ReferralSetting:
        found = self._session.get(ReferralSetting, kind)
        if found is None:
            found = ReferralSetting(kind=kind, version=1)
            self._session.add(found)
            self._session.flush()
        return found

    def bump(self, setting: ReferralSetting, *, by: uuid.UUID, now: datetime) -> bool:
        """Compare-and-set on the setting's version; False when someone else changed it."""
        expected = setting.version
        result = self._session.execute(
            update(ReferralSetting)
            .where(col(ReferralSetting.kind) == setting.kind)
            .where(col(ReferralSetting.version) == expected)
            .values(version=expected + 1, updated_at=now, updated_by=by)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        set_committed_value(setting, "version", expected + 1)
        return True

    def retire(
        self, rows: Sequence[ReferralGround | EligibilityRule | CapacityRule], now: datetime
    ) -> None:
        for row in rows:
            row.retired_at = now
            self._session.add(row)
        self._session.flush()

    def add(self, *rows: ReferralGround | EligibilityRule | CapacityRule) -> None:
        for row in rows:
            self._session.add(row)
        self._session.flush()


class CapacityCounts:
    """Counts behind the capacity warning: numbers, never a case or a person."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def users(self, agency_kind: str, role: str, programme: str) -> list[uuid.UUID]:
        """Active users holding `role` in agencies of `agency_kind` (a coordinator only when
        they coordinate `programme`)."""
        statement = (
            select(User.id, User.roles, User.programmes)
            .join(Agency, col(Agency.id) == col(User.agency_id))
            .where(Agency.kind == agency_kind, col(User.is_active).is_(True))
        )
        return [
            user_id
            for user_id, roles, programmes in self._session.exec(statement).all()
            if role in roles and (role != "coordinator" or programme in programmes)
        ]

    def open_cases(
        self, programme: str, open_states: Sequence[str], members: Sequence[uuid.UUID] | None
    ) -> int:
        """Open cases of the programme; with `members`, only those any of them is on."""
        statement = (
            select(func.count())
            .select_from(Case)
            .where(Case.programme == programme, col(Case.state).in_(open_states))
        )
        if members is not None:
            on_team = select(TeamMember.case_id).where(
                col(TeamMember.user_id).in_(members), col(TeamMember.removed_at).is_(None)
            )
            statement = statement.where(col(Case.id).in_(on_team))
        count = self._session.exec(
            unscoped(statement, "a count for the capacity warning: no case data")
        ).one()
        return int(count)
