"""Queries behind nödåtkomst that no case scope can answer: the requester is, by definition,
outside the case's scope, and the auditor never reads case content. Each returns ids, states,
counts or the grant itself, never case data."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from common.db import seal
from consent.guard import exemption, unscoped
from consent.models import BreakGlassGrant, ReviewOutcome
from domain.cases.models import Case

FOR_THE_REQUEST = "break-glass request: the case's id and state, no case data"


class BreakGlassRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def case_by_reference(self, reference: str) -> tuple[uuid.UUID, str] | None:
        """The case's id and state behind a human reference."""
        statement = unscoped(
            select(Case.id, Case.state).where(Case.reference == reference.strip().upper()),
            FOR_THE_REQUEST,
        )
        row = self._session.exec(statement).first()
        return None if row is None else (row[0], row[1])

    def grants_since(self, *, user_id: uuid.UUID, case_id: uuid.UUID, since: datetime) -> int:
        """How many grants this user got for this case from `since` on."""
        statement = unscoped(
            select(func.count())
            .select_from(BreakGlassGrant)
            .where(
                col(BreakGlassGrant.user_id) == user_id,
                col(BreakGlassGrant.case_id) == case_id,
                col(BreakGlassGrant.granted_at) > since,
            ),
            "a count of the requester's own grants, for the renewal limit",
        )
        return int(self._session.exec(statement).one())

    def grant(self, grant_id: uuid.UUID) -> BreakGlassGrant | None:
        return self._session.get(
            BreakGlassGrant,
            grant_id,
            execution_options=exemption("the auditor's review of one grant"),
        )

    def record_review(
        self,
        grant: BreakGlassGrant,
        *,
        reviewed_by: uuid.UUID,
        reviewed_at: datetime,
        outcome: ReviewOutcome,
        note: str | None,
    ) -> bool:
        """Store the review unless one is already stored; False when someone was first.

        One conditional UPDATE, so two auditors at the same moment cannot both succeed."""
        result = self._session.connection().execute(
            update(BreakGlassGrant)
            .where(col(BreakGlassGrant.id) == grant.id, col(BreakGlassGrant.reviewed_at).is_(None))
            .values(
                reviewed_by=reviewed_by,
                reviewed_at=reviewed_at,
                review_outcome=outcome.value,
                review_note=None
                if note is None
                else seal("break_glass_grant.review_note", grant.id, note),
            )
        )
        if result.rowcount != 1:
            return False
        for name, value in (
            ("reviewed_by", reviewed_by),
            ("reviewed_at", reviewed_at),
            ("review_outcome", outcome.value),
            ("review_note", note),
        ):
            set_committed_value(grant, name, value)
        return True
