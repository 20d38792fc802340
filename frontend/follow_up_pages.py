"""The follow-up pages (issue 14 items 5–6).

- `/uppfoljning`: the steering dashboard. Per agreement, its published releases only (a
  corrected release gives way to its correction): SVG charts of inflow and outflow over the
  periods, consents given and refused, meetings by kind, each beside a table of the same
  numbers, and the downloads. Nothing here is computed from case data: everything is read
  from the frozen files in the release ledger.
- `/uppfoljning/rapporter`: the coordinator's reports: choose an activity and a period, see
  the preview, write the narrative, publish (with a confirmation), correct.
- `/uppfoljning/publicerat/{release_id}`: one frozen release, its SHA-256 and its files.

The report is chosen by query fields (`overenskommelse`, `aktivitet`, `period`), and the
forms post them back, so the same few paths serve every agreement.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from common.actor import Actor
from common.errors import DomainError, FieldError, ValidationFailed
from common.roles import Permission
from domain.agreements import service as agreements
from domain.reports import service as reports
from domain.reports.service import ReleaseView, Statistics
from domain.statistics.spec import (
    SUPPRESSED_LEGEND,
    SUPPRESSED_MARK,
    TOTAL,
    ReportDocument,
    SafeTable,
)
from frontend import csrf
from frontend.charts import Series, grouped_bars, line_series
from frontend.deps import PageActor, PageDb
from frontend.render import render, see_other

router = APIRouter(include_in_schema=False)

BASE = "/uppfoljning"
REPORTS = f"{BASE}/rapporter"
FILES = ("json", "csv", "pdf")


def statistics_of(request: Request) -> Statistics:
    """The statistics function the app was built with (api.statistics binds it)."""
    found: Statistics = request.app.state.statistics
    return found


_WHAT = {
    "overenskommelse": "Välj en samverkansöverenskommelse.",
    "aktivitet": "Välj en aktivitet.",
    "release_id": "Ange en publicering.",
}


def _uuid(value: str | None, field: str) -> uuid.UUID:
    """A malformed id is bad input, 422 naming the field; an unknown one is 404 later."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed.one(field, _WHAT[field]) from None


def _report_url(agreement_id: uuid.UUID, activity_id: uuid.UUID, period: str) -> str:
    return (
        f"{REPORTS}/rapport?overenskommelse={agreement_id}&aktivitet={activity_id}&period={period}"
    )


def _version(value: str) -> int:
    text = value.strip()
    return int(text) if text.isdigit() else -1


# --- the steering dashboard ----------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    svg: Any
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class ActivityBoard:
    name: str
    latest: ReleaseView
    releases: Sequence[ReleaseView]  # oldest period first
    charts: Sequence[Chart]


def _shown(value: int | float | None) -> str:
    if value is None:
        return SUPPRESSED_MARK
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def _table(document: ReportDocument, indicator: str) -> SafeTable | None:
    """The indicator's first table (every breakdown's table has the same row totals)."""
    return next((t for t in document.tables if t.indicator == indicator), None)


def _total(table: SafeTable | None, row: str) -> int | None:
    return None if table is None else table.values.get((row, TOTAL))


# Totals that even a small activity's release tends to publish, when its breakdowns (new and
# closed, meetings by kind) are too small to show: (indicator, row, label).
KEY_FIGURES = (
    ("cases_active", TOTAL, "Aktiva ärenden"),
    ("young_people_attending", "Unga som deltagit", "Unga som deltagit i möten"),
    ("meetings", TOTAL, "Hållna möten"),
)


