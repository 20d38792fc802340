"""The follow-up report's JSON: what a coordinator previews and publishes, and what anyone with
READ_FOLLOW_UP reads of the release ledger. Only safe aggregates: a suppressed value is null
(shown as "–" in the files), no person's id, no date of an event."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.reports.service import Draft, ReleaseView
from domain.statistics.render import document_dict
from domain.statistics.spec import ReportDocument

PERIOD_CODE = r"^[0-9A-Z-]{4,16}$"


class ReportKey(BaseModel):
    agreement_id: uuid.UUID
    activity_id: uuid.UUID
    period: str = Field(pattern=PERIOD_CODE, examples=["2026-T2"])


class NarrativeIn(ReportKey):
    narrative: str = Field(max_length=20_000)
    version: int = Field(ge=0, le=2**31 - 1, description="0 for a report not saved before")


class VersionIn(ReportKey):
    version: int = Field(ge=0, le=2**31 - 1)


class DraftOut(BaseModel):
    agreement_id: uuid.UUID
    activity_id: uuid.UUID
    period: str
    narrative: str
    state: str
    version: int
    last_release: int | None

    @classmethod
    def of(cls, draft: Draft) -> DraftOut:
        return cls(
            agreement_id=draft.agreement_id,
            activity_id=draft.activity_id,
            period=draft.period_code,
            narrative=draft.narrative,
            state=draft.state.value,
            version=draft.version,
            last_release=draft.last_release,
        )


class PreviewOut(BaseModel):
    draft: DraftOut
    document: dict[str, Any] = Field(description="The report as its JSON file would be")

    @classmethod
    def of(cls, draft: Draft, document: ReportDocument) -> PreviewOut:
        return cls(draft=DraftOut.of(draft), document=document_dict(document))


class ReleaseOut(BaseModel):
    id: uuid.UUID
    agreement_id: uuid.UUID
    agreement: str
    activity_id: uuid.UUID
    activity: str
    number: int
    period: str
    corrects: int | None
    corrected_by: int | None
    published_at: datetime
    json_sha256: str
    csv_sha256: str
    pdf_sha256: str
    release_sha256: str
    audit_checkpoint_size: int | None
    audit_checkpoint_root: str | None

    @classmethod
    def of(cls, view: ReleaseView) -> ReleaseOut:
        return cls(
            id=view.id,
            agreement_id=view.agreement_id,
            agreement=view.agreement,
            activity_id=view.activity_id,
            activity=view.document.activity,
            number=view.number,
            period=view.period_code,
            corrects=view.corrects,
            corrected_by=view.corrected_by,
            published_at=view.published_at,
            json_sha256=view.json_sha256,
            csv_sha256=view.csv_sha256,
            pdf_sha256=view.pdf_sha256,
            release_sha256=view.release_sha256,
            audit_checkpoint_size=view.checkpoint_size,
            audit_checkpoint_root=view.checkpoint_root,
        )


class ReleaseDetailOut(ReleaseOut):
    document: dict[str, Any]

    @classmethod
    def detail(cls, view: ReleaseView) -> ReleaseDetailOut:
        return cls(**ReleaseOut.of(view).model_dump(), document=document_dict(view.document))


class ReleaseListOut(BaseModel):
    items: list[ReleaseOut]
