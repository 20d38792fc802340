"""Pure rules of the municipality's configuration: the consent ages' bounds, and the Swedish
words for a configuration change and its values (the history page shows them)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from common.errors import FieldError
from common.roles import AGENCY_KIND_LABELS, ROLE_LABELS, AgencyKind, Role

# The young person signs too from this age (DESIGN §2: 15, some municipalities 14).
YOUNG_PERSON_AGES = range(12, 19)
# The young person signs alone from this age: 18 in Sweden (guardians' custody ends).
ADULT_AGES = range(16, 22)


class ConfigKind(StrEnum):
    CONSENT_AGES = "consent_ages"
    REFERRAL_GROUNDS = "referral_grounds"
    ELIGIBILITY = "eligibility"
    CAPACITY = "capacity"
    CYLINDER_LEVEL = "cylinder_level"
    ASSESSMENT_FACTOR = "assessment_factor"


KIND_LABELS = {
    ConfigKind.CONSENT_AGES: "Samtyckesåldrar",
    ConfigKind.REFERRAL_GROUNDS: "Grunder för aktualisering",
    ConfigKind.ELIGIBILITY: "Åldersgrupper för insatserna",
    ConfigKind.CAPACITY: "Kapacitet",
    ConfigKind.CYLINDER_LEVEL: "Cylindernivå",
    ConfigKind.ASSESSMENT_FACTOR: "Risk- och skyddsfaktor",
}


class ConfigAction(StrEnum):
    ADD = "add"
    CHANGE = "change"
    RETIRE = "retire"


ACTION_LABELS = {
    ConfigAction.ADD: "Lade till",
    ConfigAction.CHANGE: "Ändrade",
    ConfigAction.RETIRE: "Tog bort",
}


def _age(value: int | str, field: str, allowed: range, errors: list[FieldError]) -> int | None:
    text = str(value).strip()
    if text.isdigit() and int(text) in allowed:
        return int(text)
    low, high = allowed[0], allowed[-1]
    errors.append(
        FieldError(
            field,
            f"Ange en ålder i hela år, {low}–{high}.",
            f"{field} must be a whole number {low}-{high}.",
        )
    )
    return None


def consent_ages(
    *, young_person_from_age: int | str, adult_age: int | str, errors: list[FieldError]
) -> tuple[int, int] | None:
    """The two ages as the administrator gives them: whole years within bounds, the age the
    young person signs too no higher than the age they sign alone."""
    young = _age(young_person_from_age, "young_person_from_age", YOUNG_PERSON_AGES, errors)
    adult = _age(adult_age, "adult_age", ADULT_AGES, errors)
    if young is None or adult is None:
        return None
    if young > adult:
        errors.append(
            FieldError(
                "young_person_from_age",
                "Åldern då den unga skriver under också kan inte vara högre än åldern då den "
                "unga skriver under ensam.",
                "young_person_from_age must not exceed adult_age.",
            )
        )
        return None
    return young, adult


def encode(value: Any) -> str | None:
    """A configuration value as stored in the history (None stays None)."""
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def decode(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _label(mapping: dict[Any, str], value: Any) -> str:
    return next((label for key, label in mapping.items() if key == value), str(value))


def _band(band: dict[str, Any]) -> str:
    crime = ", kräver brottskriterier" if band.get("requires_crime_criteria") else ""
    return f"{band['programme']} {band['label']}: {band['min_age']}–{band['max_age']} år{crime}"


def _capacity(rule: dict[str, Any]) -> str:
    kind = _label(AGENCY_KIND_LABELS, AgencyKind(rule["agency_kind"]))
    role = _label(ROLE_LABELS, Role(rule["role"])).lower()
    return f"{rule['programme']}, {kind}, {role}: {rule['per_person']} ärenden per person"


def describe(kind: str, value: Any) -> str:
    """A stored value in Swedish words; an absent value (before an addition, after a
    retirement) is the empty string."""
    if value is None:
        return ""
    match kind:
        case ConfigKind.CONSENT_AGES:
            return (
                f"Den unga skriver under också från {value['young_person_from_age']} år "
                f"och ensam från {value['adult_age']} år"
            )
        case ConfigKind.REFERRAL_GROUNDS:
            return "; ".join(str(label) for label in value)
        case ConfigKind.ELIGIBILITY:
            return "; ".join(_band(band) for band in value) or "Inga åldersgrupper"
        case ConfigKind.CAPACITY:
            return "; ".join(_capacity(rule) for rule in value) or "Inga gränser"
        case ConfigKind.CYLINDER_LEVEL:
            return f"Nivå {value['code']} (ordning {value['rank']}): {value['wording']}"
        case ConfigKind.ASSESSMENT_FACTOR:
            kind_word = "Riskfaktor" if value["kind"] == "risk" else "Skyddsfaktor"
            return f"{kind_word}: {value['text']}"
    return json.dumps(value, ensure_ascii=False)