def _key_figures_chart(key: str, releases: Sequence[ReleaseView]) -> Chart | None:
    periods = [r.document.period.label for r in releases]
    series = [
        Series(label, [_total(_table(r.document, indicator), row) for r in releases])
        for indicator, row, label in KEY_FIGURES
    ]
    if not any(value is not None for one in series for value in one.values):
        return None
    title = "Nyckeltal per period"
    return Chart(
        id=f"{key}-key",
        title=title,
        svg=line_series(
            periods,
            series,
            title=title,
            id_prefix=f"{key}-key",
            description=(
                "Aktiva ärenden, unga som deltagit i möten och hållna möten per period. "
                "Samma siffror finns i tabellen."
            ),
        ),
        header=["Period", *(s.name for s in series)],
        rows=[[p, *(_shown(s.values[i]) for s in series)] for i, p in enumerate(periods)],
    )


def _flow_chart(key: str, releases: Sequence[ReleaseView]) -> Chart | None:
    labels = ("Nya under perioden", "Avslutade under perioden")
    periods = [r.document.period.label for r in releases]
    tables = [_table(r.document, "young_people_flow") for r in releases]
    if not any(tables):
        return None
    series = [Series(label, [_total(t, label) for t in tables]) for label in labels]
    title = "Unga in och ut per period"
    return Chart(
        id=f"{key}-flow",
        title=title,
        svg=line_series(
            periods,
            series,
            title=title,
            id_prefix=f"{key}-flow",
            description="Inflöde och utflöde av unga per period. Samma siffror finns i tabellen.",
        ),
        header=["Period", *labels],
        rows=[[p, *(_shown(s.values[i]) for s in series)] for i, p in enumerate(periods)],
    )


def _consent_chart(key: str, document: ReportDocument) -> Chart | None:
    table = _table(document, "consents")
    if table is None:
        return None
    signers = (("den unga", "Den unga"), ("vårdnadshavare", "Vårdnadshavare"))
    decisions = (("Givna", "Givna"), ("Nekade", "Nekade"))
    series = [
        Series(name, [_total(table, f"{prefix} – {signer}") for signer, _label in signers])
        for prefix, name in decisions
    ]
    categories = [label for _signer, label in signers]
    title = f"Samtycken givna och nekade, {document.period.label}"
    return Chart(
        id=f"{key}-consents",
        title=title,
        svg=grouped_bars(
            categories,
            series,
            title=title,
            id_prefix=f"{key}-consents",
            description="Givna och nekade samtycken efter vem som undertecknat.",
        ),
        header=["Undertecknat av", *(s.name for s in series)],
        rows=[[c, *(_shown(s.values[i]) for s in series)] for i, c in enumerate(categories)],
    )


def _meetings_chart(key: str, document: ReportDocument) -> Chart | None:
    table = _table(document, "meetings")
    if table is None:
        return None
    kinds = [row for row in table.rows if row != TOTAL]
    series = [Series("Möten", [_total(table, kind) for kind in kinds])]
    title = f"Möten efter typ, {document.period.label}"
    return Chart(
        id=f"{key}-meetings",
        title=title,
        svg=grouped_bars(
            kinds,
            series,
            title=title,
            id_prefix=f"{key}-meetings",
            description="Hållna möten efter typ av möte.",
        ),
        header=["Typ av möte", "Möten"],
        rows=[
            *([kind, _shown(series[0].values[i])] for i, kind in enumerate(kinds)),
            [TOTAL, _shown(_total(table, TOTAL))],
        ],
    )


def _boards(views: Sequence[ReleaseView]) -> list[tuple[str, list[ActivityBoard]]]:
    """Per agreement (by name), per activity: its current releases by period."""
    by_agreement: dict[uuid.UUID, dict[uuid.UUID, list[ReleaseView]]] = {}
    names: dict[uuid.UUID, str] = {}
    for view in views:
        names[view.agreement_id] = view.agreement
        by_agreement.setdefault(view.agreement_id, {}).setdefault(view.activity_id, []).append(view)
    found: list[tuple[str, list[ActivityBoard]]] = []
    for agreement_id, activities in by_agreement.items():
        boards = []
        for index, released in enumerate(activities.values()):
            ordered = sorted(released, key=lambda v: v.document.period)
            latest = ordered[-1]
            key = f"a{len(found)}-{index}"
            charts = [
                _key_figures_chart(key, ordered),
                _flow_chart(key, ordered),
                _consent_chart(key, latest.document),
                _meetings_chart(key, latest.document),
            ]
            boards.append(
                ActivityBoard(
                    name=latest.document.activity,
                    latest=latest,
                    releases=ordered,
                    charts=[c for c in charts if c is not None],
                )
            )
        found.append((names[agreement_id], boards))
    return sorted(found, key=lambda item: item[0])


