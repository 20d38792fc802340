"""The assessments page of a case: the path over time as an SVG step chart with the same data
as a table, and the form to record a new assessment. It calls the same domain services as
the JSON API; what a reader sees (nothing, for a partner whose consent lacks `risk`) is
decided there."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from markupsafe import Markup

from common.errors import FieldError, ValidationFailed
from domain.assessments import service as assessments
from domain.assessments.rules import FACTOR_KIND_LABELS, MOVEMENT_LABELS, FactorKind
from domain.assessments.service import AssessmentPath
from frontend import csrf
from frontend.assessment_chart import render_svg, step_chart
from frontend.deps import PageActor, PageDb
from frontend.render import render, see_other

router = APIRouter(include_in_schema=False)


def chart_of(path: AssessmentPath) -> Markup | None:
    """The SVG of the path, or None when the reader sees no assessment."""
    if not path.entries:
        return None
    chart = step_chart(
        [(e.assessment.assessed_on, e.level.code) for e in path.entries],
        [(level.code, level.wording) for level in path.axis],
    )
    steps = ", ".join(
        f"{e.assessment.assessed_on.isoformat()} nivå {e.level.code}" for e in path.entries
    )
    current = path.entries[-1]
    return render_svg(
        chart,
        title=f"Nivå i cylindermodellen över tid, ärende {path.case.reference}",
        description=(
            f"{len(path.entries)} bedömningar: {steps}. Nuvarande nivå {current.level.code}, "
            f"{current.level.wording}. Samma uppgifter finns i tabellen under diagrammet."
        ),
        id_prefix="path-chart",
    )


def _page(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    *,
    errors: list[FieldError] | None = None,
    form: dict[str, str | list[str]] | None = None,
    status: int = 200,
) -> Response:
    path = assessments.read_path(session, actor, case_id=case_id)
    shown = errors or []
    return render(
        request,
        "assessments.html",
        {
            "path": path,
            "chart": chart_of(path),
            "errors": shown,
            "by_field": {e.field: e.message for e in shown},
            "form": form or {},
            "movement_labels": MOVEMENT_LABELS,
            "factor_kinds": [(k.value, FACTOR_KIND_LABELS[k]) for k in FactorKind],
        },
        status=status,
        actor=actor,
    )


def _ids(values: list[str], field: str, errors: list[FieldError]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            errors.append(FieldError(field, "Välj i listan."))
    return found


@router.get("/arenden/{case_id}/bedomningar")
def assessments_page(
    request: Request, session: PageDb, actor: PageActor, case_id: uuid.UUID
) -> Response:
    return _page(request, session, actor, case_id)


@router.post("/arenden/{case_id}/bedomningar")
def record_assessment(
    request: Request,
    session: PageDb,
    actor: PageActor,
    case_id: uuid.UUID,
    csrf_token: Annotated[str, Form()] = "",
    level_code: Annotated[str, Form(max_length=8)] = "",
    factor_ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    rationale: Annotated[str, Form(max_length=8000)] = "",
    participant_user_ids: Annotated[list[str], Form()] = [],  # noqa: B006
    meeting_id: Annotated[str, Form(max_length=40)] = "",
    assessed_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    csrf.check(request, csrf_token)
    assessments.recording_case(session, actor, case_id=case_id)  # decided before the form
    form: dict[str, str | list[str]] = {
        "level_code": level_code,
        "factor_ids": factor_ids,
        "rationale": rationale,
        "participant_user_ids": participant_user_ids,
        "meeting_id": meeting_id,
        "assessed_on": assessed_on,
    }
    errors: list[FieldError] = []
    factors = _ids(factor_ids, "factor_ids", errors)
    participants = _ids(participant_user_ids, "participant_user_ids", errors)
    meeting = _ids([meeting_id] if meeting_id else [], "meeting_id", errors)
    day: date | None = None
    if assessed_on.strip():
        try:
            day = date.fromisoformat(assessed_on.strip())
        except ValueError:
            errors.append(FieldError("assessed_on", "Ange datumet som ÅÅÅÅ-MM-DD."))
    try:
        if errors:
            raise ValidationFailed(errors)
        assessments.record_assessment(
            session,
            actor,
            case_id=case_id,
            level_code=level_code,
            factor_ids=factors,
            rationale=rationale,
            participant_user_ids=participants,
            meeting_id=meeting[0] if meeting else None,
            assessed_on=day,
        )
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, session, actor, case_id, errors=exc.errors, form=form, status=422)
    return see_other(f"/arenden/{case_id}/bedomningar?sparad=1")
