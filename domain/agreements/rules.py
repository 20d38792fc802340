"""Pure rules of the collaboration agreement: what a valid agreement, activity and target are,
which periods an agreement has, what may change once its grid is frozen, and how one
activity's follow-up is asked of the statistics service. No database.

Input comes as the pages send it (text) or as the JSON API does (typed); each check appends a
`FieldError` naming the field, so one form answers every problem at once.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from common.errors import Conflict, FieldError, ValidationFailed
from domain.agreements.models import MAX_K, MIN_K, Agreement, AgreementActivity
from domain.statistics.disclosure import Release
from domain.statistics.periods import Period, PeriodKind, periods
from domain.statistics.spec import (
    INDICATORS,
    Breakdown,
    Comparison,
    Coverage,
    Grid,
    StatisticsRequest,
    TargetKind,
)

PROGRAMMES = ("SSPF", "SIG")
NAME_MAX = 200
TITLE_MAX = 300
MAX_SHARE = 100


class GridFrozen(Conflict):
    """The grid (breakdowns, areas, schools), k, the period kind and the dates are fixed once
    the first report is published: a release may never be cut differently from the last."""

    code = "grid_frozen"

    def __init__(self) -> None:
        super().__init__(
            "Överenskommelsens indelning (perioder, k, nedbrytningar, områden och skolor) är "
            "låst sedan den första uppföljningen publicerades. En publicerad överenskommelse "
            "kan inte få en ny version: skapa en ny överenskommelse i stället.",
            english="The agreement's grid (periods, k, breakdowns, areas, schools) is frozen "
            "since its first report was published. A published agreement cannot get a new "
            "version: create a new agreement instead.",
        )


# --- parsing of single fields ------------------------------------------------------------


def text(
    value: str | None,
    field: str,
    errors: list[FieldError],
    *,
    limit: int = NAME_MAX,
    required: bool = True,
) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        errors.append(FieldError(field, "Fyll i fältet.", "Required."))
    elif len(cleaned) > limit:
        errors.append(FieldError(field, f"Högst {limit} tecken.", f"At most {limit} characters."))
    return cleaned


def day(value: date | str | None, field: str, errors: list[FieldError]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        errors.append(FieldError(field, "Ange ett datum som ÅÅÅÅ-MM-DD.", "A date as YYYY-MM-DD."))
        return None


def whole_number(value: int | str | None, field: str, errors: list[FieldError]) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        errors.append(FieldError(field, "Ange ett heltal.", "A whole number."))
        return None


def period_kind(value: str | None, errors: list[FieldError]) -> PeriodKind | None:
    try:
        return PeriodKind(value or "")
    except ValueError:
        errors.append(
            FieldError(
                "period_kind",
                "Välj tertial, halvår, termin eller år.",
                "One of: " + ", ".join(kind.value for kind in PeriodKind) + ".",
            )
        )
        return None


def k_value(value: int | str | None, errors: list[FieldError]) -> int | None:
    k = whole_number(value, "k", errors)
    if k is not None and not MIN_K <= k <= MAX_K:
        errors.append(
            FieldError(
                "k",
                f"k ska vara mellan {MIN_K} och {MAX_K}.",
                f"k must be between {MIN_K} and {MAX_K}.",
            )
        )
        return None
    return k


def breakdowns(values: Iterable[str], errors: list[FieldError]) -> list[str]:
    found: list[str] = []
    for value in values:
        try:
            breakdown = Breakdown(value)
        except ValueError:
            errors.append(
                FieldError(
                    "breakdowns",
                    f"Okänd nedbrytning: {value}.",
                    "Each of: " + ", ".join(b.value for b in Breakdown) + ".",
                )
            )
            continue
        if breakdown.value not in found:
            found.append(breakdown.value)
    # Keep the order of `Breakdown`, so the same grid always reads the same way.
    return [b.value for b in Breakdown if b.value in found]


def names(values: Iterable[str], field: str, errors: list[FieldError]) -> list[str]:
    """Distinct, trimmed, non-empty names in the order given."""
    found: list[str] = []
    for value in values:
        cleaned = value.strip()
        if not cleaned:
            continue
        if len(cleaned) > NAME_MAX:
            errors.append(FieldError(field, f"Högst {NAME_MAX} tecken per namn.", "Name too long."))
        elif cleaned not in found:
            found.append(cleaned)
    return found


def ids(values: Iterable[str | uuid.UUID], field: str, errors: list[FieldError]) -> list[str]:
    found: list[str] = []
    for value in values:
        try:
            text_id = str(uuid.UUID(str(value).strip()))
        except ValueError:
            errors.append(FieldError(field, "Okänd skola.", "Not a school agency id."))
            continue
        if text_id not in found:
            found.append(text_id)
    return found


def programmes(values: Iterable[str], errors: list[FieldError]) -> list[str]:
    found: list[str] = []
    for value in values:
        if value not in PROGRAMMES:
            errors.append(
                FieldError("programmes", f"Okänd insats: {value}.", "Each of: SSPF, SIG.")
            )
        elif value not in found:
            found.append(value)
    return [p for p in PROGRAMMES if p in found]


def letter(value: str | None, errors: list[FieldError]) -> str:
    cleaned = (value or "").strip().upper()
    if len(cleaned) != 1 or not "A" <= cleaned <= "Z":
        errors.append(FieldError("letter", "Ange en bokstav A–Z.", "One letter A-Z."))
    return cleaned


# --- the agreement -------------------------------------------------------------------------


def agreement_periods(agreement: Agreement) -> list[Period]:
    return periods(PeriodKind(agreement.period_kind), agreement.starts_on, agreement.ends_on)


def check_dates(
    starts_on: date | None,
    ends_on: date | None,
    kind: PeriodKind | None,
    errors: list[FieldError],
) -> None:
    """The end is exclusive and after the start, and at least one whole period fits."""
    if starts_on is None or ends_on is None:
        return
    if ends_on <= starts_on:
        errors.append(
            FieldError(
                "ends_on",
                "Slutdatumet ska vara efter startdatumet.",
                "The end date must be after the start date.",
            )
        )
    elif kind is not None and not periods(kind, starts_on, ends_on):
        errors.append(
            FieldError(
                "ends_on",
                "Ingen hel uppföljningsperiod ryms mellan start- och slutdatum.",
                "No whole follow-up period lies between the start and end dates.",
            )
        )


def period_of(agreement: Agreement, code: str) -> Period:
    """The agreement's period named `code`; 422 naming `period` for any other."""
    for period in agreement_periods(agreement):
        if period.code == code:
            return period
    raise ValidationFailed.one(
        "period",
        "Perioden hör inte till överenskommelsen.",
        "The period is not one of the agreement's follow-up periods.",
    )


