from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from consent.models import ConsentRecord, ConsentWithdrawal
from domain.consents.service import ConsentOverview


class ConsentIn(BaseModel):
    signer: str = Field(max_length=40, description='"young_person" or the guardian\'s id')
    decision: str = Field(max_length=16, description="given or refused")
    signed_on: date
    valid_from: date | None = None
    valid_until: date | None = Field(
        default=None, description="inclusive; null = until further notice"
    )
    agencies: list[str] = Field(default_factory=list, max_length=50)
    categories: list[str] = Field(default_factory=list, max_length=8)
    method: str = Field(
        max_length=32, description="paper_form, digital_signature or verbal_documented"
    )


class ConsentOut(BaseModel):
    id: uuid.UUID
    signer_kind: str
    guardian_id: uuid.UUID | None
    decision: str
    signed_on: date
    valid_from: date
    valid_until: date | None
    agencies: list[str]
    categories: list[str]
    method: str
    document_sha256: str | None
    recorded_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, record: ConsentRecord, withdrawal: ConsentWithdrawal | None) -> ConsentOut:
        return cls(
            id=record.id,
            signer_kind=record.signer_kind,
            guardian_id=record.guardian_id,
            decision=record.decision,
            signed_on=record.signed_on,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            agencies=record.agencies,
            categories=record.categories,
            method=record.method,
            document_sha256=record.document_sha256,
            recorded_at=record.recorded_at,
            withdrawn_at=withdrawal.withdrawn_at if withdrawal else None,
        )


class EffectiveOut(BaseModel):
    complete: bool
    agencies: list[str]
    categories: list[str]
    basis: list[uuid.UUID]
    missing_signers: list[str]


class ConsentOverviewOut(BaseModel):
    case_id: uuid.UUID
    state: str
    records: list[ConsentOut]
    effective: EffectiveOut

    @classmethod
    def of(cls, overview: ConsentOverview) -> ConsentOverviewOut:
        eff = overview.effective
        return cls(
            case_id=overview.case.id,
            state=overview.case.state,
            records=[ConsentOut.of(r, w) for r, w in overview.records],
            effective=EffectiveOut(
                complete=eff.complete,
                agencies=sorted(str(a) for a in eff.agencies),
                categories=sorted(eff.categories),
                basis=list(eff.basis),
                missing_signers=sorted(
                    s.kind.value if s.guardian_id is None else str(s.guardian_id)
                    for s in eff.missing
                ),
            ),
        )


class TeamMemberIn(BaseModel):
    user_id: uuid.UUID
