"""The administrator's pages for the municipality's configuration (issue 15, item 2): the
consent ages, the referral grounds, eligibility and capacity, the cylinder levels, the risk
and protective factors, and the history of every change. They call the same domain functions
as the JSON API; a stale edit (409) shows what is saved now and says the change was not made.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from common.actor import Actor
from common.errors import FieldError, NotFound, StaleVersion, ValidationFailed
from common.roles import AGENCY_KIND_LABELS, ROLE_LABELS, AgencyKind, Permission, Role
from domain.assessments import service as assessments
from domain.assessments.rules import FACTOR_KIND_LABELS, FactorKind
from domain.configuration import service as configuration
from domain.referrals import settings as referral_settings
from frontend import csrf
from frontend.deps import PageActor, PageDb
from frontend.render import render, see_other

router = APIRouter(include_in_schema=False)

BASE = "/admin/installningar"
STALE_MESSAGE = (
    "Någon annan har sparat en ändring medan du arbetade, så din ändring sparades inte. "
    "Sidan visar nu det som gäller. Gör om din ändring om den ska gälla."
)
NEW_ROWS = 3  # empty rows offered for additions in the list editors


def configurer(actor: PageActor) -> Actor:
    """Every page here is the administrator's: other roles get 403 before anything is read."""
    actor.require(Permission.CONFIGURE)
    return actor


Configurer = Annotated[Actor, Depends(configurer)]
Texts = Annotated[list[str] | None, Form(max_length=100)]


