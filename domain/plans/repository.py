"""Every query on the plan. Goals and commitments are shared entries: every read goes
through `ScopedRepository._entries`, so a reader gets exactly the entries DESIGN §3 lets them
see (category `plan` under their agency's consent, or their own agency's), of visible cases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select

from common.db import seal
from domain.agencies.models import Agency
from domain.cases.models import Case
from domain.plans.models import PlanCommitment, PlanGoal
from domain.scoping import ScopedRepository
from domain.users.models import User

S = TypeVar("S", bound=Select[*tuple[Any, ...]])

_ENCRYPTED = {
    PlanGoal: {"text": "plan_goal.text"},
    PlanCommitment: {"what": "plan_commitment.what", "comment": "plan_commitment.comment"},
}


@dataclass(frozen=True)
class CommitmentRow:
    """A commitment with what a reader needs to show it: its case, the committing
    agency's name and the named person's (None: no one named)."""

    commitment: PlanCommitment
    case: Case
    agency_name: str
    person_name: str | None


class PlanRepository(ScopedRepository):
    def _goals(self, statement: S) -> S:
        return self._entries(
            statement,
            case_id=PlanGoal.case_id,
            category=PlanGoal.category,
            visibility=PlanGoal.visibility,
            author_agency_id=PlanGoal.author_agency_id,
        )

    def _commitments(self, statement: S) -> S:
        return self._entries(
            statement,
            case_id=PlanCommitment.case_id,
            category=PlanCommitment.category,
            visibility=PlanCommitment.visibility,
            author_agency_id=PlanCommitment.agency_id,
        )

    def goals(self, case_id: uuid.UUID) -> Sequence[PlanGoal]:
        statement = (
            select(PlanGoal)
            .where(PlanGoal.case_id == case_id)
            .order_by(col(PlanGoal.created_at), col(PlanGoal.id))
        )
        return self._session.exec(self._goals(statement)).all()

    def goal(self, case_id: uuid.UUID, goal_id: uuid.UUID) -> PlanGoal | None:
        statement = select(PlanGoal).where(PlanGoal.case_id == case_id, PlanGoal.id == goal_id)
        return self._session.exec(self._goals(statement)).first()

    def commitment(self, case_id: uuid.UUID, commitment_id: uuid.UUID) -> PlanCommitment | None:
        statement = select(PlanCommitment).where(
            PlanCommitment.case_id == case_id, PlanCommitment.id == commitment_id
        )
        return self._session.exec(self._commitments(statement)).first()

    def _rows(
        self, *where: Any, order: Sequence[Any], offset: int = 0, limit: int | None = None
    ) -> list[CommitmentRow]:
        person = aliased(User)
        statement = (
            select(PlanCommitment, Case, Agency.name, person.display_name)
            .join(Case, col(Case.id) == col(PlanCommitment.case_id))
            .join(Agency, col(Agency.id) == col(PlanCommitment.agency_id))
            .outerjoin(person, col(person.id) == col(PlanCommitment.person_user_id))
            .where(*where)
            .order_by(*order)
            .offset(offset)
        )
        if limit is not None:
            statement = statement.limit(limit)
        return [
            CommitmentRow(commitment=c, case=case, agency_name=name, person_name=who)
            for c, case, name, who in self._session.exec(self._commitments(statement)).all()
        ]

    def commitments(self, case_id: uuid.UUID) -> list[CommitmentRow]:
        return self._rows(
            col(PlanCommitment.case_id) == case_id,
            order=[
                col(PlanCommitment.due_on),
                col(PlanCommitment.created_at),
                col(PlanCommitment.id),
            ],
        )

    def open_commitments(
        self,
        *,
        due_before: date | None = None,
        agency_id: uuid.UUID | None = None,
        person_user_id: uuid.UUID | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[CommitmentRow], int]:
        """Open commitments of every case the reader sees, oldest due date first; optionally
        only those due before a date, and those of an agency or (or) a person."""
        where: list[Any] = [col(PlanCommitment.status) == "open"]
        if due_before is not None:
            where.append(col(PlanCommitment.due_on) < due_before)
        mine = []
        if agency_id is not None:
            mine.append(col(PlanCommitment.agency_id) == agency_id)
        if person_user_id is not None:
            mine.append(col(PlanCommitment.person_user_id) == person_user_id)
        if mine:
            where.append(or_(*mine))
        total = self._session.exec(
            self._commitments(select(func.count()).select_from(PlanCommitment).where(*where))
        ).one()
        rows = self._rows(
            *where,
            order=[col(PlanCommitment.due_on), col(Case.reference), col(PlanCommitment.id)],
            offset=offset,
            limit=limit,
        )
        return rows, int(total)

    def add(self, entry: PlanGoal | PlanCommitment) -> None:
        self._session.add(entry)
        self._session.flush()

    def change(self, entry: PlanGoal | PlanCommitment, values: dict[str, Any]) -> bool:
        """Compare-and-set on the version `entry` was read at, raising it by one; False when
        someone else changed the entry first. Encrypted values are sealed for their row."""
        model = type(entry)
        expected = entry.version
        stored = dict(values, version=expected + 1)
        sealed = {
            name: None if stored[name] is None else seal(context, entry.id, stored[name])
            for name, context in _ENCRYPTED[model].items()
            if name in stored
        }
        result = self._session.execute(
            update(model)
            .where(col(model.id) == entry.id, col(model.version) == expected)
            .values(**{**stored, **sealed})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        for name, value in stored.items():
            set_committed_value(entry, name, value)
        return True

    def current_version(self, entry: PlanGoal | PlanCommitment) -> int:
        """The stored version of an entry this session has read (after a lost race)."""
        self._session.refresh(entry, ["version"])
        return entry.version
