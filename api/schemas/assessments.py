from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from domain.assessments.models import AssessmentFactor, CylinderLevel
from domain.assessments.service import AssessmentEntry, AssessmentPath


class AssessmentIn(BaseModel):
    level_code: str = Field(max_length=8, description="A current cylinder level's code")
    factor_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=100, description="Risk and protective factors ticked"
    )
    rationale: str = Field(max_length=8000)
    participant_user_ids: list[uuid.UUID] = Field(
        max_length=100, description="Team members who took part (at least one)"
    )
    meeting_id: uuid.UUID | None = Field(
        default=None, description="The case's meeting it was made at; or give assessed_on"
    )
    assessed_on: date | None = Field(default=None, description="When made, if not at a meeting")


class LevelOut(BaseModel):
    code: str
    rank: int
    wording: str


class FactorOut(BaseModel):
    id: uuid.UUID
    kind: str
    text: str


class ParticipantOut(BaseModel):
    user_id: uuid.UUID
    name: str
    agency_id: uuid.UUID
    agency_name: str


class AssessmentOut(BaseModel):
    """`level` holds the code, rank and wording the assessment was made with."""

    id: uuid.UUID
    case_id: uuid.UUID
    level: LevelOut
    movement: str
    risk_factors: list[FactorOut]
    protective_factors: list[FactorOut]
    rationale: str
    participants: list[ParticipantOut]
    meeting_id: uuid.UUID | None
    assessed_on: date
    author_agency_id: uuid.UUID
    recorded_by: uuid.UUID
    recorded_at: datetime

    @classmethod
    def of(cls, entry: AssessmentEntry) -> AssessmentOut:
        a = entry.assessment
        return cls(
            id=a.id,
            case_id=a.case_id,
            level=LevelOut(
                code=entry.level.code, rank=entry.level.rank, wording=entry.level.wording
            ),
            movement=entry.movement.value,
            risk_factors=[FactorOut(id=f.id, kind=f.kind, text=f.text) for f in entry.risk_factors],
            protective_factors=[
                FactorOut(id=f.id, kind=f.kind, text=f.text) for f in entry.protective_factors
            ],
            rationale=a.rationale,
            participants=[
                ParticipantOut(
                    user_id=p.user_id, name=p.name, agency_id=p.agency_id, agency_name=p.agency_name
                )
                for p in entry.participants
            ],
            meeting_id=a.meeting_id,
            assessed_on=a.assessed_on,
            author_agency_id=a.author_agency_id,
            recorded_by=a.recorded_by,
            recorded_at=a.recorded_at,
        )


class AssessmentListOut(BaseModel):
    """Oldest first; the last is current. Empty for a partner whose consent lacks `risk`."""

    case_id: uuid.UUID
    items: list[AssessmentOut]
    current: AssessmentOut | None

    @classmethod
    def of(cls, path: AssessmentPath) -> AssessmentListOut:
        items = [AssessmentOut.of(e) for e in path.entries]
        return cls(case_id=path.case.id, items=items, current=items[-1] if items else None)


class CylinderLevelOut(BaseModel):
    code: str
    version: int
    rank: int
    wording: str
    is_default: bool = Field(description="Part of the shipped default set, to be replaced")
    retired: bool
    recorded_at: datetime

    @classmethod
    def of(cls, row: CylinderLevel) -> CylinderLevelOut:
        return cls(
            code=row.code,
            version=row.version,
            rank=row.rank,
            wording=row.wording,
            is_default=row.is_default,
            retired=row.retired,
            recorded_at=row.recorded_at,
        )


class CylinderLevelIn(BaseModel):
    wording: str = Field(max_length=1000)
    rank: int = Field(description="0 at the bottom; the highest rank is the most active")
    version: int | None = Field(
        default=None, description="The current version to change; leave out to add a new level"
    )


class VersionIn(BaseModel):
    version: int = Field(description="The version this change is based on; a stale one gets 409")


class AssessmentFactorOut(BaseModel):
    id: uuid.UUID = Field(description="The factor across its versions")
    kind: str
    version: int
    rank: int
    text: str
    is_default: bool
    retired: bool
    recorded_at: datetime

    @classmethod
    def of(cls, row: AssessmentFactor) -> AssessmentFactorOut:
        return cls(
            id=row.factor_id,
            kind=row.kind,
            version=row.version,
            rank=row.rank,
            text=row.text,
            is_default=row.is_default,
            retired=row.retired,
            recorded_at=row.recorded_at,
        )


class AssessmentFactorIn(BaseModel):
    kind: str = Field(max_length=16, description="risk or protective")
    text: str = Field(max_length=1000)


class AssessmentFactorPatch(BaseModel):
    version: int = Field(description="The version this change is based on; a stale one gets 409")
    text: str = Field(max_length=1000)
