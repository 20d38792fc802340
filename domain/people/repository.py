"""Every query on young persons and guardians. Reads go through the actor's case scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import col, select

from consent.guard import unscoped
from domain.people.models import Guardian, YoungPerson
from domain.people.rules import GuardianDetails
from domain.scoping import ScopedRepository, prepared_by_person

_GUARDIANS = prepared_by_person(
    core_select(
        col(Guardian.id),
        col(Guardian.name),
        col(Guardian.has_custody),
        col(Guardian.phone),
        col(Guardian.email),
    )
    .where(col(Guardian.young_person_id) == bindparam("young_person_id"))
    .order_by(col(Guardian.created_at), col(Guardian.id)),
    Guardian.young_person_id,
)


class YoungPersonRepository(ScopedRepository):
    def get(self, young_person_id: uuid.UUID) -> YoungPerson | None:
        statement = self._people(select(YoungPerson).where(YoungPerson.id == young_person_id))
        return self._session.exec(statement).first()

    def guardians_of(self, young_person: YoungPerson) -> list[GuardianDetails]:
        rows = self._run_columns(_GUARDIANS, young_person_id=young_person.id)
        return [GuardianDetails(*row) for row in rows]

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
