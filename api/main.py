"""The application factory: wires settings, keys, database, routers and error handling."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from api import errors
from api.deps import DbSession, open_db
from api.middleware import RequestContextMiddleware, RequestLimit
from api.routers import (
    admin,  # issue 15
    agreements,  # issue 14: the collaboration agreement
    assessments,
    audit,
    auth,
    breakglass,
    cases,
    consents,
    meetings,
    people,
    plans,
    referrals,  # issue 13
)
from api.routers import configuration as configuration_api  # issue 15
from api.routers import follow_up as follow_up_api  # issue 14
from api.settings import Settings
from api.statistics import bind_statistics
from audit.health import audit_health
from audit.sequencer import LogSigner, Sequencer
from common.crypto import install_field_keyring
from common.db import make_engine, planner_statistics_keeper
from common.keys import KeySet, load_keys
from consent.policy import install_signing_policy
from consent.rules import SigningPolicy
from domain.auth.oidc import Federation
from domain.auth.service import SessionPolicy
from domain.consents.sweep import consent_sweeper
from domain.health.repository import database_answers
from frontend import (
    admin_pages,
    agreement_pages,  # issue 14: the collaboration agreement
    assessment_pages,
    config_pages,  # issue 15: the municipality's configuration
    consent_pages,
    follow_up_pages,
    meeting_pages,
    oidc_pages,
    plan_pages,
    referral_pages,  # issue 13
    second_factor,
)
from frontend import auditing as audit_pages
from frontend import routes as pages
from frontend.config import PageConfig

STATIC_DIR = Path(pages.__file__).parent / "static"


class AuditHealthOut(BaseModel):
    """The audit log's state; `problems` names each reason for "degraded" (alert on it)."""

    status: Literal["ok", "degraded"]
    sequencer: str
    problems: list[str]
    log_size: int
    oldest_pending_seconds: int | None
    exported_size: int | None
    skipped_checkpoint_rows: int


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    audit: AuditHealthOut


def load_app_keys(settings: Settings, env: dict[str, str]) -> KeySet:
    """Keys come from the environment or the key directory; only development may generate them."""
    return load_keys(settings.resolved_key_dir, env, generate=not settings.is_production)


def install_runtime(settings: Settings, keys: KeySet) -> None:
    """What the core reads from process-wide configuration: field keys, and the signing
    policy that applies until the municipality sets its own (domain.configuration)."""
    install_field_keyring(keys.field)
    install_signing_policy(
        SigningPolicy(
            young_person_from_age=settings.consent_young_person_from_age,
            adult_age=settings.consent_adult_age,
        )
    )


def freeze_startup_heap() -> None:
    """Collect the garbage of starting up, then leave everything still alive out of the
    cyclic garbage collector's future passes (`gc.freeze`): modules, the app, the ORM's
    metadata and caches live as long as the process. Otherwise each full collection walks
    them all again; on a busy machine, where the sequencer thread gets a small share of a
    core, one such walk held it up for 1-2 s (tests/perf/README.md, the sequencer's lag)."""
    gc.collect()
    gc.freeze()


def log_signer(settings: Settings, keys: KeySet) -> LogSigner:
    return LogSigner(origin=settings.audit_origin, key=keys.audit_signing)


def health(request: Request, session: DbSession, response: Response) -> HealthOut:
    """200 when healthy; 503 with the same body when degraded (see `audit.problems`).

    A module-level function, not a closure over the app: FastAPI caches what it learns about
    each endpoint function in a module-level LRU (4,096 entries), so a closure over `app`
    kept every app ever created alive (each test's, seven megabytes apiece)."""
    app = request.app
    settings: Settings = app.state.settings
    database_answers(session)
    audit_state = audit_health(
        session,
        status=app.state.sequencer.status,
        signer=app.state.log_signer,
        export_dir=settings.audit_export_dir,
        stall_after=timedelta(seconds=settings.audit_stall_seconds),
    )
    status: Literal["ok", "degraded"] = "ok" if audit_state.ok else "degraded"
    if not audit_state.ok:
        response.status_code = 503
    return HealthOut(
        status=status,
        audit=AuditHealthOut(
            status=status,
            sequencer=audit_state.sequencer,
            problems=audit_state.problems,
            log_size=audit_state.log_size,
            oldest_pending_seconds=audit_state.oldest_pending_seconds,
            exported_size=audit_state.exported_size,
            skipped_checkpoint_rows=audit_state.skipped_checkpoint_rows,
        ),
    )


