"""The cylinder model's rules (DESIGN §2, issue 13 item 3). Pure: no database.

A level is chosen by its code from the current configuration; a factor by its id from the
current catalogues; a retired or unknown one is refused, naming the field. The path over time
orders assessments by the day they were made (then by when they were recorded); the last one
is current. A level's `rank` orders the cylinder: 0 at the bottom, the highest the most
criminally active and influential, so a move to a higher rank is a move up.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from common.errors import FieldError

MAX_RATIONALE = 4000
MAX_WORDING = 300
MAX_RANK = 99
CODE_PATTERN = re.compile(r"^[0-9A-ZÅÄÖ]{1,8}$")


class FactorKind(StrEnum):
    RISK = "risk"
    PROTECTIVE = "protective"


FACTOR_KIND_LABELS = {FactorKind.RISK: "Riskfaktorer", FactorKind.PROTECTIVE: "Skyddsfaktorer"}


class Movement(StrEnum):
    FIRST = "first"
    UP = "up"
    DOWN = "down"
    SAME = "same"


MOVEMENT_LABELS = {
    Movement.FIRST: "Första bedömningen",
    Movement.UP: "Upp (högre risk)",
    Movement.DOWN: "Ned (lägre risk)",
    Movement.SAME: "Oförändrad",
}


@dataclass(frozen=True)
class Level:
    code: str
    rank: int
    wording: str


@dataclass(frozen=True)
class Factor:
    id: uuid.UUID
    kind: str
    text: str


@dataclass(frozen=True)
class Participant:
    user_id: uuid.UUID
    name: str
    agency_id: uuid.UUID
    agency_name: str


def choose_level(code: str, levels: Iterable[Level], errors: list[FieldError]) -> Level | None:
    """The current level with this code; an unknown or retired code is an error."""
    wanted = code.strip()
    for level in levels:
        if level.code == wanted:
            return level
    if not wanted:
        errors.append(FieldError("level_code", "Välj en nivå.", "level_code is required."))
    else:
        errors.append(
            FieldError(
                "level_code",
                "Nivån finns inte i kommunens cylindermodell. Välj en av nivåerna.",
                f"level_code {wanted!r} is not a current cylinder level.",
            )
        )
    return None


def choose_factors(
    ids: Iterable[uuid.UUID], catalogue: Iterable[Factor], errors: list[FieldError]
) -> list[Factor]:
    """The ticked factors in catalogue order (each once); any id not in the current
    catalogues makes the whole choice an error."""
    by_id = {factor.id: factor for factor in catalogue}
    wanted = set(ids)
    unknown = sorted(str(i) for i in wanted - set(by_id))
    if unknown:
        errors.append(
            FieldError(
                "factor_ids",
                "En vald faktor finns inte i katalogen. Välj bland faktorerna i listan.",
                f"factor_ids names factors not in the current catalogues: {', '.join(unknown)}.",
            )
        )
        return []
    return [factor for factor in by_id.values() if factor.id in wanted]


def choose_participants(
    user_ids: Iterable[uuid.UUID],
    team: Mapping[uuid.UUID, Participant],
    errors: list[FieldError],
) -> list[Participant]:
    """Who took part: at least one, each a member of the case's team."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        errors.append(
            FieldError(
                "participant_user_ids",
                "Ange vilka i teamet som deltog i bedömningen.",
                "participant_user_ids must name at least one team member.",
            )
        )
        return []
    outside = [str(u) for u in wanted if u not in team]
    if outside:
        errors.append(
            FieldError(
                "participant_user_ids",
                "Bara personer i ärendets team kan anges som deltagare.",
                f"participant_user_ids names users not on the case team: {', '.join(outside)}.",
            )
        )
        return []
    return [team[u] for u in wanted]


def rationale_text(value: str, errors: list[FieldError]) -> str | None:
    text = value.strip()
    if not text:
        errors.append(
            FieldError(
                "rationale", "Skriv en motivering till bedömningen.", "rationale is required."
            )
        )
        return None
    if len(text) > MAX_RATIONALE:
        errors.append(
            FieldError(
                "rationale",
                f"Motiveringen får vara högst {MAX_RATIONALE} tecken.",
                f"rationale must be at most {MAX_RATIONALE} characters.",
            )
        )
        return None
    return text


