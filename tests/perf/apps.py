"""App factories for ``uvicorn --factory`` in the read benchmarks: the real app, and the same
app with audit writing switched off, as the baseline that shows what auditing costs.

Configured from the environment like production (`Settings()`, keys from `SAMSYN_KEY_DIR`);
the benchmark sets every variable. Both refuse to start unless ``SAMSYN_PERF_BENCH=1``, so
an unaudited Samsyn cannot be started by accident, and never in production.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from fastapi import FastAPI
from sqlmodel import Session

from api.logging import configure_logging
from api.main import create_app, load_app_keys
from api.settings import Settings
from audit import log as audit_log
from audit.models import Outcome
from common.actor import Actor


def _build(*, run_sequencer: bool = True) -> FastAPI:
    if os.environ.get("SAMSYN_PERF_BENCH") != "1":
        raise RuntimeError("tests.perf.apps is for the benchmark only (SAMSYN_PERF_BENCH=1)")
    settings = Settings()
    if settings.is_production:
        raise RuntimeError("tests.perf.apps never runs in production")
    configure_logging(json=False, level=settings.log_level)
    keys = load_app_keys(settings, dict(os.environ))
    # The clients log in once for a token; the benchmark is about reads, not second factors.
    return create_app(
        settings,
        keys=keys,
        run_sequencer=run_sequencer,
        second_factor_required=False,
        freeze_heap=True,  # as `samsyn run` serves it
    )


def audited() -> FastAPI:
    """The application as it ships, with its sequencer thread."""
    return _build()


def audited_without_sequencer() -> FastAPI:
    """Audited, but no sequencer thread: a diagnostic that separates what the requests' own
    audit writes cost from what integrating them costs (events stay unintegrated)."""
    return _build(run_sequencer=False)


def _not_recorded(
    session: Session,
    actor: Actor | None,
    *,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    case_id: uuid.UUID | None = None,
    outcome: Outcome = Outcome.ALLOWED,
    basis: dict[str, Any] | None = None,
    user_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """The no-op stand-in for `audit.log.record`: nothing is added to the session or flushed.

    It returns a fresh id only because callers are typed to get one back.
    """
    return uuid.uuid4()


def unaudited() -> FastAPI:
    """The same application with `audit.log.record` replaced by a no-op (benchmark only).

    Every caller reaches it as ``audit.record`` through the module, so replacing the module
    attribute before the app is built switches off every audit write in this process.
    """
    audit_log.record = _not_recorded
    return _build()
