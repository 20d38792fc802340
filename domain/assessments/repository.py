"""Every query on the cylinder model.

`AssessmentConfigRepository` reads and writes the municipality's levels and factor catalogues:
configuration, no case data, so it needs no scope. `AssessmentRepository` reads assessments,
shared entries of category `risk`, only through `ScopedRepository._entries`: a partner whose
consent lacks `risk` gets no row at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, update
from sqlmodel import Session, col, select

from domain.assessments.models import Assessment, AssessmentFactor, CylinderLevel
from domain.scoping import ScopedRepository

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


class AssessmentConfigRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def current_levels(self) -> Sequence[CylinderLevel]:
        statement = (
            select(CylinderLevel)
            .where(
                col(CylinderLevel.superseded_at).is_(None), col(CylinderLevel.retired).is_(False)
            )
            .order_by(col(CylinderLevel.rank), col(CylinderLevel.code))
        )
        return self._session.exec(statement).all()

    def latest_level(self, code: str) -> CylinderLevel | None:
        """The newest version of a level, retired or not."""
        statement = (
            select(CylinderLevel)
            .where(CylinderLevel.code == code, col(CylinderLevel.superseded_at).is_(None))
            .order_by(col(CylinderLevel.version).desc())
        )
        return self._session.exec(statement).first()

    def level_history(self, code: str) -> Sequence[CylinderLevel]:
        statement = (
            select(CylinderLevel)
            .where(CylinderLevel.code == code)
            .order_by(col(CylinderLevel.version))
        )
        return self._session.exec(statement).all()

    def max_level_version(self, code: str) -> int:
        found = self._session.exec(
            select(func.max(CylinderLevel.version)).where(CylinderLevel.code == code)
        ).one()
        return int(found or 0)

    def current_factors(self) -> Sequence[AssessmentFactor]:
        statement = (
            select(AssessmentFactor)
            .where(
                col(AssessmentFactor.superseded_at).is_(None),
                col(AssessmentFactor.retired).is_(False),
            )
            .order_by(col(AssessmentFactor.kind).desc(), col(AssessmentFactor.rank))
        )
        return self._session.exec(statement).all()

    def latest_factor(self, factor_id: uuid.UUID) -> AssessmentFactor | None:
        statement = select(AssessmentFactor).where(
            AssessmentFactor.factor_id == factor_id, col(AssessmentFactor.superseded_at).is_(None)
        )
        return self._session.exec(statement).first()

    def next_factor_rank(self, kind: str) -> int:
        found = self._session.exec(
            select(func.max(AssessmentFactor.rank)).where(AssessmentFactor.kind == kind)
        ).one()
        return int(found or 0) + 1

    def supersede(self, row: CylinderLevel | AssessmentFactor, at: datetime) -> bool:
        """Compare-and-set: mark `row` superseded unless someone else did first."""
        model = type(row)
        result = self._session.execute(
            update(model)
            .where(col(model.id) == row.id, col(model.superseded_at).is_(None))
            .values(superseded_at=at)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]

    def add(self, row: CylinderLevel | AssessmentFactor) -> None:
        self._session.add(row)
        self._session.flush()


class AssessmentRepository(ScopedRepository):
    def _assessments(self, statement: S) -> S:
        return self._entries(
            statement,
            case_id=Assessment.case_id,
            category=Assessment.category,
            visibility=Assessment.visibility,
            author_agency_id=Assessment.author_agency_id,
        )

    def of_case(self, case_id: uuid.UUID) -> Sequence[Assessment]:
        """The path: oldest first, by the day made, then by when recorded."""
        statement = (
            select(Assessment)
            .where(Assessment.case_id == case_id)
            .order_by(col(Assessment.assessed_on), col(Assessment.recorded_at), col(Assessment.id))
        )
        return self._session.exec(self._assessments(statement)).all()

    def get(self, case_id: uuid.UUID, assessment_id: uuid.UUID) -> Assessment | None:
        statement = select(Assessment).where(
            Assessment.case_id == case_id, Assessment.id == assessment_id
        )
        return self._session.exec(self._assessments(statement)).first()

    def add(self, assessment: Assessment) -> None:
        self._session.add(assessment)
        self._session.flush()