def assessment_day(
    *,
    given: date | None,
    meeting_day: date | None,
    has_meeting: bool,
    today: date,
    errors: list[FieldError],
) -> date | None:
    """The day of the assessment: the meeting's day when made at a meeting (a date given too
    must be the same day), else the date given; never in the future."""
    if has_meeting:
        if meeting_day is None:
            return None  # the meeting was refused already
        if given is not None and given != meeting_day:
            errors.append(
                FieldError(
                    "assessed_on",
                    "Datumet stämmer inte med mötets datum. Ange antingen möte eller datum.",
                    "assessed_on differs from the meeting's day: give one or the other.",
                )
            )
            return None
        if meeting_day > today:
            errors.append(
                FieldError(
                    "meeting_id",
                    "Mötet har inte hållits än. Välj ett möte som har varit.",
                    "meeting_id names a meeting that has not taken place yet.",
                )
            )
            return None
        return meeting_day
    if given is None:
        errors.append(
            FieldError(
                "assessed_on",
                "Ange mötet eller datumet då bedömningen gjordes.",
                "meeting_id or assessed_on is required.",
            )
        )
        return None
    if given > today:
        errors.append(
            FieldError(
                "assessed_on",
                "Datumet kan inte vara i framtiden.",
                "assessed_on cannot be in the future.",
            )
        )
        return None
    return given


def level_config(
    *, code: str, wording: str, rank: int, others: Iterable[Level], errors: list[FieldError]
) -> Level | None:
    """A level as the administrator configures it: a short code (digits and capitals), its
    wording, and a rank no other current level has."""
    clean_code = code.strip()
    text = wording.strip()
    if not CODE_PATTERN.match(clean_code):
        errors.append(
            FieldError(
                "code",
                "Koden är 1–8 tecken: siffror och versaler.",
                "code must be 1-8 digits or capital letters.",
            )
        )
    if not text or len(text) > MAX_WORDING:
        errors.append(
            FieldError(
                "wording",
                f"Skriv nivåns formulering (högst {MAX_WORDING} tecken).",
                f"wording is required, at most {MAX_WORDING} characters.",
            )
        )
    if not 0 <= rank <= MAX_RANK:
        errors.append(
            FieldError("rank", f"Ordningen är 0–{MAX_RANK}.", f"rank must be 0..{MAX_RANK}.")
        )
    elif any(level.rank == rank and level.code != clean_code for level in others):
        errors.append(
            FieldError(
                "rank",
                "En annan nivå har redan den ordningen.",
                "rank is taken by another current level.",
            )
        )
    if errors:
        return None
    return Level(code=clean_code, rank=rank, wording=text)


def factor_text(value: str, errors: list[FieldError]) -> str | None:
    text = value.strip()
    if not text or len(text) > MAX_WORDING:
        errors.append(
            FieldError(
                "text",
                f"Skriv faktorns text (högst {MAX_WORDING} tecken).",
                f"text is required, at most {MAX_WORDING} characters.",
            )
        )
        return None
    return text


def factor_kind(value: str, errors: list[FieldError]) -> FactorKind | None:
    try:
        return FactorKind(value)
    except ValueError:
        errors.append(
            FieldError(
                "kind",
                "Välj riskfaktor eller skyddsfaktor.",
                "kind must be risk or protective.",
            )
        )
        return None


def axis_levels(current: Sequence[Level], used: Iterable[Level]) -> list[Level]:
    """The levels of a chart's vertical axis, bottom first: the current configuration, and
    any level an assessment was made with that the configuration no longer has (shown with
    the wording it was made with)."""
    by_code = {level.code: level for level in current}
    for level in used:
        by_code.setdefault(level.code, level)
    return sorted(by_code.values(), key=lambda level: (level.rank, level.code))


def movements(ranks: Sequence[int]) -> list[Movement]:
    """How each assessment on a path moved from the one before it."""
    moved: list[Movement] = []
    for index, rank in enumerate(ranks):
        if index == 0:
            moved.append(Movement.FIRST)
        elif rank > ranks[index - 1]:
            moved.append(Movement.UP)
        elif rank < ranks[index - 1]:
            moved.append(Movement.DOWN)
        else:
            moved.append(Movement.SAME)
    return moved


def factors_json(factors: Sequence[Factor]) -> str:
    return json.dumps(
        [{"id": str(f.id), "kind": f.kind, "text": f.text} for f in factors], ensure_ascii=False
    )


def factors_from_json(value: str) -> list[Factor]:
    rows: list[dict[str, Any]] = json.loads(value)
    return [Factor(id=uuid.UUID(r["id"]), kind=r["kind"], text=r["text"]) for r in rows]


def participants_json(participants: Sequence[Participant]) -> str:
    return json.dumps(
        [
            {
                "user_id": str(p.user_id),
                "name": p.name,
                "agency_id": str(p.agency_id),
                "agency_name": p.agency_name,
            }
            for p in participants
        ],
        ensure_ascii=False,
    )


def participants_from_json(value: str) -> list[Participant]:
    rows: list[dict[str, Any]] = json.loads(value)
    return [
        Participant(
            user_id=uuid.UUID(r["user_id"]),
            name=r["name"],
            agency_id=uuid.UUID(r["agency_id"]),
            agency_name=r["agency_name"],
        )
        for r in rows
    ]
