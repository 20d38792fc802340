"""Logging in through an OpenID provider: the redirect there, and the callback from it.

The session cookie is SameSite=Strict, so the browser would not send it on the first request
after a cross-site redirect from the provider. The callback therefore answers with a small
same-site page that sets the cookie and goes on by itself (meta refresh, and a link).

The state, nonce and PKCE verifier stay in the database (`domain.auth.federation`). The
browser gets only a random binding value in a short-lived HttpOnly cookie, SameSite=Lax so
that it comes back on the provider's top-level redirect, and limited to /oidc/.

Logging out of a session that came from a provider ends it at the provider too, where the
provider offers an `end_session_endpoint` (OpenID Connect RP-Initiated Logout 1.0): otherwise
the next click on its button would log the same person in again without a password, which on
a shared computer is the next person's click.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from common.errors import NotFound
from domain.auth import federation
from domain.auth.oidc import OidcError, OpenIdClient, new_secret
from domain.auth.service import ProviderSession
from frontend import session_cookies as cookies
from frontend.config import PageConfig
from frontend.deps import PageDb
from frontend.errors import render_error
from frontend.render import render, safe_next

router = APIRouter(include_in_schema=False)

BROWSER_COOKIE = "samsyn_oidc"
BROWSER_COOKIE_PATH = "/oidc/"
UNREACHABLE = (
    "Det går inte att nå identitetsleverantören just nu. Försök igen om en stund, eller logga "
    "in på annat sätt."
)


def _config(request: Request) -> PageConfig:
    config: PageConfig = request.app.state.pages
    return config


def _client(request: Request, name: str) -> OpenIdClient:
    client = _config(request).federation.get(name)
    if client is None:
        raise NotFound()
    return client


def _redirect_uri(request: Request, name: str) -> str:
    """`<base>/oidc/<name>/callback`, from SAMSYN_PUBLIC_URL when set (behind a proxy)."""
    base = _config(request).public_url or str(request.base_url)
    return f"{base.rstrip('/')}/oidc/{name}/callback"


def _logged_out_uri(request: Request, name: str) -> str:
    """`<base>/oidc/<name>/logged-out`: register it at the provider as a post-logout
    redirect URI."""
    base = _config(request).public_url or str(request.base_url)
    return f"{base.rstrip('/')}/oidc/{name}/logged-out"


def provider_logout(request: Request, provider: ProviderSession | None) -> Response | None:
    """A page that sends the browser on to the provider's end-session endpoint, or None when
    there is no provider session to end (or the provider offers no way to).

    A page, not a redirect: the logout form's CSP (`form-action 'self'`) would stop a redirect
    to another site; the page goes on by itself, like the login's continue page.
    """
    client = _config(request).federation.get(provider.issuer_name) if provider else None
    if provider is None or client is None:
        return None
    try:
        url = client.end_session_url(
            id_token_hint=provider.id_token,
            post_logout_redirect_uri=_logged_out_uri(request, provider.issuer_name),
            state=new_secret(),
        )
    except OidcError:
        return None
    if url is None:
        return None
    return render(request, "oidc_logout.html", {"url": url})


@router.get("/oidc/{name}/logged-out")
def oidc_logged_out(request: Request, name: str) -> Response:
    """Where the provider sends the browser back after its logout. The `state` it carries is
    not checked: this only shows the login page, which a forged return cannot abuse."""
    _client(request, name)
    return RedirectResponse("/logga-in?utloggad=1", status_code=303)


def _end_binding(response: Response) -> None:
    response.delete_cookie(BROWSER_COOKIE, path=BROWSER_COOKIE_PATH)


@router.get("/oidc/{name}/login")
def oidc_login(
    request: Request,
    session: PageDb,
    name: str,
    nasta: Annotated[str, Query(max_length=500)] = "/",
) -> Response:
    client = _client(request, name)
    try:
        authorization = federation.begin_login(
            session,
            client,
            redirect_uri=_redirect_uri(request, name),
            next_path=safe_next(nasta),
            browser_token=request.cookies.get(BROWSER_COOKIE),
        )
    except OidcError:
        return render_error(request, status=502, detail=UNREACHABLE)
    response = RedirectResponse(authorization.url, status_code=303)
    response.set_cookie(
        BROWSER_COOKIE,
        authorization.browser_token,
        httponly=True,
        samesite="lax",
        secure=_config(request).secure_cookies,
        path=BROWSER_COOKIE_PATH,
        max_age=int(federation.LOGIN_LIFETIME.total_seconds()),
    )
    return response


@router.get("/oidc/{name}/callback")
def oidc_callback(request: Request, session: PageDb, name: str) -> Response:
    client = _client(request, name)
    params = {key: value[:4096] for key, value in request.query_params.items()}
    outcome = federation.finish_login(
        session,
        client,
        params=params,
        browser_token=request.cookies.get(BROWSER_COOKIE),
        redirect_uri=_redirect_uri(request, name),
        policy=_config(request).session_policy,
        client_address=cookies.client_address(request),
    )
    # Refusals are returned, not raised: the attempt and its audit event must commit.
    if isinstance(outcome, federation.FederatedLoginRefused):
        response = render_error(request, status=outcome.status, detail=outcome.message)
        _end_binding(response)
        return response
    response = render(request, "oidc_continue.html", {"next": outcome.next_path})
    cookies.start_session(request, response, outcome.result)
    _end_binding(response)
    return response
