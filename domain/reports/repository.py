"""Every query on the follow-up report and the release ledger. Both hold only aggregates
already made safe (no case or person reference), so no consent scope applies: who may read
them is the role's business (the service checks it)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from domain.reports.models import FollowUpReport, StatisticsRelease


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- drafts --------------------------------------------------------------------------

    def report(self, activity_id: uuid.UUID, period_code: str) -> FollowUpReport | None:
        statement = select(FollowUpReport).where(
            FollowUpReport.activity_id == activity_id, FollowUpReport.period_code == period_code
        )
        return self._session.exec(statement).first()

    def reports(self, agreement_id: uuid.UUID | None = None) -> Sequence[FollowUpReport]:
        statement = select(FollowUpReport)
        if agreement_id is not None:
            statement = statement.where(FollowUpReport.agreement_id == agreement_id)
        ordered = statement.order_by(
            col(FollowUpReport.period_code).desc(), col(FollowUpReport.updated_at).desc()
        )
        return self._session.exec(ordered).all()

    def add(self, row: FollowUpReport | StatisticsRelease) -> None:
        self._session.add(row)
        self._session.flush()

    def update_if_version(self, row: FollowUpReport, version: int, **values: Any) -> bool:
        """Compare-and-set: write `values` and the next version only if the row is still at
        `version`; False when someone else changed it meanwhile."""
        result = self._session.execute(
            update(FollowUpReport)
            .where(col(FollowUpReport.id) == row.id, col(FollowUpReport.version) == version)
            .values(**values, version=version + 1)
            .execution_options(synchronize_session=False)
        )
        if int(result.rowcount) != 1:  # type: ignore[attr-defined]
            return False
        for name, value in {**values, "version": version + 1}.items():
            set_committed_value(row, name, value)
        return True

    # --- the ledger ----------------------------------------------------------------------

    def releases(self, agreement_id: uuid.UUID | None = None) -> Sequence[StatisticsRelease]:
        """Oldest first within an agreement."""
        statement = select(StatisticsRelease)
        if agreement_id is not None:
            statement = statement.where(StatisticsRelease.agreement_id == agreement_id)
        ordered = statement.order_by(
            col(StatisticsRelease.agreement_id), col(StatisticsRelease.number)
        )
        return self._session.exec(ordered).all()

    def release(self, release_id: uuid.UUID) -> StatisticsRelease | None:
        return self._session.get(StatisticsRelease, release_id)

    def release_by_number(self, agreement_id: uuid.UUID, number: int) -> StatisticsRelease | None:
        statement = select(StatisticsRelease).where(
            StatisticsRelease.agreement_id == agreement_id, StatisticsRelease.number == number
        )
        return self._session.exec(statement).first()

    def next_number(self, agreement_id: uuid.UUID) -> int:
        statement = select(func.max(StatisticsRelease.number)).where(
            StatisticsRelease.agreement_id == agreement_id
        )
        current = self._session.exec(statement).one()
        return 1 if current is None else int(current) + 1
