"""Backoff and lockout after failed logins, per account name and per client address. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    window: timedelta = timedelta(minutes=15)
    account_failures: int = 5  # then the name is locked for `lock_for`
    address_failures: int = 20  # then the client address is locked for `lock_for`
    lock_for: timedelta = timedelta(minutes=15)
    backoff_after: int = 2  # from the third failure on, wait 2, 4, 8 … seconds between tries
    max_backoff: timedelta = timedelta(seconds=60)


def refused_until(
    *,
    account_failures: Sequence[datetime],
    address_failures: Sequence[datetime],
    now: datetime,
    policy: LockoutPolicy,
) -> datetime | None:
    """When the next attempt may be made, if not now. `account_failures` are the name's failed
    attempts since its last success; both lists hold only attempts within `policy.window`."""
    candidates = []
    if len(account_failures) >= policy.account_failures:
        candidates.append(max(account_failures) + policy.lock_for)
    elif len(account_failures) > policy.backoff_after:
        delay = timedelta(seconds=2 ** (len(account_failures) - policy.backoff_after))
        candidates.append(max(account_failures) + min(delay, policy.max_backoff))
    if len(address_failures) >= policy.address_failures:
        candidates.append(max(address_failures) + policy.lock_for)
    until = max(candidates, default=None)
    return until if until is not None and until > now else None
