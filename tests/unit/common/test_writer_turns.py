"""SQLite writers of one process take turns in the order they arrive."""

from __future__ import annotations

import threading

from common.db import WriterTurns


def test_turns_go_in_arrival_order() -> None:
    turns = WriterTurns()
    assert turns.take(timeout=1)
    served: list[int] = []
    threads = []
    for number in range(5):
        ready = threading.Event()

        def wait_for_turn(number: int = number, ready: threading.Event = ready) -> None:
            ready.set()
            assert turns.take(timeout=10)
            served.append(number)
            turns.give_up()

        thread = threading.Thread(target=wait_for_turn)
        thread.start()
        ready.wait()
        # Make sure this writer is in line before the next one arrives.
        while len(turns._waiting) < number + 1:
            threading.Event().wait(0.001)
        threads.append(thread)
    turns.give_up()
    for thread in threads:
        thread.join()
    assert served == [0, 1, 2, 3, 4]


def test_a_writer_that_waited_too_long_leaves_the_line() -> None:
    turns = WriterTurns()
    assert turns.take(timeout=1)
    assert not turns.take(timeout=0.01)
    assert not turns._waiting
    turns.give_up()
    assert turns.take(timeout=0.01)  # free again: the one who left is not handed the turn
