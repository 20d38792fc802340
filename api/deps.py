"""Request dependencies: one database transaction per request, and the API caller's Actor."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from audit import log as audit
from audit.models import Outcome
from common.actor import Actor
from common.db import new_session
from common.errors import DomainError, Forbidden, NotFound, Unauthenticated
from common.roles import Permission
from domain.auth import service as auth
from domain.auth.federation import actor_for_bearer
from domain.auth.oidc import Federation, looks_like_jwt
from domain.auth.service import SessionPolicy
from frontend.csrf import SESSION_COOKIE

T = TypeVar("T")


async def open_db(request: Request) -> AsyncIterator[Session]:
    """Commit when the endpoint returns, roll back when it raises.

    Used with ``scope="function"`` so the commit happens before the response is sent: if the
    commit (with its audit rows) fails, the client gets an error, not a false success.

    Opening a session touches no database (its connection is taken at the first statement,
    in the endpoint's thread), so it happens here on the event loop; only ending the
    transaction needs a thread. That one runs as FastAPI runs a sync dependency's exit:
    shielded from cancellation and outside the shared pool's limit, since a request holding
    SQLite's write turn must never wait for a pool thread to release it (`RequestLimit`).
    """
    session = new_session(request.app.state.engine)
    request.state.db = session
    request.state.db_ended = False
    try:
        yield session
    except BaseException as exc:
        if not request.state.db_ended:
            await _in_own_thread(_end_transaction, request, session, exc)
        raise
    if not request.state.db_ended:
        await _in_own_thread(_end_transaction, request, session, None)


async def _in_own_thread(function: Callable[..., None], *args: object) -> None:
    with CancelScope(shield=True):
        await to_thread.run_sync(function, *args, limiter=CapacityLimiter(1))


def _end_transaction(request: Request, session: Session, failure: BaseException | None) -> None:
    try:
        if failure is None:
            session.commit()
            return
        session.rollback()
        if isinstance(failure, (NotFound, Forbidden)) or (
            isinstance(failure, Unauthenticated) and _presented_credentials(request)
        ):
            _record_denial(session, request, failure)
            session.commit()
    finally:
        session.close()


def _presented_credentials(request: Request) -> bool:
    return "authorization" in request.headers or SESSION_COOKIE in request.cookies


def _record_denial(session: Session, request: Request, exc: DomainError) -> None:
    """A denied request is evidence too: recorded in its own transaction after the rollback."""
    params = request.path_params
    template = request.url.path  # ids replaced by their names: the action names the endpoint
    for name, value in params.items():
        template = template.replace(str(value), "{" + name + "}")
    case_id = _uuid_or_none(params.get("case_id"))
    resource = next((str(v) for k, v in params.items() if k.endswith("_id")), None)
    audit.record(
        session,
        getattr(request.state, "actor", None),
        action=f"{request.method} {template}"[:64],
        resource_type="request",
        resource_id=resource[:64] if resource else None,
        case_id=case_id,
        outcome=Outcome.DENIED,
        basis={"status": exc.status_code, "error": exc.code},
    )


def _uuid_or_none(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


DbSession = Annotated[Session, Depends(open_db, scope="function")]


class Transaction:
    """The request's transaction, for an `async` endpoint: `run` does the endpoint's work in
    one worker thread and ends the transaction there (commit, or rollback and the denial's
    audit event), so the request makes one thread hop where a sync endpoint makes three
    (the endpoint, FastAPI's validation of its result, and `open_db`'s exit).

    The work must return what the response needs, already serialised: after `run` the
    session is closed, and nothing may touch the database on the event loop.
    """

    def __init__(self, request: Request, session: Session) -> None:
        self._request = request
        self.session = session

    async def run(self, work: Callable[[], T]) -> T:
        request, session = self._request, self.session
        if request.state.db_ended:
            raise RuntimeError("the transaction has ended: one run per request")

        def in_thread() -> T:
            request.state.db_ended = True  # whatever happens now ends the transaction here
            try:
                result = work()
            except BaseException as exc:
                _end_transaction(request, session, exc)
                raise
            _end_transaction(request, session, None)
            return result

        with CancelScope(shield=True):
            result = await to_thread.run_sync(in_thread)
        return result


async def transaction(request: Request, session: DbSession) -> Transaction:
    return Transaction(request, session)


Tx = Annotated[Transaction, Depends(transaction)]

_bearer = HTTPBearer(auto_error=False, description="Token från POST /api/v1/auth/token")


async def api_token_policy(request: Request) -> SessionPolicy:
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
    token = credentials.credentials
    federation: Federation = request.app.state.federation
    if federation and looks_like_jwt(token):
        # A configured provider's access token; our own tokens are opaque (no dots).
        actor = actor_for_bearer(session, federation, token)
    else:
        actor, _ = auth.resolve(session, token=token, kind="api", policy=policy)
    request.state.actor = actor  # for a denial's audit event
    request.state.user_id = str(actor.user_id)  # for the request's log line
    return actor


CurrentActor = Annotated[Actor, Depends(api_actor)]


def requires(permission: Permission) -> Any:
    """A route dependency: the role check runs before the body is read or validated."""

    async def check(actor: CurrentActor) -> None:
        actor.require(permission)

    return Depends(check)
