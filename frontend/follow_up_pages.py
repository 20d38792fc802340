"""The steering group's follow-up page (issue 15 item 3). The follow-up statistics of the
collaboration agreement come with issue 14; until then the page says plainly what will be
there, so the steering group lands on a page made for it rather than on an empty one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from common.roles import Permission
from frontend.deps import PageActor
from frontend.render import render

router = APIRouter(include_in_schema=False)


@router.get("/uppfoljning")
def follow_up(request: Request, actor: PageActor) -> Response:
    actor.require(Permission.READ_FOLLOW_UP)
    return render(request, "follow_up.html", actor=actor)
