"""Every query on the consent ages and the configuration history (configuration: no case
data, so no scope)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from common.db import execute_columns
from consent.rules import SigningPolicy
from domain.configuration.models import ConfigChange, ConsentPolicyRow

# Built once: every case read asks for the policy in force (`signing_policy`).
_POLICY_AT = (
    select(col(ConsentPolicyRow.young_person_from_age), col(ConsentPolicyRow.adult_age))
    .where(
        col(ConsentPolicyRow.in_force_from) <= bindparam("at"),
        or_(
            col(ConsentPolicyRow.superseded_at).is_(None),
            col(ConsentPolicyRow.superseded_at) > bindparam("at"),
        ),
    )
    .order_by(col(ConsentPolicyRow.version).desc())
)
# The same, as a table of one row (or none) for a statement that reads the policy together
# with the facts it is applied to (`domain.consents.repository.ScopeFacts`): one round trip.
POLICY_IN_FORCE = _POLICY_AT.limit(1).subquery("policy_in_force")


class ConfigurationRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def current_policy(self) -> ConsentPolicyRow | None:
        statement = select(ConsentPolicyRow).where(col(ConsentPolicyRow.superseded_at).is_(None))
        return self._session.exec(statement).first()

    def policy_at(self, at: datetime) -> SigningPolicy | None:
        """The ages in force at `at`; None before the first change (the settings apply)."""
        row = execute_columns(self._session, _POLICY_AT, {"at": at}).first()
        return None if row is None else SigningPolicy(*row)

    def supersede_policy(self, row: ConsentPolicyRow, at: datetime) -> bool:
        """Compare-and-set: mark `row` superseded unless someone else did first."""
        result = self._session.execute(
            update(ConsentPolicyRow)
            .where(
                col(ConsentPolicyRow.id) == row.id, col(ConsentPolicyRow.superseded_at).is_(None)
            )
            .values(superseded_at=at)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def add_policy(self, row: ConsentPolicyRow) -> bool:
        """False when another transaction stored the same version first (the first change,
        which has no row to compare-and-set, races on the version's unique constraint)."""
        try:
            with self._session.begin_nested():
                self._session.add(row)
        except IntegrityError:
            return False
        return True

    def add(self, row: ConsentPolicyRow | ConfigChange) -> None:
        self._session.add(row)
        self._session.flush()

    def changes(self, *, offset: int, limit: int) -> Sequence[ConfigChange]:
        statement = (
            select(ConfigChange)
            .order_by(col(ConfigChange.changed_at).desc(), col(ConfigChange.id))
            .offset(offset)
            .limit(limit)
        )
        return self._session.exec(statement).all()

    def count_changes(self) -> int:
        return int(self._session.exec(select(func.count()).select_from(ConfigChange)).one())
