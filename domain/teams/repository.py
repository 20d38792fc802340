from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select

from consent.models import TeamMember
from domain.scoping import ScopedRepository


class TeamRepository(ScopedRepository):
    """Team rows of the cases the actor's scope reaches."""

    def current(self, case_id: uuid.UUID, user_id: uuid.UUID) -> TeamMember | None:
        statement = select(TeamMember).where(
            TeamMember.case_id == case_id,
            TeamMember.user_id == user_id,
            col(TeamMember.removed_at).is_(None),
        )
        return self._session.exec(self._by_case(statement, TeamMember.case_id)).first()

    def add(self, member: TeamMember) -> None:
        self._session.add(member)
        self._session.flush()

    def end(self, member: TeamMember, at: datetime) -> None:
        self._session.execute(
            update(TeamMember).where(col(TeamMember.id) == member.id).values(removed_at=at)
        )
