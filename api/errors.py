"""One place that turns errors into responses: JSON under /api, HTML pages elsewhere."""

from __future__ import annotations

import contextlib
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: TID251 - handled, not raised
from starlette.routing import compile_path

from common.context import current_request_id
from common.errors import (
    DomainError,
    FieldError,
    NotFound,
    StaleVersion,
    Unauthenticated,
    Unavailable,
)
from frontend import errors as pages

log = structlog.get_logger("samsyn.errors")


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    """The body of every error response of the JSON API."""

    error: str
    detail: str
    errors: list[FieldErrorOut] = []
    reference: str | None = None  # the request id, on an unexpected error (500)
    current_version: int | None = None  # on a stale edit (409): the version to fetch and retry


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries saying that these statuses answer with an `ErrorOut` body."""
    return {status: {"model": ErrorOut} for status in statuses}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _json(
    status: int,
    code: str,
    detail: str,
    errors: list[FieldError] | None = None,
    *,
    reference: str | None = None,
    current_version: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorOut(
        error=code,
        detail=detail,
        errors=[FieldErrorOut(field=e.field, message=e.for_api) for e in errors or []],
        reference=reference,
        current_version=current_version,
    )
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route answers at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.methods:
            pattern, _, _ = compile_path(context.path or route.path)
            if pattern.match(request.url.path):
                methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


async def unexpected(request: Request, exc: Exception) -> Response:
    """The answer to an error nothing else handled, called by `RequestContextMiddleware` inside
    the request's context: the reference is the request's id, the log line carries the
    exception's type and a bounded traceback without local variables (api.logging)."""
    reference = current_request_id()
    with contextlib.suppress(Exception):  # a log that cannot be written must not stop the answer
        log.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
    detail = f"Ett oväntat fel inträffade. Ange referens {reference} vid kontakt med support."
    if _is_api(request):
        return _json(500, "internal_error", detail, reference=reference)
    return pages.render_error(request, status=500, detail=detail)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, Unavailable):
            log.warning("unavailable", error_type=type(exc).__name__)
            retry = {"Retry-After": str(exc.retry_after_seconds)}
            if _is_api(request):
                return _json(exc.status_code, exc.code, exc.detail, headers=retry)
            response = pages.render_error(request, status=exc.status_code, detail=exc.detail)
            response.headers.update(retry)
            return response
        if _is_api(request):
            current = exc.current_version if isinstance(exc, StaleVersion) else None
            return _json(
                exc.status_code,
                exc.code,
                exc.detail_for_api,
                exc.errors,
                current_version=current,
            )
        if isinstance(exc, Unauthenticated):
            return pages.login_redirect(request)
        return pages.render_error(
            request, status=exc.status_code, detail=exc.detail, not_found=isinstance(exc, NotFound)
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [FieldError(_field_name(tuple(e["loc"])), str(e["msg"])) for e in exc.errors()]
        if _is_api(request):
            return _json(422, "validation_failed", "Uppgifterna är inte giltiga.", errors)
        fields = ", ".join(sorted({e.field for e in errors}))
        return pages.render_error(
            request, status=400, detail=f"Förfrågan kunde inte tolkas. Kontrollera: {fields}."
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # What the framework itself refuses (a body that does not parse: 400), in our shape.
        code = "bad_request" if exc.status_code == 400 else "http_error"
        detail = "Förfrågan kunde inte tolkas." if exc.status_code == 400 else str(exc.detail)
        if _is_api(request):
            return _json(exc.status_code, code, detail, headers=dict(exc.headers or {}))
        return pages.render_error(request, status=exc.status_code, detail=detail)

    @app.exception_handler(404)
    async def no_route(request: Request, _exc: Exception) -> Response:
        # An unknown path answers exactly like an out-of-scope record.
        not_found = NotFound()
        if _is_api(request):
            return _json(404, not_found.code, not_found.detail)
        return pages.render_error(request, status=404, detail=not_found.detail, not_found=True)

    @app.exception_handler(405)
    async def wrong_method(request: Request, _exc: Exception) -> Response:
        allow = {"Allow": _allowed_methods(request)}
        detail = "Metoden stöds inte för denna adress."
        if _is_api(request):
            return _json(405, "method_not_allowed", detail, headers=allow)
        response = pages.render_error(request, status=405, detail=detail)
        response.headers.update(allow)
        return response

    # Errors nothing above handles are answered by `unexpected`, which the app factory hands
    # to RequestContextMiddleware: Starlette's own last-resort handler runs outside every
    # middleware, after the request's context is gone.
