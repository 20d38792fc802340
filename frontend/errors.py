"""Error pages. A missing record and one the user may not see render the same page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from frontend.render import render


def render_error(
    request: Request, *, status: int, detail: str, not_found: bool = False
) -> Response:
    return render(
        request,
        "error.html",
        {"status": status, "detail": detail, "not_found": not_found},
        status=status,
    )


def login_redirect(request: Request) -> Response:
    target = request.url.path if request.method == "GET" else "/"
    return RedirectResponse(f"/logga-in?nasta={quote(target, safe='/')}", status_code=303)