def create_app(
    settings: Settings,
    *,
    keys: KeySet,
    engine: Engine | None = None,
    run_sequencer: bool = True,
    run_consent_sweep: bool = True,
    second_factor_required: bool | None = None,
    env: Mapping[str, str] | None = None,
    freeze_heap: bool = False,
    keep_planner_statistics: bool = False,
) -> FastAPI:
    """`run_sequencer=False` leaves audit integration to the caller (tests call it directly), as
    `run_consent_sweep=False` does the consent sweep; `second_factor_required` overrides the
    settings for tests that are not about logging in; `env` holds the OpenID client secrets
    (default: the process environment); `freeze_heap`: `freeze_startup_heap` when the app
    starts, for a server process that runs this one app (`samsyn run`), never in tests;
    `keep_planner_statistics`: SQLite's query planner statistics refreshed in the background
    while the app runs (`samsyn run`; tests leave the database to themselves).
    Production never runs the demo or without the second factor, whatever the caller passes
    (settings can be built around their validation)."""
    if settings.is_production and (settings.demo or second_factor_required is False):
        raise ValueError("production refuses the demo and a login without a second factor")
    if settings.is_production and not settings.second_factor_required:
        raise ValueError("production refuses a login without a second factor")
    federation = Federation(settings.oidc_issuer_configs(os.environ if env is None else env))
    install_runtime(settings, keys)
    engine = engine or make_engine(settings.resolved_database_url)

    def new_sequencer() -> Sequencer:
        return Sequencer(
            engine,
            log_signer(settings, keys),
            interval=settings.audit_sequencer_interval_ms / 1000,
            export_dir=settings.audit_export_dir,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A fresh one per start (a thread starts once); /healthz reads the current one.
        sequencer = app.state.sequencer = new_sequencer()
        sweeper = consent_sweeper(engine, interval=settings.consent_sweep_interval_seconds)
        sweeping = run_consent_sweep and settings.consent_sweep_interval_seconds > 0
        planner = planner_statistics_keeper(engine)
        if freeze_heap:
            freeze_startup_heap()
        if run_sequencer:
            sequencer.start()
        if sweeping:
            sweeper.start()
        if keep_planner_statistics:
            planner.start()
        try:
            yield
        finally:
            if keep_planner_statistics:
                planner.stop()
            if sweeping:
                sweeper.stop()
            if run_sequencer:
                sequencer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Samsyn API",
        version="1",
        description=(
            "Case coordination for SSPF and SIG. Authenticate with a bearer token from "
            "`POST /api/v1/auth/token`. Records outside your scope answer 404, like missing ones."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.keys = keys
    app.state.engine = engine
    app.state.log_signer = log_signer(settings, keys)
    app.state.sequencer = new_sequencer()  # replaced at each start; idle until then
    app.state.statistics = bind_statistics(keys)  # issue 14: the follow-up report's figures
    app.state.second_factor_required = (
        settings.second_factor_required
        if second_factor_required is None
        else second_factor_required
    )
    app.state.federation = federation
    app.state.api_token_policy = SessionPolicy(
        idle=timedelta(minutes=settings.api_token_idle_minutes),
        absolute=timedelta(minutes=settings.api_token_absolute_minutes),
    )
    app.state.pages = PageConfig(
        keys=keys,
        session_policy=SessionPolicy(
            idle=settings.browser_session_idle, absolute=settings.browser_session_absolute
        ),
        secure_cookies=settings.secure_cookies,
        demo=settings.demo,
        second_factor_required=app.state.second_factor_required,
        federation=federation,
        public_url=settings.public_url,
    )

    # Any operation may answer 400 (a body that does not parse), 422 (its input) and 500 (with
    # the reference to quote), all in the one error shape.
    api = APIRouter(prefix="/api/v1", responses=errors.error_responses(400, 422, 500))
    api.include_router(auth.router)
    api.include_router(people.router)
    api.include_router(cases.router)
    api.include_router(consents.router)
    api.include_router(plans.router)
    api.include_router(meetings.router)
    api.include_router(referrals.router)  # issue 13
    api.include_router(assessments.router)  # issue 13: cylinder-model assessments
    api.include_router(breakglass.router)
    api.include_router(audit.router)
    api.include_router(admin.router)  # issue 15: the administrator's API
    api.include_router(configuration_api.router)  # issue 15
    api.include_router(follow_up_api.router)  # issue 14: follow-up reports and releases
    api.include_router(agreements.router)  # issue 14: the collaboration agreement
    app.include_router(api)
    # Pages get the same per-request transaction as the API, opened before any page dependency.
    for router in (
        pages.router,
        second_factor.router,
        oidc_pages.router,
        consent_pages.router,
        meeting_pages.router,
        plan_pages.router,
        referral_pages.router,  # issue 13
        assessment_pages.router,  # issue 13
        audit_pages.router,
        admin_pages.router,  # issue 15: the administrator's pages
        follow_up_pages.router,  # issue 15: the steering group's landing page
        config_pages.router,  # issue 15
        agreement_pages.router,  # issue 14: the collaboration agreement
    ):
        app.include_router(router, dependencies=[Depends(open_db, scope="function")])

    app.add_api_route(
        "/healthz",
        health,
        methods=["GET"],
        response_model=HealthOut,
        tags=["operations"],
        responses={503: {"model": HealthOut, "description": "degraded"}},
    )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    errors.install(app)
    app.add_middleware(RequestLimit, limit=settings.max_concurrent_requests)
    app.add_middleware(RequestContextMiddleware, on_error=errors.unexpected)
    return app
