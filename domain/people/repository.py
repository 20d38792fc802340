"""Every query on young persons and guardians. Reads take the actor's case scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import Session, col, select

from consent.guard import scoped, unscoped
from consent.scope import CaseScope
from domain.cases.models import Case
from domain.people.models import Guardian, YoungPerson


class YoungPersonRepository:
    def __init__(self, session: Session, scope: CaseScope) -> None:
        self._session = session
        self._scope = scope

    def _visible(self) -> ColumnElement[bool]:
        scope = self._scope
        if scope.all_cases:
            return true()
        clauses: list[ColumnElement[bool]] = []
        if scope.owner_agency_ids:
            clauses.append(col(YoungPerson.owner_agency_id).in_(scope.owner_agency_ids))
        if scope.extra_case_ids:
            on_team = select(Case.young_person_id).where(col(Case.id).in_(scope.extra_case_ids))
            clauses.append(col(YoungPerson.id).in_(on_team))
        return or_(*clauses) if clauses else false()

    def get(self, young_person_id: uuid.UUID) -> YoungPerson | None:
        statement = scoped(
            select(YoungPerson).where(YoungPerson.id == young_person_id, self._visible())
        )
        return self._session.exec(statement).first()

    def guardians_of(self, young_person: YoungPerson) -> Sequence[Guardian]:
        """Only for a young person this repository has already handed out."""
        statement = (
            select(Guardian)
            .where(Guardian.young_person_id == young_person.id)
            .order_by(col(Guardian.created_at), col(Guardian.id))
        )
        return self._session.exec(scoped(statement)).all()

    def index_taken(self, personnummer_index: str) -> bool:
        """Uniqueness check across the municipality; answers yes/no, never a row."""
        statement = select(YoungPerson.id).where(
            YoungPerson.personnummer_index == personnummer_index
        )
        return (
            self._session.exec(
                unscoped(statement, "uniqueness of a blind index: yes or no")
            ).first()
            is not None
        )

    def add(self, young_person: YoungPerson, guardians: Sequence[Guardian]) -> None:
        self._session.add(young_person)
        self._session.flush()
        for guardian in guardians:
            self._session.add(guardian)
        self._session.flush()
