from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.people import PersonDetailsOut
from domain.cases.models import Case
from domain.cases.repository import CaseSummary
from domain.cases.service import CasePage, CaseView


class CaseIn(BaseModel):
    young_person_id: uuid.UUID
    programme: str = Field(max_length=8, description="SSPF or SIG")


class TransitionIn(BaseModel):
    target: str = Field(max_length=32, description="The state to move to")
    version: int = Field(description="The case version this change is based on (from GET)")
    outcome: str | None = Field(default=None, max_length=32, description="Required when closing")


class PersonRef(BaseModel):
    id: uuid.UUID
    first_name: str
    last_name: str


class CaseSummaryOut(BaseModel):
    id: uuid.UUID
    reference: str
    programme: str
    state: str
    state_reason: str = Field(description="Why the case is in its state: see StateChangeOut.reason")
    outcome: str | None
    opened_at: datetime
    closed_at: datetime | None
    version: int

    @classmethod
    def of(cls, case: Case | CaseSummary) -> CaseSummaryOut:
        return cls(
            id=case.id,
            reference=case.reference,
            programme=case.programme,
            state=case.state,
            state_reason=case.state_reason,
            outcome=case.outcome,
            opened_at=case.opened_at,
            closed_at=case.closed_at,
            version=case.version,
        )


class CaseListItemOut(CaseSummaryOut):
    young_person: PersonRef


class CaseListOut(BaseModel):
    items: list[CaseListItemOut]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, page: CasePage) -> CaseListOut:
        items = [
            CaseListItemOut(
                **CaseSummaryOut.of(item).model_dump(),
                young_person=PersonRef(
                    id=item.young_person_id,
                    first_name=item.first_name,
                    last_name=item.last_name,
                ),
            )
            for item in page.items
        ]
        return cls(items=items, total=page.total, page=page.page, page_size=page.page_size)


class TeamMemberOut(BaseModel):
    user_id: uuid.UUID
    display_name: str
    agency_id: uuid.UUID
    agency_name: str
    role: str


class StateChangeOut(BaseModel):
    from_state: str | None
    to_state: str
    outcome: str | None
    reason: str = Field(
        description="opened, manual, or the consent rule that moved the case: consent_complete, "
        "consent_refused, consent_withdrawn, consent_expired, signer_missing, consent_incomplete"
    )
    changed_at: datetime
    changed_by: uuid.UUID | None = Field(description="Empty when the system moved the case")


class CaseOut(CaseSummaryOut):
    young_person: PersonDetailsOut
    owner_agency_id: uuid.UUID
    owner_agency_name: str
    team: list[TeamMemberOut]
    history: list[StateChangeOut]
    categories: list[str] = Field(description="The information categories you may see")

    @classmethod
    def of_view(cls, view: CaseView) -> CaseOut:
        return cls(
            **CaseSummaryOut.of(view.case).model_dump(),
            young_person=PersonDetailsOut.of(view.young_person),
            owner_agency_id=view.owner_agency.id,
            owner_agency_name=view.owner_agency.name,
            team=[
                TeamMemberOut(
                    user_id=member.user_id,
                    display_name=member.display_name,
                    agency_id=member.agency_id,
                    agency_name=member.agency_name,
                    role=member.role,
                )
                for member in view.team
            ],
            history=[
                StateChangeOut(
                    from_state=change.from_state,
                    to_state=change.to_state,
                    outcome=change.outcome,
                    reason=change.reason,
                    changed_at=change.changed_at,
                    changed_by=change.changed_by,
                )
                for change in view.history
            ],
            categories=sorted(view.categories),
        )
