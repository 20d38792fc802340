"""Every query on the agreement tables. They are municipal configuration (no case or person
reference), so no consent scope applies: who may read them is the role's business."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel, col, select

from domain.agreements.models import (
    Agreement,
    AgreementActivity,
    AgreementGoalArea,
    AgreementParty,
    AgreementTarget,
)

Versioned = TypeVar("Versioned", Agreement, AgreementGoalArea, AgreementActivity, AgreementTarget)


class AgreementRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def list(self) -> Sequence[Agreement]:
        statement = select(Agreement).order_by(col(Agreement.starts_on).desc(), col(Agreement.name))
        return self._session.exec(statement).all()

    def get(self, agreement_id: uuid.UUID) -> Agreement | None:
        return self._session.get(Agreement, agreement_id)

    def parties(self, agreement_id: uuid.UUID) -> Sequence[AgreementParty]:
        statement = (
            select(AgreementParty)
            .where(AgreementParty.agreement_id == agreement_id)
            .order_by(col(AgreementParty.position), col(AgreementParty.name))
        )
        return self._session.exec(statement).all()

    def party(self, agreement_id: uuid.UUID, party_id: uuid.UUID) -> AgreementParty | None:
        row = self._session.get(AgreementParty, party_id)
        return row if row is not None and row.agreement_id == agreement_id else None

    def next_party_position(self, agreement_id: uuid.UUID) -> int:
        statement = select(func.max(AgreementParty.position)).where(
            AgreementParty.agreement_id == agreement_id
        )
        current = self._session.exec(statement).one()
        return 0 if current is None else int(current) + 1

    def goal_areas(self, agreement_id: uuid.UUID) -> Sequence[AgreementGoalArea]:
        statement = (
            select(AgreementGoalArea)
            .where(AgreementGoalArea.agreement_id == agreement_id)
            .order_by(col(AgreementGoalArea.letter))
        )
        return self._session.exec(statement).all()

    def goal_area(
        self, agreement_id: uuid.UUID, goal_area_id: uuid.UUID
    ) -> AgreementGoalArea | None:
        row = self._session.get(AgreementGoalArea, goal_area_id)
        return row if row is not None and row.agreement_id == agreement_id else None

    def goal_area_by_letter(self, agreement_id: uuid.UUID, letter: str) -> AgreementGoalArea | None:
        statement = select(AgreementGoalArea).where(
            AgreementGoalArea.agreement_id == agreement_id, AgreementGoalArea.letter == letter
        )
        return self._session.exec(statement).first()

    def activities(self, agreement_id: uuid.UUID) -> Sequence[AgreementActivity]:
        statement = (
            select(AgreementActivity)
            .where(AgreementActivity.agreement_id == agreement_id)
            .order_by(col(AgreementActivity.name))
        )
        return self._session.exec(statement).all()

    def activity(self, agreement_id: uuid.UUID, activity_id: uuid.UUID) -> AgreementActivity | None:
        row = self._session.get(AgreementActivity, activity_id)
        return row if row is not None and row.agreement_id == agreement_id else None

    def count_activities_in(self, goal_area_id: uuid.UUID) -> int:
        statement = (
            select(func.count())
            .select_from(AgreementActivity)
            .where(AgreementActivity.goal_area_id == goal_area_id)
        )
        return int(self._session.exec(statement).one())

    def targets(self, agreement_id: uuid.UUID) -> Sequence[AgreementTarget]:
        """Every target of the agreement's activities."""
        statement = (
            select(AgreementTarget)
            .join(AgreementActivity, col(AgreementActivity.id) == AgreementTarget.activity_id)
            .where(AgreementActivity.agreement_id == agreement_id)
            .order_by(col(AgreementTarget.created_at), col(AgreementTarget.id))
        )
        return self._session.exec(statement).all()

    def targets_of(self, activity_id: uuid.UUID) -> Sequence[AgreementTarget]:
        statement = (
            select(AgreementTarget)
            .where(AgreementTarget.activity_id == activity_id)
            .order_by(col(AgreementTarget.created_at), col(AgreementTarget.id))
        )
        return self._session.exec(statement).all()

    def target(self, activity_id: uuid.UUID, target_id: uuid.UUID) -> AgreementTarget | None:
        row = self._session.get(AgreementTarget, target_id)
        return row if row is not None and row.activity_id == activity_id else None

    def add(self, row: SQLModel) -> None:
        self._session.add(row)
        self._session.flush()

    def delete(self, row: SQLModel) -> None:
        self._session.delete(row)
        self._session.flush()

    def update_if_version(self, row: Versioned, version: int, **values: Any) -> bool:
        """Compare-and-set: write `values` and the next version only if the row is still at
        `version`; False when someone else changed it meanwhile."""
        model = type(row)
        result = self._session.execute(
            update(model)
            .where(col(model.id) == row.id, col(model.version) == version)
            .values(**values, version=version + 1)
            .execution_options(synchronize_session=False)
        )
        if int(result.rowcount) != 1:  # type: ignore[attr-defined]
            return False
        for name, value in {**values, "version": version + 1}.items():
            set_committed_value(row, name, value)
        return True

    def freeze_grid(self, agreement_id: uuid.UUID, at: datetime) -> bool:
        """Set `grid_frozen_at` unless it is set already; True when this call set it. The
        version moves on, so an edit based on the unfrozen agreement answers 409."""
        result = self._session.execute(
            update(Agreement)
            .where(col(Agreement.id) == agreement_id, col(Agreement.grid_frozen_at).is_(None))
            .values(grid_frozen_at=at, version=Agreement.version + 1)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]
