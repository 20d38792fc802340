"""Referrals (aktualiseringar): what a sender raises and sees, what triage reads and decides,
and the configuration the administrator keeps."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from domain.referrals.models import CapacityRule, EligibilityRule, ReferralGround
from domain.referrals.rules import sender_status
from domain.referrals.service import (
    DecisionResult,
    GroundLabel,
    InboxGroup,
    InboxItem,
    ReferralView,
    SenderItem,
    WaitingEntry,
)
from domain.referrals.settings import Settings

_VERSION = "The version this change is based on (from GET); a stale one gets 409"


class ReferralIn(BaseModel):
    """A personnummer, or (when unknown) a name and birth year with a note."""

    programme: str = Field(max_length=16, description="SSPF, SIG or assess (bedöm)")
    grounds: list[str] = Field(max_length=30, description="Ground ids from GET /referral-grounds")
    personnummer: str | None = Field(default=None, max_length=20)
    name: str | None = Field(default=None, max_length=300)
    birth_year: int | None = Field(default=None, ge=1900, le=2200)
    note: str | None = Field(default=None, max_length=2000)
    text: str | None = Field(default=None, max_length=8000, description="Free text, encrypted")
    receiving_agency_id: uuid.UUID | None = Field(
        default=None,
        description="The social-services unit to receive it (ignored when the young person "
        "is registered: it goes to their unit)",
    )


class HandOverIn(BaseModel):
    receiving_agency_id: uuid.UUID = Field(description="The social-services unit to send it to")
    version: int = Field(description=_VERSION)


class HandOverOut(BaseModel):
    id: uuid.UUID
    receiving_agency_id: uuid.UUID
    version: int


class DecisionIn(BaseModel):
    decision: str = Field(
        max_length=32, description="start_assessment, open_case, attach, wait_list or decline"
    )
    version: int = Field(description=_VERSION)
    programme: str | None = Field(default=None, max_length=8, description="SSPF or SIG")
    reason: str | None = Field(default=None, max_length=4000, description="Why it is declined")
    crime_criteria_met: bool | None = Field(
        default=None,
        description="SIG: known to social services and suspected of or convicted for a crime",
    )
    personnummer: str | None = Field(default=None, max_length=20)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    gender: str | None = Field(default=None, max_length=16)


class GroundOut(BaseModel):
    id: str
    label: str
    retired: bool

    @classmethod
    def of(cls, ground: GroundLabel) -> GroundOut:
        return cls(id=ground.id, label=ground.label, retired=ground.retired)


class SenderReferralOut(BaseModel):
    """All a sender learns: what they typed and a status."""

    id: uuid.UUID
    created_at: datetime
    programme: str
    grounds: list[GroundOut]
    identified_as: str
    status: str = Field(description="received, under_assessment, taken_up or not_taken_up")

    @classmethod
    def of(cls, item: SenderItem) -> SenderReferralOut:
        return cls(
            id=item.id,
            created_at=item.created_at,
            programme=item.programme,
            grounds=[GroundOut.of(g) for g in item.grounds],
            identified_as=item.identified_as,
            status=item.status.value,
        )


class SenderReferralListOut(BaseModel):
    items: list[SenderReferralOut]


class ReferralOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    programme: str
    case_programme: str | None
    identified_as: str
    note: str | None
    text: str | None
    grounds: list[GroundOut]
    sender_agency: str
    status: str
    sender_status: str
    decision: str | None
    decided_at: datetime | None
    days_to_decision: int | None
    waiting_since: datetime | None
    case_id: uuid.UUID | None
    version: int

    @classmethod
    def of(cls, item: InboxItem) -> ReferralOut:
        r = item.referral
        return cls(
            id=r.id,
            created_at=r.created_at,
            programme=r.programme,
            case_programme=r.case_programme,
            identified_as=item.identified_as,
            note=r.note,
            text=r.text,
            grounds=[GroundOut.of(g) for g in item.grounds],
            sender_agency=item.sender_agency,
            status=r.status,
            sender_status=sender_status(r.status).value,
            decision=r.decision,
            decided_at=r.decided_at,
            days_to_decision=r.days_to_decision,
            waiting_since=r.waiting_since,
            case_id=r.case_id,
            version=r.version,
        )


class InboxGroupOut(BaseModel):
    """Referrals about one young person (matched by blind index), oldest first."""

    referrals: list[ReferralOut]

    @classmethod
    def of(cls, group: InboxGroup) -> InboxGroupOut:
        return cls(referrals=[ReferralOut.of(item) for item in group.items])


class InboxOut(BaseModel):
    groups: list[InboxGroupOut]


class ReferralDetailOut(ReferralOut):
    sender_name: str
    receiving_agency: str
    decided_by: str | None
    decline_reason: str | None
    crime_criteria_met: bool | None
    duplicates: list[ReferralOut]
    young_person_id: uuid.UUID | None
    open_case_ids: list[uuid.UUID]
    case_reference: str | None
    days_to_first_meeting: int | None
    crime_criteria_needed: bool
    capacity_warnings: list[str]

    @classmethod
    def of_view(cls, view: ReferralView) -> ReferralDetailOut:
        base = ReferralOut.of(view.item).model_dump()
        r = view.item.referral
        return cls(
            **base,
            sender_name=view.sender_name,
            receiving_agency=view.receiving_agency,
            decided_by=view.decided_by_name,
            decline_reason=r.decline_reason,
            crime_criteria_met=r.crime_criteria_met,
            duplicates=[ReferralOut.of(d) for d in view.duplicates],
            young_person_id=view.young_person_id,
            open_case_ids=[c.id for c in view.open_cases],
            case_reference=view.case.reference if view.case else None,
            days_to_first_meeting=view.item.referral.days_to_first_meeting,
            crime_criteria_needed=view.crime_criteria_needed,
            capacity_warnings=[w.english for w in view.capacity],
        )


class DecisionOut(BaseModel):
    referral: ReferralOut
    case_id: uuid.UUID | None
    case_reference: str | None
    attached: bool = Field(description="Attached to the young person's open case")
    warnings: list[str] = Field(description="Capacity full: opened anyway")

    @classmethod
    def of(cls, result: DecisionResult, item: InboxItem) -> DecisionOut:
        return cls(
            referral=ReferralOut.of(item),
            case_id=result.case.id if result.case else None,
            case_reference=result.case.reference if result.case else None,
            attached=result.attached,
            warnings=[w.english for w in result.warnings],
        )


class WaitingOut(BaseModel):
    referral: ReferralOut
    programme: str
    waiting_since: datetime
    days_waited: int

    @classmethod
    def of(cls, entry: WaitingEntry) -> WaitingOut:
        return cls(
            referral=ReferralOut.of(entry.item),
            programme=entry.programme,
            waiting_since=entry.waiting_since,
            days_waited=entry.days_waited,
        )


class WaitingListOut(BaseModel):
    items: list[WaitingOut]


class GroundListOut(BaseModel):
    items: list[GroundOut]


# Configuration -----------------------------------------------------------------------------


class GroundSettingIn(BaseModel):
    id: uuid.UUID | None = Field(default=None, description="An active ground to keep")
    label: str = Field(max_length=400)


class GroundsIn(BaseModel):
    version: int = Field(description=_VERSION)
    items: list[GroundSettingIn] = Field(max_length=200)


class BandSetting(BaseModel):
    programme: str = Field(max_length=8)
    label: str = Field(max_length=200)
    min_age: int = Field(ge=-1000, le=1000)
    max_age: int = Field(ge=-1000, le=1000)
    requires_crime_criteria: bool = False


class EligibilityIn(BaseModel):
    version: int = Field(description=_VERSION)
    items: list[BandSetting] = Field(max_length=50)


class CapacitySetting(BaseModel):
    programme: str = Field(max_length=8)
    agency_kind: str = Field(max_length=32)
    role: str = Field(max_length=32)
    per_person: int = Field(ge=-1000000, le=1000000)


class CapacityIn(BaseModel):
    version: int = Field(description=_VERSION)
    items: list[CapacitySetting] = Field(max_length=50)


class GroundSettingOut(BaseModel):
    id: uuid.UUID
    label: str
    is_default: bool

    @classmethod
    def of(cls, row: ReferralGround) -> GroundSettingOut:
        return cls(id=row.id, label=row.label, is_default=row.is_default)


class BandOut(BandSetting):
    is_default: bool

    @classmethod
    def of(cls, row: EligibilityRule) -> BandOut:
        return cls(
            programme=row.programme,
            label=row.label,
            min_age=row.min_age,
            max_age=row.max_age,
            requires_crime_criteria=row.requires_crime_criteria,
            is_default=row.is_default,
        )


class CapacityOut(CapacitySetting):
    is_default: bool

    @classmethod
    def of(cls, row: CapacityRule) -> CapacityOut:
        return cls(
            programme=row.programme,
            agency_kind=row.agency_kind,
            role=row.role,
            per_person=row.per_person,
            is_default=row.is_default,
        )


class SettingsOut(BaseModel):
    grounds: list[GroundSettingOut]
    grounds_version: int
    eligibility: list[BandOut]
    eligibility_version: int
    capacity: list[CapacityOut]
    capacity_version: int

    @classmethod
    def of(cls, s: Settings) -> SettingsOut:
        return cls(
            grounds=[GroundSettingOut.of(g) for g in s.grounds],
            grounds_version=s.grounds_version,
            eligibility=[BandOut.of(b) for b in s.eligibility],
            eligibility_version=s.eligibility_version,
            capacity=[CapacityOut.of(c) for c in s.capacity],
            capacity_version=s.capacity_version,
        )
