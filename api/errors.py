"""One place that turns errors into responses: JSON under /api, HTML pages elsewhere."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from common.context import current_request_id
from common.errors import DomainError, FieldError, NotFound, Unauthenticated
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


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries saying that these statuses answer with an `ErrorOut` body."""
    return {status: {"model": ErrorOut} for status in statuses}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _json(
    status: int, code: str, detail: str, errors: list[FieldError] | None = None
) -> JSONResponse:
    body = ErrorOut(
        error=code,
        detail=detail,
        errors=[FieldErrorOut(field=e.field, message=e.message) for e in errors or []],
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if _is_api(request):
            return _json(exc.status_code, exc.code, exc.detail, exc.errors)
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
        return pages.render_error(request, status=400, detail="Förfrågan kunde inte tolkas.")

    @app.exception_handler(404)
    async def no_route(request: Request, _exc: Exception) -> Response:
        # An unknown path answers exactly like an out-of-scope record.
        not_found = NotFound()
        if _is_api(request):
            return _json(404, not_found.code, not_found.detail)
        return pages.render_error(request, status=404, detail=not_found.detail, not_found=True)

    @app.exception_handler(405)
    async def wrong_method(request: Request, _exc: Exception) -> Response:
        if _is_api(request):
            return _json(405, "method_not_allowed", "Metoden stöds inte för denna adress.")
        return pages.render_error(
            request, status=405, detail="Metoden stöds inte för denna adress."
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
        detail = (
            "Ett oväntat fel inträffade. "
            f"Ange referens {current_request_id()} vid kontakt med support."
        )
        if _is_api(request):
            return _json(500, "internal_error", detail)
        return pages.render_error(request, status=500, detail=detail)
