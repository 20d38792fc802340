from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from domain.agencies.models import Agency


class AgencyRepository:
    """Agencies are organisation data, not personal data: no scope is needed to read them."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, agency_id: uuid.UUID) -> Agency | None:
        return self._session.get(Agency, agency_id)

    def by_name(self, name: str) -> Agency | None:
        return self._session.exec(select(Agency).where(Agency.name == name)).first()

    def list(self, kind: str | None = None) -> Sequence[Agency]:
        statement = select(Agency).order_by(col(Agency.name))
        if kind is not None:
            statement = statement.where(Agency.kind == kind)
        return self._session.exec(statement).all()

    def add(self, agency: Agency) -> None:
        self._session.add(agency)
        self._session.flush()

    def update_if_version(self, agency: Agency, version: int, **values: Any) -> bool:
        """Compare-and-set: write `values` and the next version only if the row is still at
        `version`; False when someone else changed it meanwhile."""
        result = self._session.execute(
            update(Agency)
            .where(col(Agency.id) == agency.id, col(Agency.version) == version)
            .values(**values, version=version + 1)
            .execution_options(synchronize_session=False)
        )
        if int(result.rowcount) != 1:  # type: ignore[attr-defined]
            return False
        for name, value in {**values, "version": version + 1}.items():
            set_committed_value(agency, name, value)
        return True