@router.get(BASE)
def follow_up(request: Request, session: PageDb, actor: PageActor) -> Response:
    actor.require(Permission.READ_FOLLOW_UP)
    views = reports.current_releases(session, actor)
    return render(
        request,
        "follow_up.html",
        {"agreements": _boards(views), "legend": SUPPRESSED_LEGEND},
        actor=actor,
    )


# --- one published release -----------------------------------------------------------------


@router.get(BASE + "/publicerat/{release_id}")
def published(request: Request, session: PageDb, actor: PageActor, release_id: str) -> Response:
    actor.require(Permission.READ_FOLLOW_UP)
    view = reports.release(session, actor, _uuid(release_id, "release_id"))
    return render(
        request,
        "follow_up_release.html",
        {"release": view, "doc": view.document, "legend": SUPPRESSED_LEGEND},
        actor=actor,
    )


def _download(kind: str) -> Any:
    def download(session: PageDb, actor: PageActor, release_id: str) -> Response:
        actor.require(Permission.READ_FOLLOW_UP)
        data, media, name = reports.download(session, actor, _uuid(release_id, "release_id"), kind)
        return Response(
            content=data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return download


for _kind in FILES:
    router.add_api_route(
        BASE + "/publicerat/{release_id}/rapport." + _kind, _download(_kind), methods=["GET"]
    )


# --- the coordinator's reports -------------------------------------------------------------


def _manager(actor: Actor) -> Actor:
    actor.require(Permission.MANAGE_AGREEMENTS)
    return actor


@router.get(REPORTS)
def report_list(request: Request, session: PageDb, actor: PageActor) -> Response:
    _manager(actor)
    found = agreements.list_agreements(session, actor)
    views = [agreements.get_agreement(session, actor, a.id) for a in found]
    activity_names = {a.id: a.name for v in views for a in v.activities}
    return render(
        request,
        "follow_up_reports.html",
        {
            "agreements": views,
            "drafts": reports.drafts(session, actor),
            "activity_names": activity_names,
            "releases": reports.releases(session, actor),
        },
        actor=actor,
    )


def _report_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    period: str,
    errors: Sequence[FieldError] = (),
    narrative: str | None = None,
    status: int = 200,
    message: str | None = None,
) -> Response:
    draft = reports.draft(
        session, actor, agreement_id=agreement_id, activity_id=activity_id, period_code=period
    )
    preview = None
    unsafe = None
    try:
        preview = reports.preview(
            session,
            actor,
            agreement_id=agreement_id,
            activity_id=activity_id,
            period_code=period,
            statistics=statistics_of(request),
        )
    except reports.UnsafeRelease as error:
        unsafe = error.detail
    view = agreements.get_agreement(session, actor, agreement_id)
    return render(
        request,
        "follow_up_report.html",
        {
            "view": view,
            "activity": next(a for a in view.activities if a.id == activity_id),
            "period": period,
            "draft": draft,
            "doc": None if preview is None else preview.document,
            "unsafe": unsafe,
            "errors": list(errors),
            "by_field": {e.field: e.message for e in errors},
            "narrative": draft.narrative if narrative is None else narrative,
            "legend": SUPPRESSED_LEGEND,
            "message": message,
            "saved": request.query_params.get("sparat") == "1",
        },
        status=status,
        actor=actor,
    )


@router.get(REPORTS + "/rapport")
def report_page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    overenskommelse: str = "",
    aktivitet: str = "",
    period: str = "",
) -> Response:
    _manager(actor)
    return _report_page(
        request,
        session,
        actor,
        agreement_id=_uuid(overenskommelse, "overenskommelse"),
        activity_id=_uuid(aktivitet, "aktivitet"),
        period=period,
    )


