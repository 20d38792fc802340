from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.configuration.service import ConsentAges, HistoryEntry, HistoryPage


class ConsentAgesIn(BaseModel):
    young_person_from_age: int = Field(description="The young person signs too from this age")
    adult_age: int = Field(description="The young person signs alone from this age")
    version: int = Field(description="The version the change is based on (0: the default)")


class ConsentAgesOut(BaseModel):
    young_person_from_age: int
    adult_age: int
    version: int = Field(description="0 while the settings' default applies")
    in_force_from: datetime | None

    @classmethod
    def of(cls, ages: ConsentAges) -> ConsentAgesOut:
        return cls(
            young_person_from_age=ages.young_person_from_age,
            adult_age=ages.adult_age,
            version=ages.version,
            in_force_from=ages.in_force_from,
        )


class ConfigChangeOut(BaseModel):
    id: uuid.UUID
    changed_at: datetime
    changed_by: uuid.UUID
    changed_by_name: str
    kind: str = Field(
        description="consent_ages, referral_grounds, eligibility, capacity, cylinder_level "
        "or assessment_factor"
    )
    subject: str = Field(description="The item changed: a level's code, a factor's id, or the kind")
    action: str = Field(description="add, change or retire")
    old_value: Any = Field(description="The value before (null for an addition)")
    new_value: Any = Field(description="The value after (null for a retirement)")

    @classmethod
    def of(cls, entry: HistoryEntry) -> ConfigChangeOut:
        change = entry.change
        return cls(
            id=change.id,
            changed_at=change.changed_at,
            changed_by=change.changed_by,
            changed_by_name=entry.who,
            kind=change.kind,
            subject=change.subject,
            action=change.action,
            old_value=entry.old,
            new_value=entry.new,
        )


class ConfigHistoryOut(BaseModel):
    items: list[ConfigChangeOut]
    total: int
    offset: int
    limit: int

    @classmethod
    def of(cls, page: HistoryPage) -> ConfigHistoryOut:
        return cls(
            items=[ConfigChangeOut.of(e) for e in page.entries],
            total=page.total,
            offset=page.offset,
            limit=page.limit,
        )
