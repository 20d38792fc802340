from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from domain.meetings.rules import ItemView
from domain.meetings.service import (
    AttendeeInput,
    AttendeeView,
    ItemInput,
    MeetingInput,
    MeetingSummary,
    MeetingView,
)

_TIME = "ISO 8601; without an offset it is Europe/Stockholm time. Stored and returned in UTC."


class AttendeeIn(BaseModel):
    kind: str = Field(max_length=16, description="user, young_person, guardian or other")
    user_id: uuid.UUID | None = Field(default=None, description="For `user`: a team member")
    guardian_id: uuid.UUID | None = Field(
        default=None, description="For `guardian`: a guardian of the case's young person"
    )
    name: str | None = Field(default=None, max_length=1000, description="For `other`")
    role: str | None = Field(default=None, max_length=1000, description="For `other`")
    status: str = Field(default="invited", max_length=16, description="invited, came or absent")

    def to_input(self) -> AttendeeInput:
        return AttendeeInput(
            kind=self.kind,
            user_id=self.user_id,
            guardian_id=self.guardian_id,
            name=self.name,
            role=self.role,
            status=self.status,
        )


class MeetingIn(BaseModel):
    kind: str = Field(
        max_length=32,
        description="start, network, team, follow_up, emergency_stop or worry_talk "
        "(ignored by emergency-meetings)",
    )
    starts_at: datetime = Field(description=_TIME)
    ends_at: datetime = Field(description=_TIME)
    place: str = Field(max_length=1000)
    chair_user_id: uuid.UUID | None = Field(
        default=None, description="A team member; you when left out"
    )
    attendees: list[AttendeeIn] = Field(default_factory=list, max_length=200)

    def to_input(self) -> MeetingInput:
        return MeetingInput(
            kind=self.kind,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            place=self.place,
            chair_user_id=self.chair_user_id,
            attendees=[a.to_input() for a in self.attendees],
        )


class EmergencyMeetingIn(BaseModel):
    starts_at: datetime = Field(description="Today or tomorrow, not in the past. " + _TIME)
    ends_at: datetime = Field(description=_TIME)
    place: str = Field(max_length=1000)
    chair_user_id: uuid.UUID | None = None
    attendees: list[AttendeeIn] = Field(default_factory=list, max_length=200)

    def to_input(self) -> MeetingInput:
        return MeetingInput(
            kind="emergency_stop",
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            place=self.place,
            chair_user_id=self.chair_user_id,
            attendees=[a.to_input() for a in self.attendees],
        )


class MeetingPatchIn(BaseModel):
    version: int = Field(description="The meeting version this change is based on (from GET)")
    starts_at: datetime | None = Field(default=None, description=_TIME)
    ends_at: datetime | None = Field(default=None, description=_TIME)
    place: str | None = Field(default=None, max_length=1000)
    chair_user_id: uuid.UUID | None = None
    status: str | None = Field(default=None, max_length=16, description="scheduled or cancelled")


class AttendanceIn(BaseModel):
    version: int = Field(description="The meeting version this list is based on")
    attendees: list[AttendeeIn] = Field(max_length=200)


class ItemIn(BaseModel):
    heading: str = Field(max_length=1000)
    text: str = Field(max_length=20000)
    category: str = Field(
        max_length=32,
        description="basic, school, social, police, leisure, health, risk or plan; a partner "
        "writes only in categories the consent covers for their agency",
    )
    visibility: str = Field(default="team", max_length=16, description="team or own_agency")
    decision: bool = False

    def to_input(self) -> ItemInput:
        return ItemInput(
            heading=self.heading,
            text=self.text,
            category=self.category,
            visibility=self.visibility,
            decision=self.decision,
        )


class ItemPatchIn(ItemIn):
    version: int = Field(description="The item version this edit is based on")


class FinaliseIn(BaseModel):
    version: int = Field(description="The meeting version the chair finalises")


class MeetingSummaryOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    case_reference: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    place: str
    status: str
    minutes_state: str
    finalised_at: datetime | None
    chair_user_id: uuid.UUID | None
    chair_name: str | None
    version: int
    sequence: int

    @classmethod
    def of(cls, summary: MeetingSummary) -> MeetingSummaryOut:
        return cls(**{name: getattr(summary, name) for name in cls.model_fields})


class AttendeeOut(BaseModel):
    id: uuid.UUID
    kind: str
    status: str
    name: str
    role_text: str | None
    user_id: uuid.UUID | None
    guardian_id: uuid.UUID | None

    @classmethod
    def of(cls, attendee: AttendeeView) -> AttendeeOut:
        return cls(**{name: getattr(attendee, name) for name in cls.model_fields})


class ItemOut(BaseModel):
    id: uuid.UUID
    heading: str
    text: str
    category: str
    visibility: str
    decision: bool
    author_user_id: uuid.UUID | None
    author_name: str | None
    author_agency_id: uuid.UUID | None
    author_agency_name: str | None
    amends_item_id: uuid.UUID | None = Field(
        description="The item this one corrects, when you may see it"
    )
    created_at: datetime
    updated_at: datetime
    version: int
    amendments: list[ItemOut] = Field(default_factory=list)

    @classmethod
    def of(cls, item: ItemView) -> ItemOut:
        fields = {name: getattr(item, name) for name in cls.model_fields if name != "amendments"}
        return cls(**fields, amendments=[cls.of(a) for a in item.amendments])


class MeetingOut(MeetingSummaryOut):
    attendees: list[AttendeeOut]
    items: list[ItemOut] = Field(description="The items you may see, amendments beside them")
    manages: bool
    writes: bool
    chairs: bool

    @classmethod
    def of_view(cls, view: MeetingView) -> MeetingOut:
        return cls(
            **MeetingSummaryOut.of(view.meeting).model_dump(),
            attendees=[AttendeeOut.of(a) for a in view.attendees],
            items=[ItemOut.of(i) for i in view.items],
            manages=view.manages,
            writes=view.writes,
            chairs=view.chairs,
        )
