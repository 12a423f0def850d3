"""The outline's producer and consumer as classes: each one a threading.Thread whose run() does the work."""

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

from pipeline import STOP  # noqa: F401  (the same sentinel as in pipeline.py)


class Producer(threading.Thread):
    """A thread that puts every item into q, in order, then one STOP for each consumer."""

    def __init__(self, q: queue.Queue, items: Iterable[Any], consumers: int = 1) -> None:
        # TODO(task 5): call super().__init__() first, then keep q, items and consumers on self.
        raise NotImplementedError("task 5")

    def run(self) -> None:
        # TODO(task 5): put every item into self.q, then STOP once for each consumer.
        raise NotImplementedError("task 5")


class Consumer(threading.Thread):
    """A thread that takes items from q and calls handle(item) on each, until it takes a STOP."""

    def __init__(self, q: queue.Queue, handle: Callable[[Any], Any]) -> None:
        # TODO(task 5): call super().__init__() first, then keep q and handle on self.
        raise NotImplementedError("task 5")

    def run(self) -> None:
        # TODO(task 5): loop on self.q.get(); return at STOP (compare with `is`), else self.handle(item).
        raise NotImplementedError("task 5")


def run_threads(items: Iterable[Any], handle: Callable[[Any], Any], consumers: int, maxsize: int) -> None:
    """Run one Producer and `consumers` Consumers on one queue.Queue(maxsize); return when all have ended."""
    # TODO(task 5): make the queue and the threads, start() every one of them, then join() every one.
    raise NotImplementedError("task 5")
