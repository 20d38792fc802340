"""Pure ASGI middleware: request id, request log line, security and caching headers, and the
answer to an unexpected error."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable

import structlog
from anyio import to_thread
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.context import request_id_var

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
log = structlog.get_logger("samsyn.request")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Swagger UI loads its assets from a CDN we cannot reach and would not trust; /api/docs is
# served with its own assets only when they are installed, so the strict policy holds.

ErrorResponder = Callable[[Request, Exception], Awaitable[Response]]


def client_request_id(scope: Scope) -> str | None:
    """The client's own X-Request-ID, if it is a plain token: logged next to ours, never
    used in its place (a client must not choose the id under which its requests are logged
    and audited)."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            return incoming if _CLIENT_ID.match(incoming) else None
    return None


class RequestContextMiddleware:
    """The outermost layer that sees every request: it gives the request the server's own id,
    and it answers an error that nothing else handled.

    Starlette answers unhandled errors in `ServerErrorMiddleware`, outside every other
    middleware: after this one had reset the request id (the page said "Ange referens None")
    and without the security headers. It also re-raises the error to the server, which logged
    it again. Here the error is answered inside the request's context, with its headers, and
    not raised further once the answer is sent.
    """

    def __init__(self, app: ASGIApp, *, on_error: ErrorResponder | None = None) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        token = request_id_var.set(request_id)
        context = {"request_id": request_id}
        if (client_id := client_request_id(scope)) is not None:
            context["client_request_id"] = client_id
        structlog.contextvars.bind_contextvars(**context)
        started = time.perf_counter()
        status = 500
        response_started = False
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not path.startswith("/static/"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if response_started:
                raise  # too late to answer; the server closes the connection
            response = await self._answer(scope, exc)
            await response(scope, receive, send_with_headers)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=path,  # ids only: personal data never travels in a URL path here
                status=status,
                user_id=scope.get("state", {}).get("user_id"),
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars(*context)
            request_id_var.reset(token)

    async def _answer(self, scope: Scope, exc: Exception) -> Response:
        if self.on_error is not None:
            try:
                return await self.on_error(Request(scope), exc)
            except Exception as failure:  # the error page itself failed: answer plainly
                with contextlib.suppress(Exception):
                    log.error("error_page_failed", error_type=type(failure).__name__)
        else:
            with contextlib.suppress(Exception):
                log.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
        return PlainTextResponse(
            f"Internal Server Error (reference {request_id_var.get()})", status_code=500
        )


SPARE_THREADS = 8  # worker threads beyond the request limit, for work outside any request

# How long a request inside the app holds the others back (RequestLimit).
PATIENCE_SECONDS = 0.1


class RequestLimit:
    """At most `limit` requests inside the app at once, and one at a time until it has been
    inside for `patience` seconds; the others wait here, in the event loop, holding nothing,
    and go in first come, first served.

    One at a time: the process runs Python on one core, so requests inside together only
    take turns at the GIL, and every database call hands it over (SQLite's and psycopg's
    drivers let it go around each step), so two requests' threads pass it back and forth
    dozens of times each. Measured with 16 clients reading cases: letting one request in at
    a time instead of 32 served 30 % more reads on SQLite (205 → 268 a second) and 14 % more
    on PostgreSQL, with a lower p99 on both. A request still inside after `patience` (a
    report, an export, a client slow to send its body) stops holding the line, so a slow
    request costs the others at most that long, not its whole time.

    Inside the app a request holds at most one worker thread at a time: its sync dependencies
    and its endpoint run in the thread pool one after another. The pool gets more threads
    than the limit, so a request inside always finds a thread. Without the limit the pool
    could fill with requests waiting for SQLite's write turn (`common.db.WriterTurns`) while
    the request holding the turn waited for a thread to reach its commit, and nothing moved
    until the turns timed out: measured, 64 clients reading cases stopped the server outright
    (no answer in 15 s, then "unavailable" for all).
    """

    def __init__(self, app: ASGIApp, *, limit: int, patience: float = PATIENCE_SECONDS) -> None:
        self.app = app
        self.limit = limit
        self.patience = patience
        self._loop: asyncio.AbstractEventLoop | None = None
        self._places = asyncio.Semaphore(limit)
        self._line: deque[asyncio.Event] = deque()  # waiting for their turn, in order
        self._inside: dict[object, float] = {}  # each request inside: when it went in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # the pool and the places belong to one event loop
            self._loop, self._places = loop, asyncio.Semaphore(self.limit)
            self._line, self._inside = deque(), {}
            threads = to_thread.current_default_thread_limiter()
            threads.total_tokens = max(threads.total_tokens, self.limit + SPARE_THREADS)
        async with self._places:
            ticket = await self._turn(loop)
            try:
                await self.app(scope, receive, send)
            finally:
                self._inside.pop(ticket, None)  # gone already if the loop changed meanwhile
                if self._line:
                    self._line[0].set()

    async def _turn(self, loop: asyncio.AbstractEventLoop) -> object:
        """Wait until this request is first in line and no request inside is fresh."""
        ticket = object()
        if self._line or self._wait(loop.time()):
            mine = asyncio.Event()
            self._line.append(mine)
            try:
                while (wait := self._wait(loop.time())) or self._line[0] is not mine:
                    mine.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(mine.wait(), wait if self._line[0] is mine else None)
            finally:  # in, or given up: the next in line looks again
                self._line.remove(mine)
                if self._line:
                    self._line[0].set()
        self._inside[ticket] = loop.time()
        return ticket

    def _wait(self, now: float) -> float:
        """0 when no request inside is fresh; else how long until the freshest is not."""
        fresh = [since for since in self._inside.values() if now - since < self.patience]
        return max(fresh) + self.patience - now if fresh else 0.0
