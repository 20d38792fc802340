"""What the pages need from the application, set by the app factory on `app.state.pages`."""

from __future__ import annotations

from dataclasses import dataclass, field

from common.keys import KeySet
from domain.auth.oidc import Federation
from domain.auth.service import SessionPolicy


@dataclass(frozen=True)
class PageConfig:
    keys: KeySet
    session_policy: SessionPolicy
    secure_cookies: bool
    demo: bool
    second_factor_required: bool
    federation: Federation = field(default_factory=Federation)
    public_url: str | None = None  # where browsers reach Samsyn, for OpenID redirect URIs
