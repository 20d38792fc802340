"""The rules of referrals (aktualiseringar): statuses, what the sender may know, eligibility
by age band, and capacity. Pure: no database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from common.clock import STOCKHOLM
from common.errors import Conflict, ValidationFailed


class WishedProgramme(StrEnum):
    SSPF = "SSPF"
    SIG = "SIG"
    ASSESS = "assess"  # "bedöm": social services decide which, if any


class ReferralStatus(StrEnum):
    RECEIVED = "received"
    UNDER_ASSESSMENT = "under_assessment"
    WAITING = "waiting"  # internal: the sender sees "under assessment"
    TAKEN_UP = "taken_up"
    NOT_TAKEN_UP = "not_taken_up"


class Decision(StrEnum):
    START_ASSESSMENT = "start_assessment"
    OPEN_CASE = "open_case"
    ATTACH = "attach"
    WAIT_LIST = "wait_list"
    DECLINE = "decline"


class SenderStatus(StrEnum):
    """All a sender ever learns of their referral."""

    RECEIVED = "received"
    UNDER_ASSESSMENT = "under_assessment"
    TAKEN_UP = "taken_up"
    NOT_TAKEN_UP = "not_taken_up"


PROGRAMME_LABELS = {
    WishedProgramme.SSPF: "SSPF",
    WishedProgramme.SIG: "SIG",
    WishedProgramme.ASSESS: "Bedöm",
}
STATUS_LABELS = {
    ReferralStatus.RECEIVED: "Mottagen",
    ReferralStatus.UNDER_ASSESSMENT: "Under bedömning",
    ReferralStatus.WAITING: "På väntelistan",
    ReferralStatus.TAKEN_UP: "Tagen upp",
    ReferralStatus.NOT_TAKEN_UP: "Inte tagen upp",
}
SENDER_STATUS_LABELS = {
    SenderStatus.RECEIVED: "Mottagen",
    SenderStatus.UNDER_ASSESSMENT: "Under bedömning",
    SenderStatus.TAKEN_UP: "Tagen upp",
    SenderStatus.NOT_TAKEN_UP: "Inte tagen upp",
}
DECISION_LABELS = {
    Decision.START_ASSESSMENT: "Påbörja bedömning",
    Decision.OPEN_CASE: "Öppna ärende",
    Decision.ATTACH: "Koppla till pågående ärende",
    Decision.WAIT_LIST: "Sätt på väntelistan",
    Decision.DECLINE: "Avslå",
}
DECIDED = frozenset({ReferralStatus.TAKEN_UP, ReferralStatus.NOT_TAKEN_UP})


def sender_status(status: str) -> SenderStatus:
    """What the sender sees: waiting is "under assessment", a case opened or attached is
    "taken up". Nothing of the decision, its reason or the case."""
    mapping = {
        ReferralStatus.RECEIVED: SenderStatus.RECEIVED,
        ReferralStatus.UNDER_ASSESSMENT: SenderStatus.UNDER_ASSESSMENT,
        ReferralStatus.WAITING: SenderStatus.UNDER_ASSESSMENT,
        ReferralStatus.TAKEN_UP: SenderStatus.TAKEN_UP,
        ReferralStatus.NOT_TAKEN_UP: SenderStatus.NOT_TAKEN_UP,
    }
    return mapping[ReferralStatus(status)]


def status_after(current: str, decision: Decision) -> ReferralStatus:
    """The status a decision leads to; a decided referral takes no second decision (409)."""
    now = ReferralStatus(current)
    if now in DECIDED:
        raise Conflict(
            "Aktualiseringen är redan beslutad.", english="The referral is already decided."
        )
    if decision is Decision.START_ASSESSMENT:
        if now is not ReferralStatus.RECEIVED:
            raise Conflict(
                "Bedömningen är redan påbörjad.", english="The assessment has already started."
            )
        return ReferralStatus.UNDER_ASSESSMENT
    if decision is Decision.WAIT_LIST:
        if now is ReferralStatus.WAITING:
            raise Conflict(
                "Den unga personen står redan på väntelistan.",
                english="The referral is already on the waiting list.",
            )
        return ReferralStatus.WAITING
    if decision is Decision.DECLINE:
        return ReferralStatus.NOT_TAKEN_UP
    return ReferralStatus.TAKEN_UP


def parse_decision(value: str) -> Decision:
    try:
        return Decision(value)
    except ValueError:
        raise ValidationFailed.one(
            "decision", "Välj ett beslut.", "Unknown decision: choose one of the listed."
        ) from None


def parse_programme(value: str, *, field_name: str = "programme") -> WishedProgramme:
    try:
        return WishedProgramme(value)
    except ValueError:
        raise ValidationFailed.one(
            field_name, "Välj SSPF, SIG eller Bedöm.", "Choose SSPF, SIG or assess."
        ) from None


# Eligibility -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeBand:
    """One eligible group of a programme: ages `min_age`..`max_age` inclusive. SIG groups
    also ask for the recorded "known to social services and suspected of or convicted for a
    crime" (`requires_crime_criteria`)."""

    programme: str
    label: str
    min_age: int
    max_age: int
    requires_crime_criteria: bool