def _page(
    request: Request,
    actor: Actor,
    template: str,
    context: dict[str, Any],
    *,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    return render(
        request,
        template,
        {
            "errors": list(errors),
            "by_field": {e.field: e.message for e in errors},
            "saved": request.query_params.get("sparat") == "1",
            **context,
        },
        status=status,
        actor=actor,
    )


def _stale(field: str) -> list[FieldError]:
    return [FieldError(field, STALE_MESSAGE)]


_ITEM_FIELD = re.compile(r"^items\.(\d+)\.(\w+)$")


def _to_rows(
    errors: Sequence[FieldError], rows: Sequence[int], prefix: str, noun: str
) -> list[FieldError]:
    """The domain names a list's fields `items.N.field` (N among the items it was given); the
    form's inputs are `prefix-field-R` (R the form's row), and the message says which row."""
    mapped = []
    for error in errors:
        found = _ITEM_FIELD.match(error.field)
        if found and int(found.group(1)) < len(rows):
            row = rows[int(found.group(1))]
            message = f"{noun} {row + 1}: {error.message}"
            mapped.append(FieldError(f"{prefix}-{found.group(2)}-{row}", message))
        else:
            mapped.append(FieldError(f"{prefix}-label-0", error.message))
    return mapped


def _whole(value: str, field: str, message: str, errors: list[FieldError]) -> int | None:
    text = value.strip()
    if text.isdigit():
        return int(text)
    errors.append(FieldError(field, message))
    return None


def _version(value: str) -> int:
    """A hidden version that does not parse is as stale as an old one."""
    text = value.strip()
    return int(text) if text.isdigit() else -1


# --- the overview and the history --------------------------------------------------------


@router.get(BASE)
def overview(request: Request, session: PageDb, actor: Configurer) -> Response:
    settings = referral_settings.read_settings(session, actor)
    return _page(
        request,
        actor,
        "config_overview.html",
        {
            "ages": configuration.read_consent_ages(session, actor),
            "settings": settings,
            "levels": assessments.current_levels(session, actor),
            "factors": assessments.current_factors(session, actor),
        },
    )


@router.get(f"{BASE}/historik")
def history(request: Request, session: PageDb, actor: Configurer, sida: int = 1) -> Response:
    size = 50
    page = max(1, min(sida, 10_000))
    found = configuration.history(session, actor, offset=(page - 1) * size, limit=size)
    return _page(
        request,
        actor,
        "config_history.html",
        {
            "history": found,
            "page": page,
            "has_next": page * size < found.total,
        },
    )


# --- consent ages ------------------------------------------------------------------------


def _ages_page(
    request: Request,
    session: PageDb,
    actor: Actor,
    *,
    form: dict[str, str] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    ages = configuration.read_consent_ages(session, actor)
    shown = form or {
        "young_person_from_age": str(ages.young_person_from_age),
        "adult_age": str(ages.adult_age),
    }
    return _page(
        request,
        actor,
        "config_consent_ages.html",
        {"ages": ages, "form": shown},
        errors=errors,
        status=status,
    )


@router.get(f"{BASE}/samtyckesaldrar")
def consent_ages_form(request: Request, session: PageDb, actor: Configurer) -> Response:
    return _ages_page(request, session, actor)


@router.post(f"{BASE}/samtyckesaldrar")
def consent_ages_save(
    request: Request,
    session: PageDb,
    actor: Configurer,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    young_person_from_age: Annotated[str, Form(max_length=12)] = "",
    adult_age: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    form = {"young_person_from_age": young_person_from_age, "adult_age": adult_age}
    try:
        configuration.set_consent_ages(
            session,
            actor,
            young_person_from_age=young_person_from_age,
            adult_age=adult_age,
            version=_version(version),
        )
    except ValidationFailed as exc:
        session.rollback()
        return _ages_page(request, session, actor, form=form, errors=exc.errors, status=422)
    except StaleVersion:
        session.rollback()
        errors = _stale("young_person_from_age")
        return _ages_page(request, session, actor, errors=errors, status=409)
    return see_other(f"{BASE}/samtyckesaldrar?sparat=1")


# --- referral grounds --------------------------------------------------------------------


def _grounds_page(
    request: Request,
    session: PageDb,
    actor: Actor,
    *,
    rows: list[dict[str, str]] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    settings = referral_settings.read_settings(session, actor)
    shown = rows or [{"id": str(g.id), "label": g.label} for g in settings.grounds]
    shown = shown + [{"id": "", "label": ""}] * (NEW_ROWS if rows is None else 0)
    return _page(
        request,
        actor,
        "config_grounds.html",
        {"version": settings.grounds_version, "rows": shown},
        errors=errors,
        status=status,
    )


@router.get(f"{BASE}/grunder")
def grounds_form(request: Request, session: PageDb, actor: Configurer) -> Response:
    return _grounds_page(request, session, actor)


@router.post(f"{BASE}/grunder")
def grounds_save(
    request: Request,
    session: PageDb,
    actor: Configurer,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    ground_id: Texts = None,
    label: Annotated[list[str] | None, Form(max_length=300)] = None,
) -> Response:
    """Rows in order; an emptied row removes its ground, an empty new row is ignored."""
    csrf.check(request, csrf_token)
    ids, labels = ground_id or [], label or []
    rows = [{"id": ids[n] if n < len(ids) else "", "label": text} for n, text in enumerate(labels)]
    kept = [n for n, row in enumerate(rows) if row["label"].strip()]
    errors: list[FieldError] = []
    given = []
    for n in kept:
        try:
            known = uuid.UUID(rows[n]["id"]) if rows[n]["id"] else None
        except ValueError:
            known = None
        given.append(referral_settings.GroundIn(label=rows[n]["label"], id=known))
    try:
        referral_settings.replace_grounds(session, actor, version=_version(version), grounds=given)
    except ValidationFailed as exc:
        session.rollback()
        errors = _to_rows(exc.errors, kept, "ground", "Grund")
        return _grounds_page(request, session, actor, rows=rows, errors=errors, status=422)
    except StaleVersion:
        session.rollback()
        return _grounds_page(request, session, actor, errors=_stale("ground-label-0"), status=409)
    return see_other(f"{BASE}/grunder?sparat=1")


# --- eligibility (age bands) ----------------------------------------------------------------


def _bands_page(
    request: Request,
    session: PageDb,
    actor: Actor,
    *,
    rows: list[dict[str, str]] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    settings = referral_settings.read_settings(session, actor)
    shown = rows or [
        {
            "programme": band.programme,
            "label": band.label,
            "min_age": str(band.min_age),
            "max_age": str(band.max_age),
            "crime": "ja" if band.requires_crime_criteria else "nej",
        }
        for band in settings.eligibility
    ]
    empty = {"programme": "", "label": "", "min_age": "", "max_age": "", "crime": "nej"}
    shown = shown + [empty] * (NEW_ROWS if rows is None else 0)
    return _page(
        request,
        actor,
        "config_eligibility.html",
        {
            "version": settings.eligibility_version,
            "rows": shown,
            "programmes": referral_settings.PROGRAMMES,
        },
        errors=errors,
        status=status,
    )


def _form_rows(columns: dict[str, list[str]]) -> list[dict[str, str]]:
    """A table form's columns (one list per field name) as rows; a short column reads as ''."""
    count = max((len(values) for values in columns.values()), default=0)
    return [
        {name: values[n] if n < len(values) else "" for name, values in columns.items()}
        for n in range(count)
    ]


@router.get(f"{BASE}/aldersgrupper")
def eligibility_form(request: Request, session: PageDb, actor: Configurer) -> Response:
    return _bands_page(request, session, actor)


@router.post(f"{BASE}/aldersgrupper")
def eligibility_save(
    request: Request,
    session: PageDb,
    actor: Configurer,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    programme: Texts = None,
    label: Texts = None,
    min_age: Texts = None,
    max_age: Texts = None,
    crime: Texts = None,
) -> Response:
    """Rows in order; a row whose benämning is emptied is removed, an empty new row ignored."""
    csrf.check(request, csrf_token)
    columns = {
        "programme": programme or [],
        "label": label or [],
        "min_age": min_age or [],
        "max_age": max_age or [],
        "crime": crime or [],
    }
    rows = _form_rows(columns)
    kept = [n for n, row in enumerate(rows) if row["label"].strip()]
    errors: list[FieldError] = []
    bands = []
    for n in kept:
        row = rows[n]
        message = f"Åldersgrupp {n + 1}: ange åldern i hela år."
        low = _whole(row["min_age"], f"band-min_age-{n}", message, errors)
        high = _whole(row["max_age"], f"band-max_age-{n}", message, errors)
        if low is not None and high is not None:
            bands.append(
                referral_settings.BandIn(
                    programme=row["programme"],
                    label=row["label"],
                    min_age=low,
                    max_age=high,
                    requires_crime_criteria=row["crime"] == "ja",
                )
            )
    try:
        if errors:
            raise ValidationFailed(errors)
        referral_settings.replace_eligibility(
            session, actor, version=_version(version), bands=bands
        )
    except ValidationFailed as exc:
        session.rollback()
        shown = errors or _to_rows(exc.errors, kept, "band", "Åldersgrupp")
        return _bands_page(request, session, actor, rows=rows, errors=shown, status=422)
    except StaleVersion:
        session.rollback()
        return _bands_page(request, session, actor, errors=_stale("band-label-0"), status=409)
    return see_other(f"{BASE}/aldersgrupper?sparat=1")


# --- capacity ----------------------------------------------------------------------------


def _capacity_page(
    request: Request,
    session: PageDb,
    actor: Actor,
    *,
    rows: list[dict[str, str]] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    settings = referral_settings.read_settings(session, actor)
    shown = rows or [
        {
            "programme": rule.programme,
            "agency_kind": rule.agency_kind,
            "role": rule.role,
            "per_person": str(rule.per_person),
        }
        for rule in settings.capacity
    ]
    empty = {"programme": "", "agency_kind": "", "role": "", "per_person": ""}
    shown = shown + [empty] * (NEW_ROWS if rows is None else 0)
    return _page(
        request,
        actor,
        "config_capacity.html",
        {
            "version": settings.capacity_version,
            "rows": shown,
            "programmes": referral_settings.PROGRAMMES,
            "kinds": [(kind.value, AGENCY_KIND_LABELS[kind]) for kind in AgencyKind],
            "roles": [(role, ROLE_LABELS[Role(role)]) for role in referral_settings.CAPACITY_ROLES],
        },
        errors=errors,
        status=status,
    )


@router.get(f"{BASE}/kapacitet")
def capacity_form(request: Request, session: PageDb, actor: Configurer) -> Response:
    return _capacity_page(request, session, actor)


@router.post(f"{BASE}/kapacitet")
def capacity_save(
    request: Request,
    session: PageDb,
    actor: Configurer,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    programme: Texts = None,
    agency_kind: Texts = None,
    role: Texts = None,
    per_person: Texts = None,
) -> Response:
    """Rows in order; a row whose number is emptied is removed, an empty new row ignored."""
    csrf.check(request, csrf_token)
    columns = {
        "programme": programme or [],
        "agency_kind": agency_kind or [],
        "role": role or [],
        "per_person": per_person or [],
    }
    rows = _form_rows(columns)
    kept = [n for n, row in enumerate(rows) if row["per_person"].strip()]
    errors: list[FieldError] = []
    given = []
    for n in kept:
        row = rows[n]
        number = _whole(
            row["per_person"],
            f"rule-per_person-{n}",
            f"Gräns {n + 1}: ange ett helt antal ärenden.",
            errors,
        )
        if number is not None:
            given.append(
                referral_settings.CapacityIn(
                    programme=row["programme"],
                    agency_kind=row["agency_kind"],
                    role=row["role"],
                    per_person=number,
                )
            )
    try:
        if errors:
            raise ValidationFailed(errors)
        referral_settings.replace_capacity(session, actor, version=_version(version), rules=given)
    except ValidationFailed as exc:
        session.rollback()
        shown = errors or _to_rows(exc.errors, kept, "rule", "Gräns")
        return _capacity_page(request, session, actor, rows=rows, errors=shown, status=422)
    except StaleVersion:
        session.rollback()
        return _capacity_page(
            request, session, actor, errors=_stale("rule-per_person-0"), status=409
        )
    return see_other(f"{BASE}/kapacitet?sparat=1")


# --- cylinder levels ---------------------------------------------------------------------


@router.get(f"{BASE}/cylindernivaer")
def levels(request: Request, session: PageDb, actor: Configurer) -> Response:
    return _page(
        request,
        actor,
        "config_levels.html",
        {"levels": list(reversed(assessments.current_levels(session, actor)))},
    )


def _level_page(
    request: Request,
    session: PageDb,
    actor: Actor,
    *,
    code: str | None,
    form: dict[str, str] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    current = None
    if code is not None:
        current = next(
            (row for row in assessments.current_levels(session, actor) if row.code == code), None
        )
        if current is None:
            raise NotFound()
    shown = form or (
        {"code": current.code, "rank": str(current.rank), "wording": current.wording}
        if current is not None
        else {"code": "", "rank": "", "wording": ""}
    )
    return _page(
        request,
        actor,
        "config_level.html",
        {"level": current, "form": shown},
        errors=errors,
        status=status,
    )


def _save_level(
    request: Request,
    session: PageDb,
    actor: Actor,
    *,
    code: str | None,
    form: dict[str, str],
    version: int | None,
) -> Response:
    errors: list[FieldError] = []
    rank = _whole(form["rank"], "rank", "Ange ordningen som ett helt tal.", errors)
    try:
        if errors or rank is None:
            raise ValidationFailed(errors)
        assessments.set_level(
            session,
            actor,
            code=form["code"] if code is None else code,
            wording=form["wording"],
            rank=rank,
            version=version,
        )
    except ValidationFailed as exc:
        session.rollback()
        return _level_page(
            request, session, actor, code=code, form=form, errors=exc.errors, status=422
        )
    except StaleVersion:
        session.rollback()
        if code is None:  # the code is taken: say so at the code
            message = "Det finns redan en nivå med den koden. Välj en annan kod."
            errors = [FieldError("code", message)]
            return _level_page(
                request, session, actor, code=None, form=form, errors=errors, status=409
            )
        return _level_page(request, session, actor, code=code, errors=_stale("wording"), status=409)
    return see_other(f"{BASE}/cylindernivaer?sparat=1")


@router.get(f"{BASE}/cylindernivaer/ny")
def new_level_form(request: Request, session: PageDb, actor: Configurer) -> Response:
    return _level_page(request, session, actor, code=None)


@router.post(f"{BASE}/cylindernivaer/ny")
def new_level(
    request: Request,
    session: PageDb,
    actor: Configurer,
    csrf_token: Annotated[str, Form()] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    rank: Annotated[str, Form(max_length=12)] = "",
    wording: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    form = {"code": code, "rank": rank, "wording": wording}
    return _save_level(request, session, actor, code=None, form=form, version=None)


@router.get(f"{BASE}/cylindernivaer/{{code}}")
def level_form(request: Request, session: PageDb, actor: Configurer, code: str) -> Response:
    return _level_page(request, session, actor, code=code)


@router.post(f"{BASE}/cylindernivaer/{{code}}")
def level_save(
    request: Request,
    session: PageDb,
    actor: Configurer,
    code: str,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    rank: Annotated[str, Form(max_length=12)] = "",
    wording: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    form = {"code": code, "rank": rank, "wording": wording}
    return _save_level(request, session, actor, code=code, form=form, version=_version(version))


@router.post(f"{BASE}/cylindernivaer/{{code}}/ta-bort")
def level_retire(
    request: Request,
    session: PageDb,
    actor: Configurer,
    code: str,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    try:
        assessments.retire_level(session, actor, code=code, version=_version(version))
    except StaleVersion:
        session.rollback()
        return _level_page(request, session, actor, code=code, errors=_stale("wording"), status=409)
    return see_other(f"{BASE}/cylindernivaer?sparat=1")


# --- risk and protective factors ---------------------------------------------------------


@router.get(f"{BASE}/faktorer")
def factors(request: Request, session: PageDb, actor: Configurer) -> Response:
    rows = assessments.current_factors(session, actor)
    return _page(
        request,
        actor,
        "config_factors.html",
        {
            "groups": [
                (FACTOR_KIND_LABELS[kind], [row for row in rows if row.kind == kind.value])
                for kind in FactorKind
            ]
        },
    )


def _factor_page(
    request: Request,
    session: PageDb,
    actor: Actor,
    *,
    factor_id: uuid.UUID | None,
    form: dict[str, str] | None = None,
    errors: Sequence[FieldError] = (),
    status: int = 200,
) -> Response:
    current = None
    if factor_id is not None:
        current = next(
            (r for r in assessments.current_factors(session, actor) if r.factor_id == factor_id),
            None,
        )
        if current is None:
            raise NotFound()
    shown = form or (
        {"kind": current.kind, "text": current.text}
        if current is not None
        else {"kind": "", "text": ""}
    )
    return _page(
        request,
        actor,
        "config_factor.html",
        {
            "factor": current,
            "form": shown,
            "kinds": [(kind.value, FACTOR_KIND_LABELS[kind]) for kind in FactorKind],
        },
        errors=errors,
        status=status,
    )


@router.get(f"{BASE}/faktorer/ny")
def new_factor_form(request: Request, session: PageDb, actor: Configurer) -> Response:
    return _factor_page(request, session, actor, factor_id=None)


@router.post(f"{BASE}/faktorer/ny")
def new_factor(
    request: Request,
    session: PageDb,
    actor: Configurer,
    csrf_token: Annotated[str, Form()] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    text: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    try:
        assessments.add_factor(session, actor, kind=kind, text=text)
    except ValidationFailed as exc:
        session.rollback()
        form = {"kind": kind, "text": text}
        return _factor_page(
            request, session, actor, factor_id=None, form=form, errors=exc.errors, status=422
        )
    return see_other(f"{BASE}/faktorer?sparat=1")


@router.get(f"{BASE}/faktorer/{{factor_id}}")
def factor_form(
    request: Request, session: PageDb, actor: Configurer, factor_id: uuid.UUID
) -> Response:
    return _factor_page(request, session, actor, factor_id=factor_id)


@router.post(f"{BASE}/faktorer/{{factor_id}}")
def factor_save(
    request: Request,
    session: PageDb,
    actor: Configurer,
    factor_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    text: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    try:
        assessments.change_factor(
            session, actor, factor_id=factor_id, version=_version(version), text=text
        )
    except ValidationFailed as exc:
        session.rollback()
        form = {"kind": "", "text": text}
        return _factor_page(
            request, session, actor, factor_id=factor_id, form=form, errors=exc.errors, status=422
        )
    except StaleVersion:
        session.rollback()
        return _factor_page(
            request, session, actor, factor_id=factor_id, errors=_stale("text"), status=409
        )
    return see_other(f"{BASE}/faktorer?sparat=1")


@router.post(f"{BASE}/faktorer/{{factor_id}}/ta-bort")
def factor_retire(
    request: Request,
    session: PageDb,
    actor: Configurer,
    factor_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    version: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    try:
        assessments.change_factor(
            session, actor, factor_id=factor_id, version=_version(version), retire=True
        )
    except StaleVersion:
        session.rollback()
        return _factor_page(
            request, session, actor, factor_id=factor_id, errors=_stale("text"), status=409
        )
    return see_other(f"{BASE}/faktorer?sparat=1")
