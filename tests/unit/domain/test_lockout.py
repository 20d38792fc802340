from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.auth.lockout import LockoutPolicy, refused_until

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POLICY = LockoutPolicy()


def failures(count: int, last_seconds_ago: float = 1) -> list[datetime]:
    return [NOW - timedelta(seconds=last_seconds_ago + i) for i in range(count)]


def test_two_failures_cost_nothing() -> None:
    assert (
        refused_until(account_failures=failures(2), address_failures=[], now=NOW, policy=POLICY)
        is None
    )


def test_backoff_doubles_from_the_third_failure() -> None:
    for count, delay in ((3, 2), (4, 4)):
        until = refused_until(
            account_failures=failures(count, 0), address_failures=[], now=NOW, policy=POLICY
        )
        assert until == NOW + timedelta(seconds=delay)


def test_backoff_is_over_once_waited() -> None:
    assert (
        refused_until(account_failures=failures(3, 5), address_failures=[], now=NOW, policy=POLICY)
        is None
    )


def test_fifth_failure_locks_the_name_for_the_lock_period() -> None:
    until = refused_until(
        account_failures=failures(5, 0), address_failures=[], now=NOW, policy=POLICY
    )
    assert until == NOW + POLICY.lock_for


def test_many_failures_from_one_address_lock_it_whatever_the_names() -> None:
    until = refused_until(
        account_failures=[], address_failures=failures(20, 0), now=NOW, policy=POLICY
    )
    assert until == NOW + POLICY.lock_for
    assert (
        refused_until(account_failures=[], address_failures=failures(19, 0), now=NOW, policy=POLICY)
        is None
    )
