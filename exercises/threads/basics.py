"""Starting and joining threads, and I/O-bound work that threads make faster."""

import threading  # noqa: F401  (you will need it)
from collections.abc import Callable
from typing import Any


def start_and_join(target: Callable[[int], Any], count: int) -> None:
    """Run target(0), target(1), ..., target(count - 1), each in its own thread, and return when all are done."""
    # TODO(task 1): start `count` threads, each calling target(i), then wait for every one of them to finish.
    raise NotImplementedError("task 1")


def fetch_all(fetch: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """Return [fetch(item) for item in items], with the slow, blocking fetches running at the same time."""
    # TODO(task 4): call fetch(item) for every item in its own thread; results[i] must be fetch(items[i]).
    raise NotImplementedError("task 4")
