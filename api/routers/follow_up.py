"""The follow-up report and the release ledger (issue 14 items 5–6) under
`/api/v1/follow-up`. Reports (preview, narrative, publish, correct) need MANAGE_AGREEMENTS;
releases (list, read, download the frozen files) need READ_FOLLOW_UP."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.follow_up import (
    PERIOD_CODE,
    DraftOut,
    NarrativeIn,
    PreviewOut,
    ReleaseDetailOut,
    ReleaseListOut,
    ReleaseOut,
    VersionIn,
)
from common.roles import Permission
from domain.reports import service as reports
from domain.reports.service import Statistics

router = APIRouter(prefix="/follow-up", tags=["follow-up"])
_ERRORS = error_responses(401, 403, 404, 409, 422)
_MANAGE = [requires(Permission.MANAGE_AGREEMENTS)]
_READ = [requires(Permission.READ_FOLLOW_UP)]


def _statistics(request: Request) -> Statistics:
    found: Statistics = request.app.state.statistics
    return found


@router.get("/reports/preview", response_model=PreviewOut, responses=_ERRORS, dependencies=_MANAGE)
def preview(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    period: Annotated[str, Query(pattern=PERIOD_CODE)],
) -> PreviewOut:
    """The report as it would be published now, with the saved narrative (audited: it reads
    case data in aggregate)."""
    found = reports.preview(
        session,
        actor,
        agreement_id=agreement_id,
        activity_id=activity_id,
        period_code=period,
        statistics=_statistics(request),
    )
    return PreviewOut.of(found.draft, found.document)


@router.put("/reports/narrative", response_model=DraftOut, responses=_ERRORS, dependencies=_MANAGE)
def save_narrative(session: DbSession, actor: CurrentActor, body: NarrativeIn) -> DraftOut:
    """Save the coordinator's text; version 0 creates the report. A published report is 409."""
    draft = reports.save_narrative(
        session,
        actor,
        agreement_id=body.agreement_id,
        activity_id=body.activity_id,
        period_code=body.period,
        narrative=body.narrative,
        version=body.version,
    )
    return DraftOut.of(draft)


@router.post(
    "/reports/publish",
    response_model=ReleaseOut,
    status_code=201,
    responses=_ERRORS,
    dependencies=_MANAGE,
)
def publish(
    request: Request, session: DbSession, actor: CurrentActor, body: VersionIn
) -> ReleaseOut:
    """Freeze the report as the agreement's next release. 409 when it is published already,
    when the version is stale, or when the figures cannot be published safely."""
    row = reports.publish(
        session,
        actor,
        agreement_id=body.agreement_id,
        activity_id=body.activity_id,
        period_code=body.period,
        version=body.version,
        statistics=_statistics(request),
    )
    return ReleaseOut.of(reports.release(session, actor, row.id))


@router.post("/reports/correct", response_model=DraftOut, responses=_ERRORS, dependencies=_MANAGE)
def correct(session: DbSession, actor: CurrentActor, body: VersionIn) -> DraftOut:
    """Reopen a published report; its next publication corrects the last release."""
    draft = reports.correct(
        session,
        actor,
        agreement_id=body.agreement_id,
        activity_id=body.activity_id,
        period_code=body.period,
        version=body.version,
    )
    return DraftOut.of(draft)


@router.get("/releases", response_model=ReleaseListOut, responses=_ERRORS, dependencies=_READ)
def list_releases(
    session: DbSession, actor: CurrentActor, agreement_id: uuid.UUID | None = None
) -> ReleaseListOut:
    views = reports.releases(session, actor, agreement_id=agreement_id)
    return ReleaseListOut(items=[ReleaseOut.of(view) for view in views])


@router.get(
    "/releases/{release_id}",
    response_model=ReleaseDetailOut,
    responses=_ERRORS,
    dependencies=_READ,
)
def get_release(session: DbSession, actor: CurrentActor, release_id: uuid.UUID) -> ReleaseDetailOut:
    return ReleaseDetailOut.detail(reports.release(session, actor, release_id))


def _download(kind: str) -> Any:
    def download(session: DbSession, actor: CurrentActor, release_id: uuid.UUID) -> Response:
        data, media, name = reports.download(session, actor, release_id, kind)
        return Response(
            content=data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    download.__doc__ = f"The release's frozen {kind.upper()} file, byte for byte as published."
    return download


for _kind, _media in reports.FILE_KINDS.items():
    router.add_api_route(
        "/releases/{release_id}/report." + _kind,
        _download(_kind),
        methods=["GET"],
        responses={**_ERRORS, 200: {"content": {_media.split(";")[0]: {}}}},
        response_class=Response,
        dependencies=_READ,
        name=f"download_release_{_kind}",
    )
