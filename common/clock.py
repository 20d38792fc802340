"""The one source of 'now'. Tests replace it with `set_clock`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def utcnow() -> datetime:
    return _now()


def today() -> date:
    """Today's date in Stockholm, where the people using Samsyn are."""
    return utcnow().astimezone(STOCKHOLM).date()


def set_clock(now: Callable[[], datetime]) -> None:
    global _now
    _now = now


def reset_clock() -> None:
    set_clock(lambda: datetime.now(UTC))


@contextmanager
def stopped_at(moment: datetime) -> Iterator[None]:
    """'Now' is `moment` inside the block, and whatever it was before after it. For building
    a synthetic past (the demo's earlier years), never for serving requests."""
    global _now
    before = _now
    _now = lambda: moment  # noqa: E731
    try:
        yield
    finally:
        _now = before


def ensure_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
