"""Cylinder-model assessments of a case, and the municipality's levels and factor catalogues."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.assessments import (
    AssessmentFactorIn,
    AssessmentFactorOut,
    AssessmentFactorPatch,
    AssessmentIn,
    AssessmentListOut,
    AssessmentOut,
    CylinderLevelIn,
    CylinderLevelOut,
    VersionIn,
)
from common.roles import Permission
from domain.assessments import service as assessments

router = APIRouter(tags=["assessments"])
_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/cases/{case_id}/assessments",
    response_model=AssessmentListOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.READ_ASSESSMENTS)],
)
def list_assessments(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID
) -> AssessmentListOut:
    """The path over time, oldest first. A partner sees assessments only when their agency's
    consent covers `risk`; otherwise the list is empty."""
    return AssessmentListOut.of(assessments.read_path(session, actor, case_id=case_id))


@router.post(
    "/cases/{case_id}/assessments",
    status_code=201,
    response_model=AssessmentOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.RECORD_ASSESSMENT)],
)
def record_assessment(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, body: AssessmentIn
) -> AssessmentOut:
    """A new assessment (immutable; it supersedes the current one)."""
    entry = assessments.record_assessment(
        session,
        actor,
        case_id=case_id,
        level_code=body.level_code,
        factor_ids=body.factor_ids,
        rationale=body.rationale,
        participant_user_ids=body.participant_user_ids,
        meeting_id=body.meeting_id,
        assessed_on=body.assessed_on,
    )
    return AssessmentOut.of(entry)


@router.get(
    "/cases/{case_id}/assessments/{assessment_id}",
    response_model=AssessmentOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.READ_ASSESSMENTS)],
)
def read_assessment(
    session: DbSession, actor: CurrentActor, case_id: uuid.UUID, assessment_id: uuid.UUID
) -> AssessmentOut:
    return AssessmentOut.of(
        assessments.read_assessment(session, actor, case_id=case_id, assessment_id=assessment_id)
    )


@router.get("/cylinder-levels", response_model=list[CylinderLevelOut], responses=_ERRORS)
def cylinder_levels(session: DbSession, actor: CurrentActor) -> list[CylinderLevelOut]:
    """The current levels, bottom first."""
    return [CylinderLevelOut.of(row) for row in assessments.current_levels(session, actor)]


@router.put(
    "/cylinder-levels/{code}",
    response_model=CylinderLevelOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CONFIGURE)],
)
def set_cylinder_level(
    session: DbSession, actor: CurrentActor, code: str, body: CylinderLevelIn
) -> CylinderLevelOut:
    """Add a level, or give one new wording or rank (a new version; old assessments keep the
    wording they were made with)."""
    row = assessments.set_level(
        session, actor, code=code, wording=body.wording, rank=body.rank, version=body.version
    )
    return CylinderLevelOut.of(row)


@router.post(
    "/cylinder-levels/{code}/retirement",
    response_model=CylinderLevelOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CONFIGURE)],
)
def retire_cylinder_level(
    session: DbSession, actor: CurrentActor, code: str, body: VersionIn
) -> CylinderLevelOut:
    return CylinderLevelOut.of(
        assessments.retire_level(session, actor, code=code, version=body.version)
    )


@router.get("/assessment-factors", response_model=list[AssessmentFactorOut], responses=_ERRORS)
def assessment_factors(session: DbSession, actor: CurrentActor) -> list[AssessmentFactorOut]:
    """The current risk and protective factors."""
    return [AssessmentFactorOut.of(row) for row in assessments.current_factors(session, actor)]


@router.post(
    "/assessment-factors",
    status_code=201,
    response_model=AssessmentFactorOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CONFIGURE)],
)
def add_assessment_factor(
    session: DbSession, actor: CurrentActor, body: AssessmentFactorIn
) -> AssessmentFactorOut:
    return AssessmentFactorOut.of(
        assessments.add_factor(session, actor, kind=body.kind, text=body.text)
    )


@router.put(
    "/assessment-factors/{factor_id}",
    response_model=AssessmentFactorOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CONFIGURE)],
)
def change_assessment_factor(
    session: DbSession, actor: CurrentActor, factor_id: uuid.UUID, body: AssessmentFactorPatch
) -> AssessmentFactorOut:
    row = assessments.change_factor(
        session, actor, factor_id=factor_id, version=body.version, text=body.text
    )
    return AssessmentFactorOut.of(row)


@router.post(
    "/assessment-factors/{factor_id}/retirement",
    response_model=AssessmentFactorOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CONFIGURE)],
)
def retire_assessment_factor(
    session: DbSession, actor: CurrentActor, factor_id: uuid.UUID, body: VersionIn
) -> AssessmentFactorOut:
    row = assessments.change_factor(
        session, actor, factor_id=factor_id, version=body.version, retire=True
    )
    return AssessmentFactorOut.of(row)