@dataclass(frozen=True)
class GridChange:
    """The values that, once the grid is frozen, may not change (None: not changed)."""

    period_kind: str | None = None
    k: int | None = None
    breakdowns: Sequence[str] | None = None
    areas: Sequence[str] | None = None
    school_agency_ids: Sequence[str] | None = None
    starts_on: date | None = None
    ends_on: date | None = None


def check_grid_change(agreement: Agreement, change: GridChange) -> None:
    if agreement.grid_frozen_at is None:
        return
    current = {
        "period_kind": agreement.period_kind,
        "k": agreement.k,
        "breakdowns": list(agreement.breakdowns),
        "areas": list(agreement.areas),
        "school_agency_ids": list(agreement.school_agency_ids),
        "starts_on": agreement.starts_on,
        "ends_on": agreement.ends_on,
    }
    for name, old in current.items():
        new = getattr(change, name)
        if new is not None and (list(new) if isinstance(new, (list, tuple)) else new) != old:
            raise GridFrozen()


# --- activities and targets --------------------------------------------------------------


def check_coverage(
    agreement: Agreement,
    *,
    school_agency_ids: Sequence[str],
    areas: Sequence[str],
    errors: list[FieldError],
) -> None:
    """An activity covers only schools and areas of the agreement's grid."""
    outside_schools = [s for s in school_agency_ids if s not in agreement.school_agency_ids]
    if outside_schools:
        errors.append(
            FieldError(
                "school_agency_ids",
                "Aktiviteten kan bara omfatta skolor som finns med i överenskommelsen.",
                "Schools must be among the agreement's schools.",
            )
        )
    outside_areas = [a for a in areas if a not in agreement.areas]
    if outside_areas:
        errors.append(
            FieldError(
                "areas",
                "Aktiviteten kan bara omfatta områden som finns med i överenskommelsen.",
                "Areas must be among the agreement's areas.",
            )
        )


