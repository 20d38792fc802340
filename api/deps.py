"""Request dependencies: one database transaction per request, and the API caller's Actor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from common.actor import Actor
from common.db import new_session
from common.errors import Unauthenticated
from domain.auth import service as auth
from domain.auth.service import SessionPolicy


def open_db(request: Request) -> Iterator[Session]:
    """Commit when the endpoint returns, roll back when it raises.

    Used with ``scope="function"`` so the commit happens before the response is sent: if the
    commit (with its audit rows) fails, the client gets an error, not a false success.
    """
    session = new_session(request.app.state.engine)
    request.state.db = session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(open_db, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="Token från POST /api/v1/auth/token")


def api_token_policy(request: Request) -> SessionPolicy:
    policy: SessionPolicy = request.app.state.api_token_policy
    return policy


def api_actor(
    request: Request,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    policy: Annotated[SessionPolicy, Depends(api_token_policy)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated()
    actor, _ = auth.resolve(session, token=credentials.credentials, kind="api", policy=policy)
    request.state.user_id = str(actor.user_id)  # for the request's log line
    return actor


CurrentActor = Annotated[Actor, Depends(api_actor)]
