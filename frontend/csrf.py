"""CSRF tokens bound to the browser: HMAC of the session token, or of a pre-login cookie.

Nothing is stored: the token is recomputed and compared on every form post.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from common.errors import Forbidden
from frontend.config import PageConfig

SESSION_COOKIE = "samsyn_session"
PRE_SESSION_COOKIE = "samsyn_pre"


def _config(request: Request) -> PageConfig:
    config: PageConfig = request.app.state.pages
    return config


def _binding(request: Request) -> str | None:
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return "session:" + session_token
    pre = getattr(request.state, "pre_session", None) or request.cookies.get(PRE_SESSION_COOKIE)
    return "pre:" + pre if pre else None


def token_for(request: Request) -> str:
    binding = _binding(request)
    if binding is None:
        # First visit: make a pre-session value now; `ensure_pre_session_cookie` sends it.
        request.state.pre_session = secrets.token_urlsafe(32)
        binding = "pre:" + request.state.pre_session
    key = _config(request).keys.session
    return hmac.new(key, binding.encode(), hashlib.sha256).hexdigest()


def ensure_pre_session_cookie(request: Request, response: Response) -> None:
    pre = getattr(request.state, "pre_session", None)
    if pre:
        response.set_cookie(
            PRE_SESSION_COOKIE,
            pre,
            httponly=True,
            samesite="strict",
            secure=_config(request).secure_cookies,
            path="/",
        )


def check(request: Request, submitted: str) -> None:
    binding = _binding(request)
    if binding is None or not submitted:
        raise Forbidden("Formuläret har gått ut. Ladda om sidan och försök igen.")
    key = _config(request).keys.session
    expected = hmac.new(key, binding.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, submitted):
        raise Forbidden("Formuläret har gått ut. Ladda om sidan och försök igen.")
