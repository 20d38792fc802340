"""Error pages. A missing record and one the user may not see render the same page.

Every error page offers the way back to where the user was (`way_back`): the page the failed
request came from or belongs to, found among the app's own GET pages. A 404 links only to a
page whose address holds no id, so the page for an out-of-scope record stays identical to the
one for a record that never existed.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path

from frontend.render import render

# What the way back leads to, by the route it lands on; other pages are "föregående sida".
BACK_LABELS = {
    "/": "startsidan",
    "/arenden": "ärendelistan",
    "/arenden/{case_id}": "ärendet",
    "/arenden/{case_id}/samtycken": "ärendets samtycken",
    "/arenden/{case_id}/team": "ärendets team",
    "/arenden/{case_id}/moten": "ärendets möten",
    "/arenden/{case_id}/moten/{meeting_id}": "mötet",
    "/arenden/{case_id}/plan": "ärendets plan",
    "/arenden/{case_id}/bedomningar": "ärendets bedömningar",
    "/unga/ny": "registreringen av en ung person",
    "/unga/{young_person_id}": "den unga personen",
    "/aktualiseringar": "aktualiseringarna",
    "/aktualiseringar/mina": "dina aktualiseringar",
    "/aktualiseringar/ny": "formuläret för aktualisering",
    "/aktualiseringar/{referral_id}": "aktualiseringen",
    "/samtycken": "samtyckesbevakningen",
    "/nodatkomst": "nödåtkomst",
    "/granskning": "logggranskningen",
}
_ID = re.compile(r"^[0-9a-fA-F-]{32,36}$")


def _page_route(request: Request, path: str) -> str | None:
    """The template of the app's GET page at `path` (e.g. "/arenden/{case_id}"), if any; a
    page without parameters wins over one with ("/unga/ny" over "/unga/{young_person_id}")."""
    pages: list[str] = []
    for context in iter_route_contexts(request.app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        template: str = context.path or route.path
        if (
            not template.startswith("/api/")
            and "GET" in (route.methods or ())
            and compile_path(template)[0].match(path)
        ):
            pages.append(template)
    pages.sort(key=lambda template: "{" in template)
    return pages[0] if pages else None


def way_back(request: Request, *, not_found: bool) -> tuple[str, str] | None:
    """(address, what it is) of the page to go back to, or None when that is the start page.

    A failed form (POST) goes back to its own page when there is one (a GET at the same
    address); otherwise, and for a failed GET, to the nearest page above the address. For a
    404 the search starts above the first id in the address."""
    segments = [s for s in request.url.path.split("/") if s]
    ids = [i for i, s in enumerate(segments) if _ID.match(s)]
    if not_found and ids:
        segments = segments[: ids[0]]
    elif request.method != "POST":
        segments = segments[:-1]
    while segments:
        path = "/" + "/".join(segments)
        route = _page_route(request, path)
        if route is not None:
            return path, BACK_LABELS.get(route, "föregående sida")
        segments = segments[:-1]
    return None


def render_error(
    request: Request, *, status: int, detail: str, not_found: bool = False
) -> Response:
    back = way_back(request, not_found=not_found)
    return render(
        request,
        "error.html",
        {"status": status, "detail": detail, "not_found": not_found, "back": back},
        status=status,
    )


def login_redirect(request: Request) -> Response:
    target = request.url.path if request.method == "GET" else "/"
    return RedirectResponse(f"/logga-in?nasta={quote(target, safe='/')}", status_code=303)
