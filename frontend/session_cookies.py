"""The browser's login cookies: the session itself, and a login waiting for its second step.

Both are random tokens the server keeps only as SHA-256 (see `domain.auth.service`).
"""

from __future__ import annotations

from fastapi import Request, Response

from domain.auth import service as auth
from frontend import csrf
from frontend.config import PageConfig

PENDING_COOKIE = "samsyn_pending"
PENDING_PATH = "/logga-in"  # the pending token is sent nowhere else


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def start_session(request: Request, response: Response, result: auth.LoginResult) -> None:
    config: PageConfig = request.app.state.pages
    response.set_cookie(
        csrf.SESSION_COOKIE,
        result.token,
        httponly=True,
        samesite="strict",
        secure=config.secure_cookies,
        path="/",
        max_age=int(config.session_policy.absolute.total_seconds()),
    )
    response.delete_cookie(csrf.PRE_SESSION_COOKIE, path="/")
    end_pending(response)


def start_pending(request: Request, response: Response, step: auth.SecondStep) -> None:
    config: PageConfig = request.app.state.pages
    response.set_cookie(
        PENDING_COOKIE,
        step.token,
        httponly=True,
        samesite="strict",
        secure=config.secure_cookies,
        path=PENDING_PATH,
        max_age=int(auth.PENDING_LIFETIME.total_seconds()),
    )


def pending_token(request: Request) -> str | None:
    return request.cookies.get(PENDING_COOKIE) or None


def end_pending(response: Response) -> None:
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
