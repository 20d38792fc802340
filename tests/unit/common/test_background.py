"""`common.background.Periodic`: when the next round comes, on a clock the test moves."""

from __future__ import annotations

import pytest

from common.background import Periodic


class _Stop:
    """Stands in for the thread's stop event: records each wait and lets the clock run through
    it; stops after `rounds` waits."""

    def __init__(self, rounds: int, now: list[float]) -> None:
        self.rounds = rounds
        self.now = now
        self.waits: list[float] = []

    def is_set(self) -> bool:
        return len(self.waits) >= self.rounds

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        self.now[0] += timeout
        return self.is_set()


def _run(
    monkeypatch: pytest.MonkeyPatch, interval: float, takes: list[tuple[float, bool]], rounds: int
) -> tuple[list[float], list[float]]:
    """Run the job's loop in this thread: each call of the work takes (seconds, more to do)
    from `takes`. The moments the work was called, and the waits between rounds."""
    now = [0.0]
    monkeypatch.setattr("time.monotonic", lambda: now[0])
    calls: list[float] = []
    remaining = iter(takes)

    def work() -> bool:
        calls.append(now[0])
        seconds, more = next(remaining)
        now[0] += seconds
        return more

    job = Periodic("test", interval, work)
    stop = _Stop(rounds, now)
    job._stop = stop  # type: ignore[assignment]
    job._run()
    return calls, stop.waits


def test_the_interval_counts_from_the_start_of_one_round_to_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls, waits = _run(monkeypatch, 0.2, [(0.15, False), (0.05, False)], rounds=2)
    assert calls == [0.0, pytest.approx(0.2)]
    assert waits == [pytest.approx(0.05), pytest.approx(0.15)]


def test_a_round_longer_than_the_interval_is_followed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, waits = _run(monkeypatch, 0.2, [(0.5, False)], rounds=1)
    assert waits == [0.0]


def test_more_to_do_calls_the_work_again_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, waits = _run(monkeypatch, 1.0, [(0.25, True), (0.25, True), (0.25, False)], rounds=1)
    assert calls == [0.0, 0.25, 0.5]
    assert waits == [pytest.approx(0.75)]  # counted from the start of the last call
