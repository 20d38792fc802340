from __future__ import annotations

import uuid
from collections.abc import Sequence

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
