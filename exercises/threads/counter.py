"""A counter that many threads increment at once (the outline's `a += 1` race)."""

import threading  # noqa: F401  (you will need it)


class Counter:
    def __init__(self) -> None:
        self.value = 0
        # TODO(task 2): create here the one lock that every call to increment() will share.

    def increment(self) -> None:
        # TODO(task 2): this read-add-write can interleave with another thread's; hold the lock around it.
        self.value += 1
