"""A counter that many threads increment at once (the outline's `a += 1` race)."""

import threading


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()  # one lock for the counter, shared by every thread

    def increment(self) -> None:
        with self._lock:
            self.value += 1
