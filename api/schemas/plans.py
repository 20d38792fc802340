from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from domain.plans.models import PlanGoal
from domain.plans.service import CommitmentPage, CommitmentView, PlanView

_VERSION = "The version this change is based on (from GET); a stale one gets 409"


class GoalIn(BaseModel):
    text: str = Field(max_length=4000, description="The goal, in the team's words")


class GoalPatch(BaseModel):
    version: int = Field(description=_VERSION)
    text: str | None = Field(default=None, max_length=4000)
    status: str | None = Field(default=None, max_length=16, description="open, reached or dropped")


class CommitmentIn(BaseModel):
    what: str = Field(max_length=4000)
    agency_id: uuid.UUID = Field(
        description="The committing agency: the owning unit or an agency on the case team"
    )
    person_user_id: uuid.UUID | None = Field(
        default=None, description="A team member of the committing agency (optional)"
    )
    due_on: date
    comment: str | None = Field(default=None, max_length=4000)
    decided_at_meeting_id: uuid.UUID | None = Field(
        default=None, description="The meeting that decided it (optional)"
    )


class CommitmentPatch(BaseModel):
    """The committing agency's contact persons may send `status` "done" and `comment`; the
    case's social worker or coordinator any field. A field left out is left as it is;
    `person_user_id` null removes the named person, `comment` "" clears the comment."""

    version: int = Field(description=_VERSION)
    status: str | None = Field(default=None, max_length=16, description="open, done or cancelled")
    comment: str | None = Field(default=None, max_length=4000)
    due_on: date | None = None
    what: str | None = Field(default=None, max_length=4000)
    person_user_id: uuid.UUID | None = None


class GoalOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    text: str
    status: str
    author_agency_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, goal: PlanGoal) -> GoalOut:
        return cls(
            id=goal.id,
            case_id=goal.case_id,
            text=goal.text,
            status=goal.status,
            author_agency_id=goal.author_agency_id,
            created_at=goal.created_at,
            updated_at=goal.updated_at,
            version=goal.version,
        )


class CommitmentOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str
    what: str
    agency_id: uuid.UUID
    agency_name: str
    person_user_id: uuid.UUID | None
    person_name: str | None
    due_on: date
    status: str
    overdue: bool = Field(description="Open and past its due date (Europe/Stockholm)")
    comment: str | None
    decided_at_meeting_id: uuid.UUID | None
    created_at: datetime
    completed_at: datetime | None
    completed_by: uuid.UUID | None
    version: int
    updatable: bool = Field(description="You may complete or comment on it (or edit it)")

    @classmethod
    def of(cls, view: CommitmentView) -> CommitmentOut:
        c = view.commitment
        return cls(
            id=c.id,
            case_id=c.case_id,
            case_reference=view.case.reference,
            what=c.what,
            agency_id=c.agency_id,
            agency_name=view.agency_name,
            person_user_id=c.person_user_id,
            person_name=view.person_name,
            due_on=c.due_on,
            status=c.status,
            overdue=view.overdue,
            comment=c.comment,
            decided_at_meeting_id=c.decided_at_meeting_id,
            created_at=c.created_at,
            completed_at=c.completed_at,
            completed_by=c.completed_by,
            version=c.version,
            updatable=view.updatable,
        )


class PlanOut(BaseModel):
    case_id: uuid.UUID
    goals: list[GoalOut]
    commitments: list[CommitmentOut]
    editable: bool = Field(description="You may add and edit goals and commitments")

    @classmethod
    def of(cls, view: PlanView) -> PlanOut:
        return cls(
            case_id=view.case.id,
            goals=[GoalOut.of(goal) for goal in view.goals],
            commitments=[CommitmentOut.of(c) for c in view.commitments],
            editable=view.editable,
        )


class CommitmentListOut(BaseModel):
    items: list[CommitmentOut]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, page: CommitmentPage) -> CommitmentListOut:
        return cls(
            items=[CommitmentOut.of(c) for c in page.items],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
        )
