"""Rendering pages: Jinja2 with the labels, the actor and a CSRF token in every context."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from common.actor import Actor
from common.clock import STOCKHOLM, today
from common.roles import AGENCY_KIND_LABELS, ROLE_LABELS, AgencyKind, Permission, Role
from consent.models import TEAM_ROLE_LABELS, TeamRole
from consent.rules import CATEGORY_LABELS, MOVE_REASON_LABELS
from domain.cases.rules import OUTCOME_LABELS, STATE_LABELS, CaseState, Outcome
from domain.meetings.rules import MEETING_KIND_LABELS
from domain.people.models import GENDER_LABELS, Gender
from domain.people.personnummer import age_on
from frontend import csrf
from frontend.config import PageConfig
from frontend.labels import action_label, basis_label

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _local_time(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def _local_clock(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(STOCKHOLM).strftime("%H:%M")


def _local_date(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(STOCKHOLM).date()
    return value.isoformat()


def _label(mapping: dict[Any, str], value: str | None) -> str:
    if value is None:
        return ""
    for key, label in mapping.items():
        if key == value:
            return label
    return value


TEMPLATES.env.filters["local_time"] = _local_time
TEMPLATES.env.filters["local_date"] = _local_date
TEMPLATES.env.filters["local_clock"] = _local_clock
TEMPLATES.env.filters["state_label"] = lambda v: _label(STATE_LABELS, v)
TEMPLATES.env.filters["outcome_label"] = lambda v: _label(OUTCOME_LABELS, v)
TEMPLATES.env.filters["gender_label"] = lambda v: _label(GENDER_LABELS, v)
TEMPLATES.env.filters["meeting_kind_label"] = lambda v: _label(MEETING_KIND_LABELS, v)
TEMPLATES.env.filters["role_label"] = lambda v: _label(ROLE_LABELS, v)
TEMPLATES.env.filters["team_role_label"] = lambda v: _label(TEAM_ROLE_LABELS, v)
TEMPLATES.env.filters["agency_kind_label"] = lambda v: _label(AGENCY_KIND_LABELS, v)
TEMPLATES.env.globals.update(
    CaseState=CaseState,
    Outcome=Outcome,
    Gender=Gender,
    Role=Role,
    TeamRole=TeamRole,
    AgencyKind=AgencyKind,
    Permission=Permission,
    STATE_LABELS=STATE_LABELS,
    OUTCOME_LABELS=OUTCOME_LABELS,
    GENDER_LABELS=GENDER_LABELS,
    category_labels=CATEGORY_LABELS,
)
TEMPLATES.env.filters["age"] = lambda born: age_on(born, today())
TEMPLATES.env.filters["basis_label"] = basis_label
TEMPLATES.env.filters["action_label"] = action_label
TEMPLATES.env.filters["move_reason_label"] = lambda reason: _label(MOVE_REASON_LABELS, reason)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    actor: Actor | None = None,
) -> HTMLResponse:
    config: PageConfig = request.app.state.pages
    full = {
        "actor": actor if actor is not None else getattr(request.state, "actor", None),
        "user_name": getattr(request.state, "user_name", None),
        "demo": config.demo,
        "csrf_token": csrf.token_for(request),
        "oidc_issuers": config.federation.buttons(),
        **(context or {}),
    }
    response = TEMPLATES.TemplateResponse(request, template, full, status_code=status)
    csrf.ensure_pre_session_cookie(request, response)
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """A local path to go on to after login; anything else (another site) becomes "/"."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        # Browsers drop tabs and newlines from URLs: "/\t/evil.example" would become "//…".
        and all(" " < c != "\x7f" for c in target)
    ):
        return target
    return "/"