def age_on(birth_date: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def possible_ages(*, birth_date: date | None, birth_year: int | None, on: date) -> set[int]:
    """The ages a young person may have: exact from a birth date, two from a year alone."""
    if birth_date is not None:
        return {age_on(birth_date, on)}
    if birth_year is not None:
        return {on.year - birth_year - 1, on.year - birth_year}
    return set()


def matching_band(
    programme: str,
    bands: Sequence[AgeBand],
    *,
    birth_date: date | None,
    birth_year: int | None,
    on: date,
) -> AgeBand | None:
    """The first band of `programme` the young person's age fits; None when none does. A
    programme with no bands configured, or an unknown age, fits (nothing to check)."""
    own = [band for band in bands if band.programme == programme]
    ages = possible_ages(birth_date=birth_date, birth_year=birth_year, on=on)
    if not own or not ages:
        return own[0] if own else None
    for band in own:
        if any(band.min_age <= age <= band.max_age for age in ages):
            return band
    return None


def check_age(
    programme: str,
    bands: Sequence[AgeBand],
    *,
    birth_date: date | None,
    birth_year: int | None,
    on: date,
    field_name: str = "programme",
) -> None:
    """422 naming `field_name` when the programme has bands and the age fits none."""
    own = [band for band in bands if band.programme == programme]
    ages = possible_ages(birth_date=birth_date, birth_year=birth_year, on=on)
    if not own or not ages:
        return
    if matching_band(programme, bands, birth_date=birth_date, birth_year=birth_year, on=on):
        return
    spans = ", ".join(f"{band.min_age}–{band.max_age}" for band in own)
    raise ValidationFailed.one(
        field_name,
        f"Den unga personens ålder passar inte {programme} (åldrar {spans} år).",
        f"The young person's age is outside {programme}'s age bands ({spans}).",
    )


def needs_crime_criteria(programme: str, bands: Sequence[AgeBand]) -> bool:
    return any(band.requires_crime_criteria for band in bands if band.programme == programme)


# Capacity --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityLoad:
    """How loaded one capacity rule is: `persons` holding the role in agencies of the kind,
    each carrying at most `per_person` open cases of the programme; `load` cases now."""

    programme: str
    agency_kind: str
    role: str
    per_person: int
    persons: int
    load: int

    @property
    def capacity(self) -> int:
        return self.persons * self.per_person

    @property
    def full(self) -> bool:
        return self.persons > 0 and self.load >= self.capacity


ROLE_WORDS = {"contact_person": "kontaktpersoner", "coordinator": "samordnare"}
KIND_WORDS = {
    "police": "Polisens",
    "school": "Skolans",
    "leisure": "Fritidens",
    "social_services": "Socialtjänstens",
    "other": "Andra aktörers",
}


@dataclass(frozen=True)
class CapacityWarning:
    swedish: str
    english: str


def capacity_warnings(loads: Sequence[CapacityLoad]) -> list[CapacityWarning]:
    """One warning per full rule: opening past capacity is allowed, never silent."""
    return [
        CapacityWarning(
            swedish=(
                f"{KIND_WORDS.get(load.agency_kind, load.agency_kind)} "
                f"{ROLE_WORDS.get(load.role, load.role)} har full kapacitet för {load.programme}: "
                f"{load.load} ärenden på {load.capacity} platser."
            ),
            english=(
                f"Capacity is full for {load.programme} ({load.agency_kind} {load.role}): "
                f"{load.load} cases for {load.capacity} places."
            ),
        )
        for load in loads
        if load.full
    ]


def days_between(start: datetime, end: datetime) -> int:
    """Calendar days in Europe/Stockholm from `start` to `end`."""
    return (end.astimezone(STOCKHOLM).date() - start.astimezone(STOCKHOLM).date()).days
