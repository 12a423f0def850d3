"""The outline's producer and consumer as classes: each one a threading.Thread whose run() does the work."""

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

from pipeline import STOP


class Producer(threading.Thread):
    """A thread that puts every item into q, in order, then one STOP for each consumer."""

    def __init__(self, q: queue.Queue, items: Iterable[Any], consumers: int = 1) -> None:
        super().__init__()  # first: Thread.__init__ sets up the thread that start() will run
        self.q = q
        self.items = items
        self.consumers = consumers

    def run(self) -> None:
        # start() calls this in the new thread; calling producer.run() yourself would run it in yours
        for item in self.items:
            self.q.put(item)
        for _ in range(self.consumers):
            self.q.put(STOP)


class Consumer(threading.Thread):
    """A thread that takes items from q and calls handle(item) on each, until it takes a STOP."""

    def __init__(self, q: queue.Queue, handle: Callable[[Any], Any]) -> None:
        super().__init__()
        self.q = q
        self.handle = handle

    def run(self) -> None:
        while True:
            item = self.q.get()
            if item is STOP:  # `is`, not `not item`: 0 and "" are items like any other
                return
            self.handle(item)


def run_threads(items: Iterable[Any], handle: Callable[[Any], Any], consumers: int, maxsize: int) -> None:
    """Run one Producer and `consumers` Consumers on one queue.Queue(maxsize); return when all have ended."""
    q: queue.Queue = queue.Queue(maxsize)
    threads: list[threading.Thread] = [Producer(q, items, consumers)]
    threads += [Consumer(q, handle) for _ in range(consumers)]
    for thread in threads:
        thread.start()  # every thread runs at once: the producer waits in put() only while the queue is full
    for thread in threads:
        thread.join()
