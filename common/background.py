"""A job repeated on a daemon thread: the audit sequencer and the consent sweep run this way."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger("samsyn.background")


class Periodic:
    """Calls `work` at once and then every `interval` seconds until `stop`, counted from the
    start of one call to the start of the next (a call that took longer is followed at once).
    A failing round is logged (by exception type only: messages may carry data) and the next
    round tries again; `work` returning True means "more to do", and it is called again
    without waiting."""

    def __init__(self, name: str, interval: float, work: Callable[[], bool]) -> None:
        self._name = name
        self._interval = interval
        self._work = work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                while self._work() and not self._stop.is_set():
                    began = time.monotonic()
            except Exception as exc:
                log.error("background_job_failed", job=self._name, error_type=type(exc).__name__)
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - began)))
