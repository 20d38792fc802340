from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from consent.guard import unscoped
from consent.models import TeamMember


class TeamRepository:
    """Team rows of a case the caller has already loaded through its scope."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def current(self, case_id: uuid.UUID, user_id: uuid.UUID) -> TeamMember | None:
        statement = select(TeamMember).where(
            TeamMember.case_id == case_id,
            TeamMember.user_id == user_id,
            col(TeamMember.removed_at).is_(None),
        )
        return self._session.exec(
            unscoped(statement, "membership of a case the caller loaded through its scope")
        ).first()

    def add(self, member: TeamMember) -> None:
        self._session.add(member)
        self._session.flush()

    def end(self, member: TeamMember, at: datetime) -> None:
        self._session.execute(
            update(TeamMember).where(col(TeamMember.id) == member.id).values(removed_at=at)
        )
