"""What a queue says about itself (qsize, empty, full), and why a decision must not rest on it."""

import queue
import threading
from collections.abc import Callable
from typing import Any


def report(q: Any) -> dict:
    """How the queue looks right now: {"size": q.qsize(), "empty": q.empty(), "full": q.full()}."""
    # Only the queue's methods: a Manager().Queue proxy has no .queue and no .maxsize, and a Queue() without
    # maxsize is never full, which full() knows and `qsize() == maxsize` does not.
    return {"size": q.qsize(), "empty": q.empty(), "full": q.full()}


def drain(q: queue.Queue, handle: Callable[[Any], Any], consumers: int) -> None:
    """Take every item already in q, in `consumers` threads at once, calling handle(item) on each; return when
    the queue is empty and every consumer thread has ended. Nothing more is put while drain runs."""

    def take() -> None:
        while True:
            try:
                item = q.get_nowait()  # take or learn that there is none, in one step no one can overtake
            except queue.Empty:
                return
            handle(item)

    threads = [threading.Thread(target=take) for _ in range(consumers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
