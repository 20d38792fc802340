"""What page handlers depend on. The app factory opens the transaction and puts it on
`request.state.db`; the browser session cookie is resolved to an Actor here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from common.actor import Actor
from common.errors import Unauthenticated
from domain.auth import service as auth
from frontend.config import PageConfig
from frontend.csrf import SESSION_COOKIE


def page_db(request: Request) -> Session:
    session: Session = request.state.db
    return session


def optional_actor(request: Request, session: Annotated[Session, Depends(page_db)]) -> Actor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    config: PageConfig = request.app.state.pages
    try:
        actor, user_session = auth.resolve(
            session, token=token, kind="browser", policy=config.session_policy
        )
    except Unauthenticated:
        return None
    request.state.actor = actor
    request.state.user_session = user_session
    request.state.user_id = str(actor.user_id)
    request.state.user_name = user_session.display_name
    return actor


def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise Unauthenticated()
    return actor


PageDb = Annotated[Session, Depends(page_db)]
PageActor = Annotated[Actor, Depends(current_actor)]
MaybeActor = Annotated[Actor | None, Depends(optional_actor)]
