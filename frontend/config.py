"""What the pages need from the application, set by the app factory on `app.state.pages`."""

from __future__ import annotations

from dataclasses import dataclass

from common.keys import KeySet
from domain.auth.service import SessionPolicy


@dataclass(frozen=True)
class PageConfig:
    keys: KeySet
    session_policy: SessionPolicy
    secure_cookies: bool
    demo: bool
    second_factor_required: bool