@dataclass(frozen=True)
class TargetInput:
    indicator: str
    row_code: str | None
    kind: TargetKind
    comparison: Comparison
    value: float
    label: str


def target(
    *,
    indicator: str | None,
    row_code: str | None,
    kind: str | None,
    comparison: str | None,
    value: float | int | str | None,
    label: str | None,
) -> TargetInput:
    """A valid target, or ValidationFailed naming every wrong field."""
    errors: list[FieldError] = []
    info = INDICATORS.get(indicator or "")
    if info is None:
        errors.append(FieldError("indicator", "Välj ett nyckeltal.", "Unknown indicator."))
    row = (row_code or "").strip() or None
    if info is not None and row is not None and row not in dict(info.rows):
        errors.append(
            FieldError(
                "row_code",
                "Raden finns inte i nyckeltalet.",
                "Not one of the indicator's rows (leave empty for the total).",
            )
        )
    target_kind: TargetKind | None = None
    try:
        target_kind = TargetKind(kind or "")
    except ValueError:
        errors.append(FieldError("kind", "Välj typ av mål.", "One of: count, share, median_days."))
    if info is not None and target_kind is not None and target_kind not in info.target_kinds:
        errors.append(
            FieldError(
                "kind",
                "Måltypen passar inte nyckeltalet.",
                "The indicator takes targets of kind: "
                + ", ".join(sorted(k.value for k in info.target_kinds))
                + ".",
            )
        )
    comparison_value: Comparison | None = None
    try:
        comparison_value = Comparison(comparison or "")
    except ValueError:
        errors.append(
            FieldError("comparison", "Välj minst eller högst.", "One of: at_least, at_most.")
        )
    number = _target_value(value, target_kind, errors)
    cleaned_label = text(label, "label", errors)
    if errors or info is None or target_kind is None or comparison_value is None:
        raise ValidationFailed(errors)
    assert number is not None  # noqa: S101 (no error means a number)
    return TargetInput(info.code, row, target_kind, comparison_value, number, cleaned_label)


def _target_value(
    value: float | int | str | None, kind: TargetKind | None, errors: list[FieldError]
) -> float | None:
    try:
        number = float(str(value).strip().replace(",", ".")) if value is not None else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        errors.append(FieldError("value", "Ange ett tal, 0 eller mer.", "A number >= 0."))
        return None
    if kind is TargetKind.COUNT and number != int(number):
        errors.append(FieldError("value", "Ett antal är ett heltal.", "A count is an integer."))
        return None
    if kind is TargetKind.SHARE and number > MAX_SHARE:
        errors.append(FieldError("value", "En andel är mellan 0 och 100 %.", "A share is 0-100."))
        return None
    return number


# --- what the statistics service is asked ------------------------------------------------


def statistics_request(
    agreement: Agreement,
    activity: AgreementActivity,
    period: Period,
    *,
    earlier: Sequence[Release] = (),
    school_names: Mapping[uuid.UUID, str] | None = None,
) -> StatisticsRequest:
    """The request for one activity's follow-up in one of the agreement's periods.

    The grid is the agreement's (its breakdowns, areas and schools, whatever the activity
    covers), so every report of the agreement has the same cells. `school_names` gives each
    school's name (`service.statistics_request_for` fills it); a school without one is
    shown by its id."""
    if activity.agreement_id != agreement.id:
        raise ValueError("the activity belongs to another agreement")
    agreement_periods_ = tuple(agreement_periods(agreement))
    if period not in agreement_periods_:
        raise ValidationFailed.one(
            "period",
            "Perioden hör inte till överenskommelsen.",
            "The period is not one of the agreement's follow-up periods.",
        )
    names_ = school_names or {}
    schools = tuple(
        (uuid.UUID(s), names_.get(uuid.UUID(s), s)) for s in agreement.school_agency_ids
    )
    return StatisticsRequest(
        agreement_id=agreement.id,
        coverage=Coverage(
            programmes=frozenset(activity.programmes),
            school_agency_ids=frozenset(uuid.UUID(s) for s in activity.school_agency_ids),
            areas=frozenset(activity.areas),
        ),
        period=period,
        agreement_periods=agreement_periods_,
        grid=Grid(
            breakdowns=tuple(Breakdown(b) for b in agreement.breakdowns),
            areas=tuple(agreement.areas),
            schools=schools,
        ),
        k=agreement.k,
        earlier=tuple(earlier),
    )