Text = Annotated[str, Form(max_length=200)]


@router.post(REPORTS + "/kommentar")
def save_narrative(
    request: Request,
    session: PageDb,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    overenskommelse: Text = "",
    aktivitet: Text = "",
    period: Text = "",
    version: Annotated[str, Form(max_length=20)] = "",
    narrative: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    _manager(actor)
    csrf.check(request, csrf_token)
    agreement_id, activity_id = (
        _uuid(overenskommelse, "overenskommelse"),
        _uuid(aktivitet, "aktivitet"),
    )
    try:
        reports.save_narrative(
            session,
            actor,
            agreement_id=agreement_id,
            activity_id=activity_id,
            period_code=period,
            narrative=narrative,
            version=_version(version),
        )
    except ValidationFailed as error:
        session.rollback()
        return _report_page(
            request,
            session,
            actor,
            agreement_id=agreement_id,
            activity_id=activity_id,
            period=period,
            errors=error.errors,
            narrative=narrative,
            status=error.status_code,
        )
    except DomainError as error:
        if error.status_code != 409:
            raise
        session.rollback()
        return _report_page(
            request,
            session,
            actor,
            agreement_id=agreement_id,
            activity_id=activity_id,
            period=period,
            errors=[FieldError("narrative", error.detail)],
            narrative=narrative,
            status=409,
        )
    return see_other(_report_url(agreement_id, activity_id, period) + "&sparat=1")


@router.post(REPORTS + "/publicera")
def publish(
    request: Request,
    session: PageDb,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    overenskommelse: Text = "",
    aktivitet: Text = "",
    period: Text = "",
    version: Annotated[str, Form(max_length=20)] = "",
    bekrafta: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    _manager(actor)
    csrf.check(request, csrf_token)
    agreement_id, activity_id = (
        _uuid(overenskommelse, "overenskommelse"),
        _uuid(aktivitet, "aktivitet"),
    )
    if bekrafta != "ja":
        return _report_page(
            request,
            session,
            actor,
            agreement_id=agreement_id,
            activity_id=activity_id,
            period=period,
            status=422,
            errors=[FieldError("bekrafta", "Bekräfta att rapporten ska publiceras.")],
        )
    try:
        release = reports.publish(
            session,
            actor,
            agreement_id=agreement_id,
            activity_id=activity_id,
            period_code=period,
            version=_version(version),
            statistics=statistics_of(request),
        )
    except DomainError as error:
        if error.status_code not in (409, 422):
            raise
        session.rollback()
        return _report_page(
            request,
            session,
            actor,
            agreement_id=agreement_id,
            activity_id=activity_id,
            period=period,
            status=error.status_code,
            errors=error.errors or [FieldError("bekrafta", error.detail)],
        )
    return see_other(f"{BASE}/publicerat/{release.id}")


@router.post(REPORTS + "/rattelse")
def correct(
    request: Request,
    session: PageDb,
    actor: PageActor,
    csrf_token: Annotated[str, Form()] = "",
    overenskommelse: Text = "",
    aktivitet: Text = "",
    period: Text = "",
    version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    _manager(actor)
    csrf.check(request, csrf_token)
    agreement_id, activity_id = (
        _uuid(overenskommelse, "overenskommelse"),
        _uuid(aktivitet, "aktivitet"),
    )
    try:
        reports.correct(
            session,
            actor,
            agreement_id=agreement_id,
            activity_id=activity_id,
            period_code=period,
            version=_version(version),
        )
    except DomainError as error:
        if error.status_code != 409:
            raise
        session.rollback()
        return _report_page(
            request,
            session,
            actor,
            agreement_id=agreement_id,
            activity_id=activity_id,
            period=period,
            status=409,
            errors=[FieldError("rattelse", error.detail)],
        )
    return see_other(_report_url(agreement_id, activity_id, period))
